/* 16x8 DepthwiseConv2D, AVX-VNNI, 16 channels per group: bit-exact with qk_ref_dwconv2d_i16x8
 * (SPEC.md §5, MBQM64 of §1.5) for any kernel, stride, dilation, padding and depth multiplier;
 * 3x3 with stride 1 or 2 and multiplier 1 has its own loop (../i16x8_dw_loops.h).
 *
 * The AVX2 variant's packed layout and requantization (../i16x8_dw_pack.h, SRLV mode), with the
 * products taken by the VEX-encoded vpdpwssd: per tap one 32-byte load of 16 int16 inputs and two
 * vpdpwssd against the even- and odd-lane weight vectors, where vpmaddwd + vpaddd took four
 * instructions. Each weight vector holds w in one word of a pair and 0 in the other, so every
 * dword gains exactly one product per tap.
 *
 * Flush bound: |x w| <= 32768 * 128 = 2^22 per tap and per dword, the largest positive product
 * being (-32768) * (-128) = +2^22. n taps stay exact in int32 while n * 2^22 <= 2^31 - 1, i.e.
 * n <= 511 (512 all-worst taps reach +2^31 and wrap: vpdpwssd is the non-saturating form, so a
 * wrap would go unnoticed). Kernels of at most QK_DW16_MAX_TAPS32 = 511 taps are summed in int32
 * throughout (a 16x16 or 17x17 kernel, 256 or 289 taps, needs no flush); longer ones are summed
 * in runs of QK_DW16_CHUNK = 256 taps widened to int64 (dw_general). The two accumulator chains
 * below split the taps of one sum, so their int32 sum is that sum, exact by the same bound.
 *
 * vpdpwssd sits on the accumulator chain with its full latency (vpaddd added 1 cycle): in the
 * unrolled 3x3 loops, where the tap index is a constant, even and odd taps go to separate chains.
 * In the general loop the index is a run-time value and one chain is kept (a branch per tap cost
 * more than it saved). Measured here against the AVX2 variant in the same run (CPU-time medians,
 * one core): 0.86-0.92x its time on MobileNetV2's 3x3 depthwise layers, 0.97x on a 5x5; two
 * pixels at a time (DW_PAIR) was slower (1.03-1.13x), as was one chain in the 3x3 loops.
 * Tails as in the AVX2 variant: groups never leave a pixel when C >= 16; with C < 16 the loads
 * and the store go through a stack buffer. */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "../i16x8_dw_pack.h"
#include "variants.h"

#define DW_VL 16
#define DW_MODE QK_DW16_SRLV
#define DW_NAME(s) qk_i16x8_dwconv2d_16c__avxvnni_##s
#define DW_INLINE static inline __attribute__((always_inline))
#define DW_PAIR 0 /* see above */

typedef struct dw_acc {
  __m256i e0, o0, e1, o1;
} dw_acc;

#define DW_LD(p) _mm256_load_si256((const __m256i *)(const void *)(p))

DW_INLINE void dw_zero(dw_acc *a) { a->e0 = a->o0 = a->e1 = a->o1 = _mm256_setzero_si256(); }
DW_INLINE void dw_begin(dw_acc *a, const uint8_t *g) {
  (void)g;
  dw_zero(a);
}

/* n < 16 only when C < 16: copy the valid lanes, the rest stay 0. Out of line, so the common
 * path keeps x in a register. */
static __attribute__((noinline)) __m256i dw_load_narrow(const int16_t *x, size_t n) {
  _Alignas(32) int16_t buf[DW_VL] = {0};
  memcpy(buf, x, n * sizeof *x);
  return DW_LD(buf);
}

DW_INLINE __m256i dw_load(const int16_t *x, size_t n) {
  return n >= DW_VL ? _mm256_loadu_si256((const __m256i *)(const void *)x) : dw_load_narrow(x, n);
}

/* __builtin_constant_p(t): 1 only where the caller's tap loop is unrolled (see above); the -O0
 * build may see 0 and use one chain, which is as exact. */
