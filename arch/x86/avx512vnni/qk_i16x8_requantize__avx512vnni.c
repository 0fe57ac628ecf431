/* Requantize int16 -> int16, AVX-512: bit-exact with qk_ref_requantize for int16 on both sides
 * (SPEC.md §11 with the int16 range): out = clamp(MBQM32(x - zp_in, m, shift) + zp_out, int16),
 * both roundings, shifts over the whole contract (a positive shift in the double rounding wraps in
 * int32 like the reference). The requantization is requant.h's qk_rq512_* (the FC epilogue's code,
 * the same constants in every lane), 16 int32 lanes at a time; vpackssdw's saturation is the
 * clamp to the type. Other types go to the reference; tails use a masked load and store. */
#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>

#include "qk/convert.h"
#include "requant.h"
#include "variants.h"

static inline __attribute__((always_inline)) __m512i rq32(__m512i v, const int32_t *c, __m512i zin, __m512i zout,
                                                          bool single, bool left) {
  __m512i lo = _mm512_sub_epi32(_mm512_cvtepi16_epi32(_mm512_castsi512_si256(v)), zin);
  __m512i hi = _mm512_sub_epi32(_mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64(v, 1)), zin);
  lo = _mm512_add_epi32(single ? qk_rq512_single(lo, c) : qk_rq512_double(lo, c, left), zout);
  hi = _mm512_add_epi32(single ? qk_rq512_single(hi, c) : qk_rq512_double(hi, c, left), zout);
  return _mm512_permutexvar_epi64(_mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7), _mm512_packs_epi32(lo, hi));
}

static inline __attribute__((always_inline)) void rq_run(const int32_t *c, __m512i zin, __m512i zout, const int16_t *x,
                                                         size_t n, int16_t *y, bool single, bool left) {
  for (; n >= 32; n -= 32, x += 32, y += 32)
    _mm512_storeu_si512((void *)y, rq32(_mm512_loadu_si512((const void *)x), c, zin, zout, single, left));
  if (n) {
    const __mmask32 m = ((__mmask32)1 << n) - 1;
    _mm512_mask_storeu_epi16(y, m, rq32(_mm512_maskz_loadu_epi16(m, x), c, zin, zout, single, left));
  }
}

void qk_i16x8_requantize__avx512vnni_run(const qk_requant_params *p, const void *x, size_t n, void *y) {
  if (p->in_type != QK_Q_INT16 || p->out_type != QK_Q_INT16) {
    qk_ref_requantize(p, x, n, y);
    return;
  }
  _Alignas(64) int32_t c[QK_RQ512_ROWS * 16];
  int32_t m[16], s[16];
  for (int i = 0; i < 16; i++) m[i] = p->multiplier, s[i] = p->shift;
  qk_rq512_prepare(c, m, s, p->rounding);
  const __m512i zin = _mm512_set1_epi32(p->input_zp), zout = _mm512_set1_epi32(p->output_zp);
  if (p->rounding == QK_ROUND_SINGLE) rq_run(c, zin, zout, x, n, y, true, false);
  else if (p->shift > 0) rq_run(c, zin, zout, x, n, y, false, true);
  else rq_run(c, zin, zout, x, n, y, false, false);
}
