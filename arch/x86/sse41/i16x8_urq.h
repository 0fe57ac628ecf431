/* SSE4.1 MultiplyByQuantizedMultiplier (int32 x, SPEC.md §1.3 / §1.4, qk_mbqm32) with one
 * multiplier and shift for every lane: the per-tensor requantizations of the int16 Add and
 * Requantize variants. requant.h's per-channel form shifts each 64-bit lane by its own count (psrlq
 * once per lane, then blends); with a single count one psrlq / psrad per vector does, which is what
 * makes this form cheaper.
 *
 * Both roundings are one floor of a 64-bit value P + R, P = x' * m (pmuldq, exact):
 *   double: x' = x << ls (wrapping, ls = max(shift, 0)), T = 31 + rs (rs = max(-shift, 0)),
 *           R = 2^30 for rs = 0, else 2^30 + 2^(30+rs) - [P < 0] * 2^31 (SRDHM's floor followed by
 *           RDBPOT's half-away rounding, merged; [P < 0] stands in for [SRDHM < 0], they differ
 *           only where both results are 0);
 *   single: x' = x, T = 31 - shift in [1, 62], R = 2^(T-1).
 * |P| < 2^62 and R <= 2^61, so P + R fits int64. The result is the low dword of floor((P+R)/2^T):
 *   T <= 32: psrlq by T, low dwords (bits T..T+31, exact in two's complement for any sign);
 *   T > 32:  the high dword (floor((P+R)/2^32), an int32), then psrad by T - 32.
 * That is the reference's int32 truncation in the single-rounding build, and exact otherwise. */
#ifndef QK_SSE41_I16X8_URQ_H
#define QK_SSE41_I16X8_URQ_H

#include <smmintrin.h>
#include <stdbool.h>
#include <stdint.h>

#include "qk/status.h"

typedef struct qk_sse41_urq {
  __m128i m;          /* multiplier in every dword */
  __m128i rpos, rneg; /* R (two qwords) when P >= 0 and when P < 0 */
  __m128i cnt_ls;     /* double: left shift count */
  __m128i cnt;        /* T (T <= 32) or T - 32 (T > 32) */
  bool left, high, signdep;
} qk_sse41_urq;

static inline void qk_sse41_urq_init(qk_sse41_urq *q, int32_t m, int shift, qk_rounding mode) {
  int64_t rpos, rneg;
  int T, ls = 0;
  if (mode == QK_ROUND_SINGLE) {
    T = 31 - shift;
    rpos = rneg = INT64_C(1) << (T - 1);
  } else {
    const int rs = shift < 0 ? -shift : 0;
    ls = shift > 0 ? shift : 0;
    T = 31 + rs;
    rpos = (INT64_C(1) << 30) + (rs ? INT64_C(1) << (30 + rs) : 0);
    rneg = rpos - (rs ? INT64_C(1) << 31 : 0);
  }
  q->m = _mm_set1_epi32(m);
  q->rpos = _mm_set1_epi64x(rpos);
  q->rneg = _mm_set1_epi64x(rneg);
  q->cnt_ls = _mm_cvtsi32_si128(ls);
  q->high = T > 32;
  q->cnt = _mm_cvtsi32_si128(T > 32 ? T - 32 : T);
  q->left = ls > 0;
  q->signdep = rpos != rneg;
}

/* The branches of qk_sse41_urq_apply as bits, so loops can be specialized on them. */
enum { QK_URQ_LEFT = 1, QK_URQ_HIGH = 2, QK_URQ_SIGN = 4 };
static inline int qk_sse41_urq_kind(const qk_sse41_urq *q) {
  return (q->left ? QK_URQ_LEFT : 0) | (q->high ? QK_URQ_HIGH : 0) | (q->signdep ? QK_URQ_SIGN : 0);
}

/* MBQM32(x, m, shift) on 4 lanes, in element order; kind = qk_sse41_urq_kind(q), ideally a
 * constant at the call site. */
static inline __attribute__((always_inline)) __m128i qk_sse41_urq_apply_k(__m128i x, const qk_sse41_urq *q, int kind) {
  const __m128i xs = kind & QK_URQ_LEFT ? _mm_sll_epi32(x, q->cnt_ls) : x;
  __m128i pe = _mm_mul_epi32(xs, q->m);
  __m128i po = _mm_mul_epi32(_mm_srli_epi64(xs, 32), q->m);
  if (kind & QK_URQ_SIGN) { /* blendvpd picks by bit 63, the sign of the product */
    pe = _mm_add_epi64(pe, _mm_castpd_si128(_mm_blendv_pd(_mm_castsi128_pd(q->rpos), _mm_castsi128_pd(q->rneg),
                                                          _mm_castsi128_pd(pe))));
    po = _mm_add_epi64(po, _mm_castpd_si128(_mm_blendv_pd(_mm_castsi128_pd(q->rpos), _mm_castsi128_pd(q->rneg),
                                                          _mm_castsi128_pd(po))));
  } else {
    pe = _mm_add_epi64(pe, q->rpos);
    po = _mm_add_epi64(po, q->rpos);
  }
  if (kind & QK_URQ_HIGH) return _mm_sra_epi32(_mm_blend_epi16(_mm_srli_epi64(pe, 32), po, 0xCC), q->cnt);
  return _mm_blend_epi16(_mm_srl_epi64(pe, q->cnt), _mm_slli_epi64(_mm_srl_epi64(po, q->cnt), 32), 0xCC);
}

static inline __attribute__((always_inline)) __m128i qk_sse41_urq_apply(__m128i x, const qk_sse41_urq *q) {
  return qk_sse41_urq_apply_k(x, q, qk_sse41_urq_kind(q));
}

#endif