DW_INLINE void dw_mac(dw_acc *a, const int16_t *x, const uint8_t *w, size_t n, int t) {
  const __m256i v = dw_load(x, n);
  if (__builtin_constant_p(t) && (t & 1)) {
    a->e1 = _mm256_dpwssd_avx_epi32(a->e1, v, DW_LD(w));
    a->o1 = _mm256_dpwssd_avx_epi32(a->o1, v, DW_LD(w + 32));
  } else {
    a->e0 = _mm256_dpwssd_avx_epi32(a->e0, v, DW_LD(w));
    a->o0 = _mm256_dpwssd_avx_epi32(a->o0, v, DW_LD(w + 32));
  }
}

DW_INLINE __m256i dw_even(const dw_acc *a) { return _mm256_add_epi32(a->e0, a->e1); }
DW_INLINE __m256i dw_odd(const dw_acc *a) { return _mm256_add_epi32(a->o0, a->o1); }

DW_INLINE void dw_lanes(const dw_acc *a, int32_t out[DW_VL]) {
  _Alignas(32) int32_t e[8], o[8];
  _mm256_store_si256((__m256i *)(void *)e, dw_even(a));
  _mm256_store_si256((__m256i *)(void *)o, dw_odd(a));
  for (int j = 0; j < 8; j++) out[2 * j] = e[j], out[2 * j + 1] = o[j];
}

/* The AVX2 variant's requantization (../i16x8_dw_pack.h, SRLV): vpmuldq of the even and odd
 * dwords by the reduced multiplier, + Bl (carrying 2^62, so the logical shift is a floor), vpsrlvq
 * by each lane's t, the low dwords gathered by shufps, + Bh, packssdw, pshufb to channel order. */
DW_INLINE void dw_out(const dw_acc *a, const uint8_t *g, const qk_dw16_ctx *k, size_t cs, size_t m, int16_t *dst,
                      size_t n) {
  (void)cs, (void)m;
  const uint8_t *rm = g + qk_dw16_off_rm(), *bl = g + qk_dw16_off_bl(DW_VL), *ts = g + qk_dw16_off_ts(DW_VL);
  const uint8_t *bh = g + qk_dw16_off_bh(DW_VL);
  const __m256i e = dw_even(a), o = dw_odd(a);
  __m256i p0 = _mm256_mul_epi32(e, DW_LD(rm));
  __m256i p1 = _mm256_mul_epi32(_mm256_srli_epi64(e, 32), DW_LD(rm + 32));
  __m256i p2 = _mm256_mul_epi32(o, DW_LD(rm + 64));
  __m256i p3 = _mm256_mul_epi32(_mm256_srli_epi64(o, 32), DW_LD(rm + 96));
  p0 = _mm256_srlv_epi64(_mm256_add_epi64(p0, DW_LD(bl)), DW_LD(ts));
  p1 = _mm256_srlv_epi64(_mm256_add_epi64(p1, DW_LD(bl + 32)), DW_LD(ts + 32));
  p2 = _mm256_srlv_epi64(_mm256_add_epi64(p2, DW_LD(bl + 64)), DW_LD(ts + 64));
  p3 = _mm256_srlv_epi64(_mm256_add_epi64(p3, DW_LD(bl + 96)), DW_LD(ts + 96));
  __m256i ra = _mm256_castps_si256(
      _mm256_shuffle_ps(_mm256_castsi256_ps(p0), _mm256_castsi256_ps(p2), _MM_SHUFFLE(2, 0, 2, 0)));
  __m256i rb = _mm256_castps_si256(
      _mm256_shuffle_ps(_mm256_castsi256_ps(p1), _mm256_castsi256_ps(p3), _MM_SHUFFLE(2, 0, 2, 0)));
  ra = _mm256_add_epi32(ra, DW_LD(bh));
  rb = _mm256_add_epi32(rb, DW_LD(bh + 32));
  const __m256i order = _mm256_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15,
                                         0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15);
  __m256i v = _mm256_shuffle_epi8(_mm256_packs_epi32(ra, rb), order);
  v = _mm256_min_epi16(_mm256_max_epi16(v, _mm256_set1_epi16((int16_t)k->lo)), _mm256_set1_epi16((int16_t)k->hi));
  if (n >= DW_VL) {
    _mm256_storeu_si256((__m256i *)(void *)dst, v);
  } else {
    _Alignas(32) int16_t buf[DW_VL];
    _mm256_store_si256((__m256i *)(void *)buf, v);
    memcpy(dst, buf, n * sizeof *dst);
  }
}

#include "../i16x8_dw_loops.h"
