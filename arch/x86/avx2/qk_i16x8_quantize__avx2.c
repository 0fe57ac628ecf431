/* Quantize float32 -> int16, AVX2: bit-exact with qk_ref_quantize for QK_Q_INT16 (SPEC.md §9).
 *
 * q = clamp(zp + round_half_away(x / s), -32768, 32767), per element:
 * - vdivps: the IEEE float32 division the reference does (a reciprocal multiply is not exact);
 * - NaN -> 0 (so the output is the zero point, as the reference chooses), then clamp to +-2^17:
 *   any quotient beyond that saturates the int16 result whatever the zero point, and inside it the
 *   rounding below is exact;
 * - round half away from zero as trunc(f + copysign(0.5 - 2^-25, f)) (vcvttps2dq). Checked for
 *   every float with |f| <= 2^17: adding just under one half never rounds up across an integer
 *   except from an exact tie (.5), which must go away from zero; vcvtps2dq alone would round
 *   ties to even;
 * - + zp in int32, vpackssdw saturates to int16, which is the clamp to the type.
 * Other element types go to the reference. Tails go through a stack buffer. */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "qk/convert.h"
#include "variants.h"

#define Q_INLINE static inline __attribute__((always_inline))

Q_INLINE __m256i q8(__m256 x, __m256 s, __m256i zp) {
  const __m256 lim = _mm256_set1_ps(131072.0f), sign = _mm256_set1_ps(-0.0f);
  __m256 f = _mm256_div_ps(x, s);
  f = _mm256_and_ps(f, _mm256_cmp_ps(f, f, _CMP_ORD_Q));
  f = _mm256_min_ps(_mm256_max_ps(f, _mm256_sub_ps(_mm256_setzero_ps(), lim)), lim);
  f = _mm256_add_ps(f, _mm256_or_ps(_mm256_and_ps(f, sign), _mm256_set1_ps(0.49999997f)));
  return _mm256_add_epi32(_mm256_cvttps_epi32(f), zp);
}

Q_INLINE __m256i q16(const float *x, __m256 s, __m256i zp) {
  const __m256i v = _mm256_packs_epi32(q8(_mm256_loadu_ps(x), s, zp), q8(_mm256_loadu_ps(x + 8), s, zp));
  return _mm256_permute4x64_epi64(v, _MM_SHUFFLE(3, 1, 2, 0));
}

void qk_i16x8_quantize__avx2_run(const float *x, size_t n, float scale, int32_t zp, qk_qtype type, void *y) {
  if (type != QK_Q_INT16) {
    qk_ref_quantize(x, n, scale, zp, type, y);
    return;
  }
  int16_t *out = y;
  const __m256 s = _mm256_set1_ps(scale);
  const __m256i z = _mm256_set1_epi32(zp);
  for (; n >= 16; n -= 16, x += 16, out += 16) _mm256_storeu_si256((__m256i *)(void *)out, q16(x, s, z));
  if (n) {
    _Alignas(32) float buf[16] = {0};
    _Alignas(32) int16_t res[16];
    memcpy(buf, x, n * sizeof *x);
    _mm256_store_si256((__m256i *)(void *)res, q16(buf, s, z));
    memcpy(out, res, n * sizeof *out);
  }
}
