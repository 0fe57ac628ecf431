/* 16x8 DepthwiseConv2D, AVX-512 VNNI, 32 channels per group: bit-exact with qk_ref_dwconv2d_i16x8
 * (SPEC.md §5, MBQM64 of §1.5) for any kernel, stride, dilation, padding and depth multiplier;
 * 3x3 with stride 1 or 2 and multiplier 1 has its own loop (../i16x8_dw_loops.h).
 *
 * Per tap: one 64-byte load of 32 int16 inputs and two vpdpwssd against the even- and odd-lane
 * weight vectors (../i16x8_dw_pack.h): each dword gains one exact int16 x int16 product (the other
 * word of the weight pair is 0), so the non-saturating VNNI add is the plain int32 sum, exact up to
 * 511 taps. Requantization: four vpmuldq of the accumulators' even and odd dwords by the reduced
 * multiplier, + Bl, vpsravq by each lane's t (a true arithmetic shift, no bias needed), shufps to
 * pick the low dwords, + Bh, packssdw, pshufb to channel order, clamp in int16. With C < 32 the
 * single group uses masked loads and a masked store, which never touch the masked-out bytes. */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "../i16x8_dw_pack.h"
#include "variants.h"

#define DW_VL 32
#define DW_MODE QK_DW16_SRAV
#define DW_NAME(s) qk_i16x8_dwconv2d_32c__avx512vnni_##s
#define DW_INLINE static inline __attribute__((always_inline))
#define DW_PAIR 1 /* two pixels per step: 32 registers hold both accumulator sets */

/* vpdpwssd has a latency of several cycles: even and odd taps go to separate chains (e0/o0 and
 * e1/o1), merged before requantization. */
typedef struct dw_acc {
  __m512i e0, o0, e1, o1;
} dw_acc;

#define DW_LD(p) _mm512_load_si512((const void *)(p))

DW_INLINE __mmask32 dw_mask(size_t n) { return n >= 32 ? ~(__mmask32)0 : ((__mmask32)1 << n) - 1; }

DW_INLINE void dw_zero(dw_acc *a) { a->e0 = a->o0 = a->e1 = a->o1 = _mm512_setzero_si512(); }

/* Out of line, so the common path keeps x in a register. */
static __attribute__((noinline)) __m512i dw_load_narrow(const int16_t *x, size_t n) {
  return _mm512_maskz_loadu_epi16(dw_mask(n), x);
}

DW_INLINE void dw_mac(dw_acc *a, const int16_t *x, const uint8_t *w, size_t n, int t) {
  const __m512i v = n >= DW_VL ? _mm512_loadu_si512((const void *)x) : dw_load_narrow(x, n);
  if (t & 1) {
    a->e1 = _mm512_dpwssd_epi32(a->e1, v, DW_LD(w));
    a->o1 = _mm512_dpwssd_epi32(a->o1, v, DW_LD(w + 64));
  } else {
    a->e0 = _mm512_dpwssd_epi32(a->e0, v, DW_LD(w));
    a->o0 = _mm512_dpwssd_epi32(a->o0, v, DW_LD(w + 64));
  }
}

/* The two chains' sum stays exact: at most 511 taps in all (i16x8_dw_pack.h). */
DW_INLINE __m512i dw_even(const dw_acc *a) { return _mm512_add_epi32(a->e0, a->e1); }
DW_INLINE __m512i dw_odd(const dw_acc *a) { return _mm512_add_epi32(a->o0, a->o1); }

DW_INLINE void dw_lanes(const dw_acc *a, int32_t out[DW_VL]) {
  _Alignas(64) int32_t e[16], o[16];
  _mm512_store_si512((void *)e, dw_even(a));
  _mm512_store_si512((void *)o, dw_odd(a));
  for (int j = 0; j < 16; j++) out[2 * j] = e[j], out[2 * j + 1] = o[j];
}

DW_INLINE __m512i dw_pick(__m512i a, __m512i b) {
  return _mm512_castps_si512(_mm512_shuffle_ps(_mm512_castsi512_ps(a), _mm512_castsi512_ps(b), _MM_SHUFFLE(2, 0, 2, 0)));
}

DW_INLINE void dw_out(const dw_acc *a, const uint8_t *g, const qk_dw16_ctx *k, size_t cs, size_t m, int16_t *dst,
                      size_t n) {
  (void)cs, (void)m;
  const uint8_t *rm = g + qk_dw16_off_rm(), *bl = g + qk_dw16_off_bl(DW_VL), *ts = g + qk_dw16_off_ts(DW_VL);
  const uint8_t *bh = g + qk_dw16_off_bh(DW_VL);
  const __m512i e = dw_even(a), o = dw_odd(a);
  __m512i p0 = _mm512_mul_epi32(e, DW_LD(rm));
  __m512i p1 = _mm512_mul_epi32(_mm512_srli_epi64(e, 32), DW_LD(rm + 64));
  __m512i p2 = _mm512_mul_epi32(o, DW_LD(rm + 128));
  __m512i p3 = _mm512_mul_epi32(_mm512_srli_epi64(o, 32), DW_LD(rm + 192));
  p0 = _mm512_srav_epi64(_mm512_add_epi64(p0, DW_LD(bl)), DW_LD(ts));
  p1 = _mm512_srav_epi64(_mm512_add_epi64(p1, DW_LD(bl + 64)), DW_LD(ts + 64));
  p2 = _mm512_srav_epi64(_mm512_add_epi64(p2, DW_LD(bl + 128)), DW_LD(ts + 128));
  p3 = _mm512_srav_epi64(_mm512_add_epi64(p3, DW_LD(bl + 192)), DW_LD(ts + 192));
  const __m512i ra = _mm512_add_epi32(dw_pick(p0, p2), DW_LD(bh));
  const __m512i rb = _mm512_add_epi32(dw_pick(p1, p3), DW_LD(bh + 64));
  const __m512i order = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15));
  __m512i v = _mm512_shuffle_epi8(_mm512_packs_epi32(ra, rb), order);
  v = _mm512_min_epi16(_mm512_max_epi16(v, _mm512_set1_epi16((int16_t)k->lo)), _mm512_set1_epi16((int16_t)k->hi));
  if (n >= DW_VL) _mm512_storeu_si512((void *)dst, v);
  else _mm512_mask_storeu_epi16(dst, dw_mask(n), v);
}

#include "../i16x8_dw_loops.h"
