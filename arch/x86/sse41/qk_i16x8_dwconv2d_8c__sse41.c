/* 16x8 DepthwiseConv2D, SSE4.1, 8 channels per group: bit-exact with qk_ref_dwconv2d_i16x8
 * (SPEC.md §5, MBQM64 of §1.5) for any kernel, stride, dilation, padding and depth multiplier;
 * 3x3 with stride 1 or 2 and multiplier 1 has its own loop (../i16x8_dw_loops.h).
 *
 * Per tap: one 16-byte load of 8 int16 inputs and two pmaddwd against the even- and odd-lane
 * weight vectors (../i16x8_dw_pack.h), added into two int32 accumulators (exact up to 511 taps).
 * Requantization: SSE has no per-lane shift counts, so the group shares one count T (the packing's
 * uniform mode scales each lane's multiplier and Bl to it). Four pmuldq + Bl give P; then
 *   T == 32 (every t in [16, 32], the usual case): the result is P's high dword, picked by shufps;
 *   T > 32: the high dwords shifted right arithmetically by T - 32;
 *   T < 32: psrlq by T and the low dwords (exact in the low 32 bits for any sign since T <= 32).
 * + Bh, packssdw, pshufb to channel order, clamp in int16. Groups whose shifts spread over more
 * than 16 (flagged at pack time) are requantized lane by lane in scalar. With C < 8 the loads and
 * the store go through a stack buffer, so nothing past the tensors is touched. */
#include <smmintrin.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "../i16x8_dw_pack.h"
#include "variants.h"

#define DW_VL 8
#define DW_MODE QK_DW16_UNIFORM
#define DW_NAME(s) qk_i16x8_dwconv2d_8c__sse41_##s
#define DW_INLINE static inline __attribute__((always_inline))
#define DW_PAIR 0 /* one pixel at a time: two would spill the 16 vector registers */

typedef struct dw_acc {
  __m128i e, o;
} dw_acc;

#define DW_LD(p) _mm_load_si128((const __m128i *)(const void *)(p))

DW_INLINE void dw_zero(dw_acc *a) { a->e = a->o = _mm_setzero_si128(); }
DW_INLINE void dw_begin(dw_acc *a, const uint8_t *g) {
  (void)g;
  dw_zero(a);
}

/* n < 8 only when C < 8: copy the valid lanes, the rest stay 0. Out of line, so the
 * common path keeps x in a register. */
static __attribute__((noinline)) __m128i dw_load_narrow(const int16_t *x, size_t n) {
  _Alignas(16) int16_t buf[DW_VL] = {0};
  memcpy(buf, x, n * sizeof *x);
  return DW_LD(buf);
}

DW_INLINE __m128i dw_load(const int16_t *x, size_t n) {
  return n >= DW_VL ? _mm_loadu_si128((const __m128i *)(const void *)x) : dw_load_narrow(x, n);
}

/* madd, then add: the add chain has latency 1, so one accumulator pair suffices. */
DW_INLINE void dw_mac(dw_acc *a, const int16_t *x, const uint8_t *w, size_t n, int t) {
  (void)t;
  const __m128i v = dw_load(x, n);
  a->e = _mm_add_epi32(a->e, _mm_madd_epi16(v, DW_LD(w)));
  a->o = _mm_add_epi32(a->o, _mm_madd_epi16(v, DW_LD(w + 16)));
}

DW_INLINE void dw_lanes(const dw_acc *a, int32_t out[DW_VL]) {
  _Alignas(16) int32_t e[4], o[4];
  _mm_store_si128((__m128i *)(void *)e, a->e);
  _mm_store_si128((__m128i *)(void *)o, a->o);
  for (int j = 0; j < 4; j++) out[2 * j] = e[j], out[2 * j + 1] = o[j];
}

DW_INLINE __m128i dw_pick(__m128i a, __m128i b, bool high) {
  const __m128 fa = _mm_castsi128_ps(a), fb = _mm_castsi128_ps(b);
  return _mm_castps_si128(high ? _mm_shuffle_ps(fa, fb, _MM_SHUFFLE(3, 1, 3, 1))
                               : _mm_shuffle_ps(fa, fb, _MM_SHUFFLE(2, 0, 2, 0)));
}

DW_INLINE void dw_out(const dw_acc *a, const uint8_t *g, const qk_dw16_ctx *k, size_t cs, size_t m, int16_t *dst,
                      size_t n) {
  const int32_t *hdr = (const int32_t *)(const void *)g;
  if (hdr[1]) {
    int32_t l32[DW_VL];
    int64_t l64[DW_VL];
    dw_lanes(a, l32);
    for (int i = 0; i < DW_VL; i++) l64[i] = l32[i];
    qk_dw16_scalar_out(k, l64, cs, m, dst, n);
    return;
  }
  const int T = hdr[0];
  const uint8_t *rm = g + qk_dw16_off_rm(), *bl = g + qk_dw16_off_bl(DW_VL), *bh = g + qk_dw16_off_bh(DW_VL);
  __m128i p0 = _mm_add_epi64(_mm_mul_epi32(a->e, DW_LD(rm)), DW_LD(bl));
  __m128i p1 = _mm_add_epi64(_mm_mul_epi32(_mm_srli_epi64(a->e, 32), DW_LD(rm + 16)), DW_LD(bl + 16));
  __m128i p2 = _mm_add_epi64(_mm_mul_epi32(a->o, DW_LD(rm + 32)), DW_LD(bl + 32));
  __m128i p3 = _mm_add_epi64(_mm_mul_epi32(_mm_srli_epi64(a->o, 32), DW_LD(rm + 48)), DW_LD(bl + 48));
  __m128i ra, rb;
  if (T == 32) {
    ra = dw_pick(p0, p2, true);
    rb = dw_pick(p1, p3, true);
  } else if (T > 32) {
    const __m128i c = _mm_cvtsi32_si128(T - 32);
    ra = _mm_sra_epi32(dw_pick(p0, p2, true), c);
    rb = _mm_sra_epi32(dw_pick(p1, p3, true), c);
  } else {
    const __m128i c = _mm_cvtsi32_si128(T);
    ra = dw_pick(_mm_srl_epi64(p0, c), _mm_srl_epi64(p2, c), false);
    rb = dw_pick(_mm_srl_epi64(p1, c), _mm_srl_epi64(p3, c), false);
  }
  ra = _mm_add_epi32(ra, DW_LD(bh));
  rb = _mm_add_epi32(rb, DW_LD(bh + 16));
  const __m128i order = _mm_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15);
  __m128i v = _mm_shuffle_epi8(_mm_packs_epi32(ra, rb), order);
  v = _mm_min_epi16(_mm_max_epi16(v, _mm_set1_epi16((int16_t)k->lo)), _mm_set1_epi16((int16_t)k->hi));
  if (n >= DW_VL) {
    _mm_storeu_si128((__m128i *)(void *)dst, v);
  } else {
    _Alignas(16) int16_t buf[DW_VL];
    _mm_store_si128((__m128i *)(void *)buf, v);
    memcpy(dst, buf, n * sizeof *dst);
  }
}

#include "../i16x8_dw_loops.h"
