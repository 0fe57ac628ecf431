/* Quantize float32 -> int8 / uint8, AVX2: bit-exact with qk_ref_quantize (SPEC.md §9, §15).
 *
 * t = x / scale is a vdivps: IEEE division is correctly rounded, so each lane equals the scalar
 * division (a reciprocal multiply would not be). roundf rounds half away from zero, which no
 * vector conversion does (vcvtps2dq rounds to even), so it is built exactly:
 *   r = trunc(t);  f = t - r  (exact: |f| < 1 and f has no bits below t's last bit);
 *   r += copysign(1, t) where |f| >= 0.5.
 * For |t| >= 2^23, t is already an integer and f = 0; infinities give f = NaN, which compares
 * false and leaves r infinite. NaN lanes are set to 0 (the reference maps NaN to the zero point).
 * r is then clamped to [-1024, 1024] in float: every value outside already saturates after the
 * zero point is added (|zp| <= 255), including those beyond int32, so the conversion is exact and
 * the 8-bit saturation of packs/packus performs the reference's final clamp.
 * 32 floats per iteration; the tail reads with vmaskmovps (never touching masked-out floats) and
 * writes its bytes through a stack buffer. */
#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>

#include "qk/convert.h"
#include "variants.h"
#include "int8_io.h"

QK_INLINE __m256i quantize8(__m256 x, __m256 scale, __m256i zp) {
  const __m256 t = _mm256_div_ps(x, scale);
  __m256 r = _mm256_round_ps(t, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 sign = _mm256_castsi256_ps(_mm256_set1_epi32(INT32_MIN));
  const __m256 f = _mm256_andnot_ps(sign, _mm256_sub_ps(t, r));
  const __m256 away = _mm256_cmp_ps(f, _mm256_set1_ps(0.5f), _CMP_GE_OQ);
  const __m256 one = _mm256_or_ps(_mm256_and_ps(t, sign), _mm256_set1_ps(1.0f));
  r = _mm256_add_ps(r, _mm256_and_ps(away, one));
  r = _mm256_and_ps(r, _mm256_cmp_ps(t, t, _CMP_ORD_Q));
  r = _mm256_min_ps(_mm256_max_ps(r, _mm256_set1_ps(-1024.0f)), _mm256_set1_ps(1024.0f));
  return _mm256_add_epi32(_mm256_cvttps_epi32(r), zp);
}

QK_INLINE __m256i quantize32(const __m256 x[4], __m256 s, __m256i z, bool is_unsigned) {
  __m256i v[4];
  for (int j = 0; j < 4; j++) v[j] = quantize8(x[j], s, z);
  return is_unsigned ? qk256_narrow_u8(v) : qk256_narrow_s8(v, _mm256_set1_epi8(-128), _mm256_set1_epi8(127));
}

QK_INLINE void quantize_loop(const float *x, size_t n, float scale, int32_t zp, uint8_t *y, bool is_unsigned) {
  const __m256 s = _mm256_set1_ps(scale);
  const __m256i z = _mm256_set1_epi32(zp);
  __m256 xv[4];
  for (; n >= 32; n -= 32, x += 32, y += 32) {
    for (int j = 0; j < 4; j++) xv[j] = _mm256_loadu_ps(x + 8 * j);
    _mm256_storeu_si256((__m256i *)y, quantize32(xv, s, z, is_unsigned));
  }
  if (n) {
    for (size_t j = 0; j < 4; j++)
      xv[j] = n > 8 * j ? _mm256_maskload_ps(x + 8 * j, qk256_mask8(n - 8 * j)) : _mm256_setzero_ps();
    qk256_store_partial(y, quantize32(xv, s, z, is_unsigned), n);
  }
}

void qk_int8_quantize__avx2_run(const float *x, size_t n, float scale, int32_t zp, qk_qtype type, void *y) {
  if (type == QK_Q_UINT8) quantize_loop(x, n, scale, zp, y, true);
  else quantize_loop(x, n, scale, zp, y, false);
}
