/* Quantize float32 -> int8 / uint8, SSE4.1: bit-exact with qk_ref_quantize (SPEC.md §9, §15).
 *
 * t = x / scale is a divps: IEEE division is correctly rounded, so each lane equals the scalar
 * division (a reciprocal multiply would not be). roundf rounds half away from zero, which no
 * vector conversion does (cvtps2dq rounds to even), so it is built exactly:
 *   r = trunc(t);  f = t - r  (exact: |f| < 1 and f has no bits below t's last bit);
 *   r += copysign(1, t) where |f| >= 0.5.
 * For |t| >= 2^23, t is already an integer and f = 0; infinities give f = NaN, which compares
 * false and leaves r infinite. NaN lanes are set to 0 (the reference maps NaN to the zero point).
 * r is then clamped to [-1024, 1024] in float: every value outside already saturates after the
 * zero point is added (|zp| <= 255), including those beyond int32, so the conversion is exact and
 * the 8-bit saturation of packs/packus performs the reference's final clamp.
 * 16 floats per iteration; the tail goes through stack buffers (exactly the valid elements). */
#include <smmintrin.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "qk/convert.h"
#include "variants.h"
#include "int8_io.h"

QK_INLINE __m128i quantize4(__m128 x, __m128 scale, __m128i zp) {
  const __m128 t = _mm_div_ps(x, scale);
  __m128 r = _mm_round_ps(t, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m128 sign = _mm_castsi128_ps(_mm_set1_epi32(INT32_MIN));
  const __m128 f = _mm_andnot_ps(sign, _mm_sub_ps(t, r));
  const __m128 away = _mm_cmpge_ps(f, _mm_set1_ps(0.5f));
  const __m128 one = _mm_or_ps(_mm_and_ps(t, sign), _mm_set1_ps(1.0f));
  r = _mm_add_ps(r, _mm_and_ps(away, one));
  r = _mm_and_ps(r, _mm_cmpord_ps(t, t));
  r = _mm_min_ps(_mm_max_ps(r, _mm_set1_ps(-1024.0f)), _mm_set1_ps(1024.0f));
  return _mm_add_epi32(_mm_cvttps_epi32(r), zp);
}

QK_INLINE __m128i quantize16(const float *x, __m128 s, __m128i z, bool is_unsigned) {
  __m128i v[4];
  for (int j = 0; j < 4; j++) v[j] = quantize4(_mm_loadu_ps(x + 4 * j), s, z);
  return is_unsigned ? qk128_narrow_u8(v) : qk128_narrow_s8(v, _mm_set1_epi8(-128), _mm_set1_epi8(127));
}

QK_INLINE void quantize_loop(const float *x, size_t n, float scale, int32_t zp, uint8_t *y, bool is_unsigned) {
  const __m128 s = _mm_set1_ps(scale);
  const __m128i z = _mm_set1_epi32(zp);
  for (; n >= 16; n -= 16, x += 16, y += 16) _mm_storeu_si128((__m128i *)y, quantize16(x, s, z, is_unsigned));
  if (n) {
    float buf[16] = {0};
    memcpy(buf, x, n * sizeof(float));
    qk128_store_partial(y, quantize16(buf, s, z, is_unsigned), n);
  }
}

void qk_int8_quantize__sse41_run(const float *x, size_t n, float scale, int32_t zp, qk_qtype type, void *y) {
  if (type == QK_Q_UINT8) quantize_loop(x, n, scale, zp, y, true);
  else quantize_loop(x, n, scale, zp, y, false);
}
