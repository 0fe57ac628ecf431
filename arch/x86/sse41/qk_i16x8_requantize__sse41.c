/* Requantize int16 -> int16, SSE4.1: bit-exact with qk_ref_requantize for int16 on both sides
 * (SPEC.md §11 with the int16 range): out = clamp(MBQM32(x - zp_in, m, shift) + zp_out, int16),
 * both roundings, shifts over the whole contract (a positive shift in the double rounding wraps in
 * int32 like the reference). One multiplier and shift for all lanes: i16x8_urq.h's form (a single
 * shift count per vector), 4 int32 lanes at a time; packssdw's saturation is the clamp to the type.
 * Other types go to the reference; tails go through a stack buffer. */
#include <smmintrin.h>
#include <stdint.h>
#include <string.h>

#include "qk/convert.h"
#include "i16x8_urq.h"
#include "variants.h"

/* kind: the i16x8_urq.h branches, plus RQ_ZIN when the input zero point is not 0 (int16 tensors
 * normally have 0, and skipping the subtraction matters at this op count). */
enum { RQ_ZIN = 8 };

static inline __attribute__((always_inline)) __m128i rq8(__m128i v, const qk_sse41_urq *q, __m128i zin, __m128i zout,
                                                          int kind) {
  __m128i lo = _mm_cvtepi16_epi32(v), hi = _mm_cvtepi16_epi32(_mm_unpackhi_epi64(v, v));
  if (kind & RQ_ZIN) lo = _mm_sub_epi32(lo, zin), hi = _mm_sub_epi32(hi, zin);
  return _mm_packs_epi32(_mm_add_epi32(qk_sse41_urq_apply_k(lo, q, kind), zout),
                         _mm_add_epi32(qk_sse41_urq_apply_k(hi, q, kind), zout));
}

static inline __attribute__((always_inline)) void rq_run(const qk_sse41_urq *q, __m128i zin, __m128i zout,
                                                         const int16_t *in, size_t n, int16_t *out, int kind) {
  for (; n >= 8; n -= 8, in += 8, out += 8)
    _mm_storeu_si128((__m128i *)(void *)out, rq8(_mm_loadu_si128((const __m128i *)(const void *)in), q, zin, zout, kind));
  if (n) {
    _Alignas(16) int16_t buf[8] = {0};
    memcpy(buf, in, n * sizeof *in);
    _mm_store_si128((__m128i *)(void *)buf, rq8(_mm_load_si128((const __m128i *)(const void *)buf), q, zin, zout, kind));
    memcpy(out, buf, n * sizeof *out);
  }
}

void qk_i16x8_requantize__sse41_run(const qk_requant_params *p, const void *x, size_t n, void *y) {
  if (p->in_type != QK_Q_INT16 || p->out_type != QK_Q_INT16) {
    qk_ref_requantize(p, x, n, y);
    return;
  }
  qk_sse41_urq q;
  qk_sse41_urq_init(&q, p->multiplier, p->shift, p->rounding);
  const __m128i zin = _mm_set1_epi32(p->input_zp), zout = _mm_set1_epi32(p->output_zp);
  /* One loop for the usual case (double rounding, shift < 0, input zero point 0); the others
   * keep their branches. */
  const int kind = qk_sse41_urq_kind(&q) | (p->input_zp ? RQ_ZIN : 0);
  if (kind == (QK_URQ_HIGH | QK_URQ_SIGN)) rq_run(&q, zin, zout, x, n, y, QK_URQ_HIGH | QK_URQ_SIGN);
  else rq_run(&q, zin, zout, x, n, y, kind);
}
