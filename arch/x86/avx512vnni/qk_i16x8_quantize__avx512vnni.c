/* Quantize float32 -> int16, AVX-512: bit-exact with qk_ref_quantize for QK_Q_INT16 (SPEC.md §9).
 *
 * q = clamp(zp + round_half_away(x / s), -32768, 32767), per element:
 * - vdivps: the IEEE float32 division the reference does (a reciprocal multiply is not exact);
 * - NaN -> 0 (so the output is the zero point, as the reference chooses), then clamp to +-2^17:
 *   any quotient beyond that saturates the int16 result whatever the zero point, and inside it the
 *   rounding below is exact;
 * - round half away from zero as trunc(f + copysign(0.5 - 2^-25, f)) (vcvttps2dq). Checked for
 *   every float with |f| <= 2^17: adding just under one half never rounds up across an integer
 *   except from an exact tie (.5), which must go away from zero; the default vcvtps2dq would
 *   round ties to even;
 * - + zp in int32, vpackssdw saturates to int16, which is the clamp to the type.
 * Other element types go to the reference. Tails use masked loads and a masked store. */
#include <immintrin.h>
#include <stdint.h>

#include "qk/convert.h"
#include "variants.h"

#define Q_INLINE static inline __attribute__((always_inline))

Q_INLINE __m512i q16(__m512 x, __m512 s, __m512i zp) {
  const __m512 lim = _mm512_set1_ps(131072.0f);
  __m512 f = _mm512_div_ps(x, s);
  f = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(f, f, _CMP_ORD_Q), f);
  f = _mm512_min_ps(_mm512_max_ps(f, _mm512_sub_ps(_mm512_setzero_ps(), lim)), lim);
  const __m512i sign = _mm512_and_si512(_mm512_castps_si512(f), _mm512_set1_epi32(INT32_MIN));
  f = _mm512_add_ps(f, _mm512_castsi512_ps(_mm512_or_si512(sign, _mm512_castps_si512(_mm512_set1_ps(0.49999997f)))));
  return _mm512_add_epi32(_mm512_cvttps_epi32(f), zp);
}

/* 32 floats (the first n when masked) to 32 int16 in element order. */
Q_INLINE __m512i q32(const float *x, __mmask32 m, __m512 s, __m512i zp) {
  const __m512 a = _mm512_maskz_loadu_ps((__mmask16)m, x), b = _mm512_maskz_loadu_ps((__mmask16)(m >> 16), x + 16);
  const __m512i v = _mm512_packs_epi32(q16(a, s, zp), q16(b, s, zp));
  return _mm512_permutexvar_epi64(_mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7), v);
}

void qk_i16x8_quantize__avx512vnni_run(const float *x, size_t n, float scale, int32_t zp, qk_qtype type, void *y) {
  if (type != QK_Q_INT16) {
    qk_ref_quantize(x, n, scale, zp, type, y);
    return;
  }
  int16_t *out = y;
  const __m512 s = _mm512_set1_ps(scale);
  const __m512i z = _mm512_set1_epi32(zp);
  for (; n >= 32; n -= 32, x += 32, out += 32) _mm512_storeu_si512((void *)out, q32(x, ~(__mmask32)0, s, z));
  if (n) {
    const __mmask32 m = ((__mmask32)1 << n) - 1;
    _mm512_mask_storeu_epi16(out, m, q32(x, m, s, z));
  }
}
