/* Dequantize int16 -> float32, AVX2: bit-exact with qk_ref_dequantize for QK_Q_INT16 (SPEC.md §10).
 * y = float32(D(s) * (q - zp)): q - zp is an integer below 2^17, exact in float32, and the double
 * product of a float32 by it is exact too, so the reference's single rounding to float32 equals
 * one vmulps of s by float(q - zp). Other element types go to the reference; tails go through a
 * stack buffer. */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "qk/convert.h"
#include "variants.h"

static inline __attribute__((always_inline)) void dq16(const int16_t *q, float *y, __m256i zp, __m256 s) {
  const __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)q);
  const __m256i lo = _mm256_sub_epi32(_mm256_cvtepi16_epi32(_mm256_castsi256_si128(v)), zp);
  const __m256i hi = _mm256_sub_epi32(_mm256_cvtepi16_epi32(_mm256_extracti128_si256(v, 1)), zp);
  _mm256_storeu_ps(y, _mm256_mul_ps(s, _mm256_cvtepi32_ps(lo)));
  _mm256_storeu_ps(y + 8, _mm256_mul_ps(s, _mm256_cvtepi32_ps(hi)));
}

void qk_i16x8_dequantize__avx2_run(const void *x, size_t n, qk_qtype type, float scale, int32_t zp, float *y) {
  if (type != QK_Q_INT16) {
    qk_ref_dequantize(x, n, type, scale, zp, y);
    return;
  }
  const int16_t *q = x;
  const __m256 s = _mm256_set1_ps(scale);
  const __m256i z = _mm256_set1_epi32(zp);
  for (; n >= 16; n -= 16, q += 16, y += 16) dq16(q, y, z, s);
  if (n) {
    _Alignas(32) int16_t buf[16] = {0};
    _Alignas(32) float res[16];
    memcpy(buf, q, n * sizeof *q);
    dq16(buf, res, z, s);
    memcpy(y, res, n * sizeof *y);
  }
}
