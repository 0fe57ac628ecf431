/* Requantize int16 -> int16, AVX2: bit-exact with qk_ref_requantize for int16 on both sides
 * (SPEC.md §11 with the int16 range): out = clamp(MBQM32(x - zp_in, m, shift) + zp_out, int16),
 * both roundings, shifts over the whole contract (a positive shift in the double rounding wraps in
 * int32 like the reference). The requantization is requant.h's (the FC epilogue's code, the same
 * constants in every lane, the output zero point inside its offset), 8 int32 lanes at a time;
 * vpackssdw's saturation is the clamp to the type. Other types go to the reference; tails go
 * through a stack buffer. */
#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "qk/convert.h"
#include "requant.h"
#include "variants.h"

static inline __attribute__((always_inline)) __m256i rq16(__m256i v, const qk_avx2_rq8 *rq, __m256i off, __m256i zin,
                                                          bool single) {
  const __m256i lo = _mm256_sub_epi32(_mm256_cvtepi16_epi32(_mm256_castsi256_si128(v)), zin);
  const __m256i hi = _mm256_sub_epi32(_mm256_cvtepi16_epi32(_mm256_extracti128_si256(v, 1)), zin);
  const __m256i a = single ? qk_avx2_requant_single(lo, rq, off) : qk_avx2_requant_double(lo, rq, off);
  const __m256i b = single ? qk_avx2_requant_single(hi, rq, off) : qk_avx2_requant_double(hi, rq, off);
  return _mm256_permute4x64_epi64(_mm256_packs_epi32(a, b), _MM_SHUFFLE(3, 1, 2, 0));
}

static inline __attribute__((always_inline)) void rq_run(const qk_avx2_rq8 *rq, __m256i off, __m256i zin,
                                                         const int16_t *x, size_t n, int16_t *y, bool single) {
  for (; n >= 16; n -= 16, x += 16, y += 16)
    _mm256_storeu_si256((__m256i *)(void *)y,
                        rq16(_mm256_loadu_si256((const __m256i *)(const void *)x), rq, off, zin, single));
  if (n) {
    _Alignas(32) int16_t buf[16] = {0};
    memcpy(buf, x, n * sizeof *x);
    _mm256_store_si256((__m256i *)(void *)buf, rq16(_mm256_load_si256((const __m256i *)(const void *)buf), rq, off,
                                                    zin, single));
    memcpy(y, buf, n * sizeof *y);
  }
}

void qk_i16x8_requantize__avx2_run(const qk_requant_params *p, const void *x, size_t n, void *y) {
  if (p->in_type != QK_Q_INT16 || p->out_type != QK_Q_INT16) {
    qk_ref_requantize(p, x, n, y);
    return;
  }
  qk_avx2_rq8 rq;
  int32_t m[8], s[8];
  for (int i = 0; i < 8; i++) m[i] = p->multiplier, s[i] = p->shift;
  qk_avx2_rq8_init(&rq, m, s, 8);
  const __m256i off = qk_avx2_rq8_offset(&rq, p->rounding, p->output_zp), zin = _mm256_set1_epi32(p->input_zp);
  if (p->rounding == QK_ROUND_SINGLE) rq_run(&rq, off, zin, x, n, y, true);
  else rq_run(&rq, off, zin, x, n, y, false);
}
