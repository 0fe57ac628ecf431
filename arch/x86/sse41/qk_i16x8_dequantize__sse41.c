/* Dequantize int16 -> float32, SSE4.1: bit-exact with qk_ref_dequantize for QK_Q_INT16 (SPEC.md
 * §10). y = float32(D(s) * (q - zp)): q - zp is an integer below 2^17, exact in float32, and the
 * double product of a float32 by it is exact too, so the reference's single rounding to float32
 * equals one mulps of s by float(q - zp). Other element types go to the reference; tails go
 * through a stack buffer. */
#include <smmintrin.h>
#include <stdint.h>
#include <string.h>

#include "qk/convert.h"
#include "variants.h"

static inline __attribute__((always_inline)) void dq8(const int16_t *q, float *y, __m128i zp, __m128 s) {
  const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)q);
  const __m128i lo = _mm_sub_epi32(_mm_cvtepi16_epi32(v), zp);
  const __m128i hi = _mm_sub_epi32(_mm_cvtepi16_epi32(_mm_unpackhi_epi64(v, v)), zp);
  _mm_storeu_ps(y, _mm_mul_ps(s, _mm_cvtepi32_ps(lo)));
  _mm_storeu_ps(y + 4, _mm_mul_ps(s, _mm_cvtepi32_ps(hi)));
}

void qk_i16x8_dequantize__sse41_run(const void *x, size_t n, qk_qtype type, float scale, int32_t zp, float *y) {
  if (type != QK_Q_INT16) {
    qk_ref_dequantize(x, n, type, scale, zp, y);
    return;
  }
  const int16_t *q = x;
  const __m128 s = _mm_set1_ps(scale);
  const __m128i z = _mm_set1_epi32(zp);
  for (; n >= 8; n -= 8, q += 8, y += 8) dq8(q, y, z, s);
  if (n) {
    _Alignas(16) int16_t buf[8] = {0};
    _Alignas(16) float res[8];
    memcpy(buf, q, n * sizeof *q);
    dq8(buf, res, z, s);
    memcpy(y, res, n * sizeof *y);
  }
}
