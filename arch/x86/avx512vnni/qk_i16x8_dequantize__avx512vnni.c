/* Dequantize int16 -> float32, AVX-512: bit-exact with qk_ref_dequantize for QK_Q_INT16 (SPEC.md
 * §10). y = float32(D(s) * (q - zp)): q - zp is an integer below 2^17, exact in float32, and the
 * double product of a float32 by it is exact too, so the reference's single rounding to float32
 * equals one vmulps of s by float(q - zp). Other element types go to the reference; tails use a
 * masked load and masked stores. */
#include <immintrin.h>
#include <stdint.h>

#include "qk/convert.h"
#include "variants.h"

static inline __attribute__((always_inline)) void dq32(const int16_t *q, float *y, __mmask32 m, __m512i zp, __m512 s) {
  const __m512i v = _mm512_maskz_loadu_epi16(m, q);
  const __m512i lo = _mm512_sub_epi32(_mm512_cvtepi16_epi32(_mm512_castsi512_si256(v)), zp);
  const __m512i hi = _mm512_sub_epi32(_mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64(v, 1)), zp);
  _mm512_mask_storeu_ps(y, (__mmask16)m, _mm512_mul_ps(s, _mm512_cvtepi32_ps(lo)));
  _mm512_mask_storeu_ps(y + 16, (__mmask16)(m >> 16), _mm512_mul_ps(s, _mm512_cvtepi32_ps(hi)));
}

void qk_i16x8_dequantize__avx512vnni_run(const void *x, size_t n, qk_qtype type, float scale, int32_t zp, float *y) {
  if (type != QK_Q_INT16) {
    qk_ref_dequantize(x, n, type, scale, zp, y);
    return;
  }
  const int16_t *q = x;
  const __m512 s = _mm512_set1_ps(scale);
  const __m512i z = _mm512_set1_epi32(zp);
  for (; n >= 32; n -= 32, q += 32, y += 32) dq32(q, y, ~(__mmask32)0, z, s);
  if (n) dq32(q, y, ((__mmask32)1 << n) - 1, z, s);
}
