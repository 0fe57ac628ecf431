/* Quantize float32 -> int8 / uint8, AVX-512: bit-exact with qk_ref_quantize (SPEC.md §9, §15).
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
 * the 8-bit saturation of packs/packus performs the reference's final clamp. */
#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>

#include "qk/convert.h"
#include "variants.h"
#include "int8_io.h"

QK_INLINE __m512i quantize16(__m512 x, __m512 scale, __m512i zp) {
  const __m512 t = _mm512_div_ps(x, scale);
  __m512 r = _mm512_roundscale_ps(t, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m512 f = _mm512_sub_ps(t, r);
  const __mmask16 away = _mm512_cmp_ps_mask(_mm512_abs_ps(f), _mm512_set1_ps(0.5f), _CMP_GE_OQ);
  const __m512 one = _mm512_castsi512_ps(_mm512_or_si512(_mm512_and_si512(_mm512_castps_si512(t), _mm512_set1_epi32(INT32_MIN)),
                                                         _mm512_castps_si512(_mm512_set1_ps(1.0f))));
  r = _mm512_mask_add_ps(r, away, r, one);
  r = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(t, t, _CMP_ORD_Q), r);
  r = _mm512_min_ps(_mm512_max_ps(r, _mm512_set1_ps(-1024.0f)), _mm512_set1_ps(1024.0f));
  return _mm512_add_epi32(_mm512_cvttps_epi32(r), zp);
}

QK_INLINE void quantize_loop(const float *x, size_t n, float scale, int32_t zp, uint8_t *y, bool is_unsigned) {
  const __m512 s = _mm512_set1_ps(scale);
  const __m512i z = _mm512_set1_epi32(zp), lo = _mm512_set1_epi8(-128), hi = _mm512_set1_epi8(127);
  __m512i v[4];
  for (; n >= 64; n -= 64, x += 64, y += 64) {
    for (int j = 0; j < 4; j++) v[j] = quantize16(_mm512_loadu_ps(x + 16 * j), s, z);
    _mm512_storeu_si512(y, is_unsigned ? qk512_narrow_u8(v) : qk512_narrow_s8(v, _mm512_setzero_si512(), lo, hi));
  }
  if (n) {
    for (size_t j = 0; j < 4; j++) {
      /* Masked-out floats are never read, so the guard page after x is safe. */
      const __mmask16 mj = (__mmask16)(n > 16 * j ? qk512_mask16(n - 16 * j) : 0);
      v[j] = mj ? quantize16(_mm512_maskz_loadu_ps(mj, x + 16 * j), s, z) : _mm512_setzero_si512();
    }
    _mm512_mask_storeu_epi8(y, qk512_mask64(n),
                            is_unsigned ? qk512_narrow_u8(v) : qk512_narrow_s8(v, _mm512_setzero_si512(), lo, hi));
  }
}

void qk_int8_quantize__avx512vnni_run(const float *x, size_t n, float scale, int32_t zp, qk_qtype type, void *y) {
  if (type == QK_Q_UINT8) quantize_loop(x, n, scale, zp, y, true);
  else quantize_loop(x, n, scale, zp, y, false);
}
