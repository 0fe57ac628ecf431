/* Quantize float32 -> int16, SSE4.1: bit-exact with qk_ref_quantize for QK_Q_INT16 (SPEC.md §9).
 *
 * q = clamp(zp + round_half_away(x / s), -32768, 32767), per element:
 * - divps: the IEEE float32 division the reference does (a reciprocal multiply is not exact);
 * - NaN -> 0 (so the output is the zero point, as the reference chooses), then clamp to +-2^17:
 *   any quotient beyond that saturates the int16 result whatever the zero point, and inside it the
 *   rounding below is exact;
 * - round half away from zero as trunc(f + copysign(0.5 - 2^-25, f)) (cvttps2dq). Checked for
 *   every float with |f| <= 2^17: adding just under one half never rounds up across an integer
 *   except from an exact tie (.5), which must go away from zero; cvtps2dq alone would round ties
 *   to even;
 * - + zp in int32, packssdw saturates to int16, which is the clamp to the type.
 * Other element types go to the reference. Tails go through a stack buffer. */
#include <smmintrin.h>
#include <stdint.h>
#include <string.h>

#include "qk/convert.h"
#include "variants.h"

#define Q_INLINE static inline __attribute__((always_inline))

Q_INLINE __m128i q4(__m128 x, __m128 s, __m128i zp) {
  const __m128 lim = _mm_set1_ps(131072.0f), sign = _mm_set1_ps(-0.0f);
  __m128 f = _mm_div_ps(x, s);
  f = _mm_and_ps(f, _mm_cmpord_ps(f, f));
  f = _mm_min_ps(_mm_max_ps(f, _mm_sub_ps(_mm_setzero_ps(), lim)), lim);
  f = _mm_add_ps(f, _mm_or_ps(_mm_and_ps(f, sign), _mm_set1_ps(0.49999997f)));
  return _mm_add_epi32(_mm_cvttps_epi32(f), zp);
}

Q_INLINE __m128i q8(const float *x, __m128 s, __m128i zp) {
  return _mm_packs_epi32(q4(_mm_loadu_ps(x), s, zp), q4(_mm_loadu_ps(x + 4), s, zp));
}

void qk_i16x8_quantize__sse41_run(const float *x, size_t n, float scale, int32_t zp, qk_qtype type, void *y) {
  if (type != QK_Q_INT16) {
    qk_ref_quantize(x, n, scale, zp, type, y);
    return;
  }
  int16_t *out = y;
  const __m128 s = _mm_set1_ps(scale);
  const __m128i z = _mm_set1_epi32(zp);
  for (; n >= 8; n -= 8, x += 8, out += 8) _mm_storeu_si128((__m128i *)(void *)out, q8(x, s, z));
  if (n) {
    _Alignas(16) float buf[8] = {0};
    _Alignas(16) int16_t res[8];
    memcpy(buf, x, n * sizeof *x);
    _mm_store_si128((__m128i *)(void *)res, q8(buf, s, z));
    memcpy(out, res, n * sizeof *out);
  }
}
