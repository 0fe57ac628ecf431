/* Requantize int8 / uint8 -> int8 / uint8, AVX2: bit-exact with qk_ref_requantize (SPEC.md §11,
 * §15).
 *
 * General path: out = clamp(MBQM32(x - zp_in, m, shift) + zp_out, out type), 32 elements per
 * iteration with requant.h's qk_avx2_requant_* on 8 lanes; packs (int8) or packus (uint8)
 * saturation is the clamp to the output type.
 *
 * Identity multiplier (m, shift) = (2^30, 1), which QuantizeMultiplier gives for equal scales:
 * MBQM32(v, 2^30, 1) = v in both roundings (double: SRDHM(2v, 2^30) = floor(v + 1/2) = v; single:
 * (v 2^30 + 2^29) >> 30 = v), so out = clamp(x + zp_out - zp_in). When the types differ and
 * zp_out - zp_in is +128 (int8 -> uint8) or -128 (uint8 -> int8), x + zp_out - zp_in never leaves
 * the output type and its byte is x ^ 0x80: the model-boundary conversion becomes a byte xor.
 * Other identity cases add the offset in int16 and saturate, without any multiply.
 * Tails go through stack buffers (int8_io.h). */
#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>

#include "qk/convert.h"
#include "variants.h"
#include "int8_io.h"

QK_INLINE __m256i requant32(__m256i x, const qk256_rq *rq, __m256i zpi, __m256i offset, bool in_u8, bool out_u8,
                            bool single) {
  __m256i v[4];
  for (int j = 0; j < 4; j++)
    v[j] = qk256_requant(_mm256_sub_epi32(qk256_widen(qk256_chunk(x, j), in_u8), zpi), rq, offset, single);
  return out_u8 ? qk256_narrow_u8(v) : qk256_narrow_s8(v, _mm256_set1_epi8(-128), _mm256_set1_epi8(127));
}

QK_INLINE void requant_loop(const qk_requant_params *p, const uint8_t *x, size_t n, uint8_t *y, bool in_u8,
                            bool out_u8, bool single) {
  qk256_rq rq;
  qk256_rq_init(&rq, p->multiplier, p->shift, p->rounding);
  const __m256i zpi = _mm256_set1_epi32(p->input_zp), offset = qk256_rq_offset(&rq, p->output_zp);
  for (; n >= 32; n -= 32, x += 32, y += 32)
    _mm256_storeu_si256((__m256i *)y,
                        requant32(_mm256_loadu_si256((const __m256i *)x), &rq, zpi, offset, in_u8, out_u8, single));
  if (n) qk256_store_partial(y, requant32(qk256_load_partial(x, n), &rq, zpi, offset, in_u8, out_u8, single), n);
}

static void requant_general(const qk_requant_params *p, const uint8_t *x, size_t n, uint8_t *y) {
  const bool in_u8 = p->in_type == QK_Q_UINT8, out_u8 = p->out_type == QK_Q_UINT8;
  const bool single = p->rounding == QK_ROUND_SINGLE;
  /* Specialize on the types and the rounding so the loop body has no run-time branches. */
#define QK_RQ_CASE(iu, ou)                                                              \
  if (in_u8 == (iu) && out_u8 == (ou)) {                                                \
    if (single) requant_loop(p, x, n, y, iu, ou, true);                                 \
    else requant_loop(p, x, n, y, iu, ou, false);                                       \
    return;                                                                             \
  }
  QK_RQ_CASE(false, false)
  QK_RQ_CASE(false, true)
  QK_RQ_CASE(true, false)
  QK_RQ_CASE(true, true)
#undef QK_RQ_CASE
}

/* clamp(x + d, out type) for 32 bytes, in int16 with saturating narrows. */
QK_INLINE __m256i offset32(__m256i x, __m256i d, bool in_u8, bool out_u8) {
  const __m128i lo = _mm256_castsi256_si128(x), hi = _mm256_extracti128_si256(x, 1);
  const __m256i w0 = _mm256_add_epi16(in_u8 ? _mm256_cvtepu8_epi16(lo) : _mm256_cvtepi8_epi16(lo), d);
  const __m256i w1 = _mm256_add_epi16(in_u8 ? _mm256_cvtepu8_epi16(hi) : _mm256_cvtepi8_epi16(hi), d);
  const __m256i packed = out_u8 ? _mm256_packus_epi16(w0, w1) : _mm256_packs_epi16(w0, w1);
  return _mm256_permute4x64_epi64(packed, 0xD8); /* the in-lane pack interleaves 8-byte halves */
}

static void requant_offset(const uint8_t *x, size_t n, uint8_t *y, bool in_u8, bool out_u8, int32_t d) {
  const __m256i dv = _mm256_set1_epi16((short)d);
  for (; n >= 32; n -= 32, x += 32, y += 32)
    _mm256_storeu_si256((__m256i *)y, offset32(_mm256_loadu_si256((const __m256i *)x), dv, in_u8, out_u8));
  if (n) qk256_store_partial(y, offset32(qk256_load_partial(x, n), dv, in_u8, out_u8), n);
}

static void requant_xor(const uint8_t *x, size_t n, uint8_t *y) {
  const __m256i flip = _mm256_set1_epi8((char)0x80);
  for (; n >= 32; n -= 32, x += 32, y += 32)
    _mm256_storeu_si256((__m256i *)y, _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)x), flip));
  if (n) qk256_store_partial(y, _mm256_xor_si256(qk256_load_partial(x, n), flip), n);
}

void qk_int8_requantize__avx2_run(const qk_requant_params *p, const void *x, size_t n, void *y) {
  if (p->multiplier == INT32_C(1) << 30 && p->shift == 1) {
    const int32_t d = p->output_zp - p->input_zp;
    const bool in_u8 = p->in_type == QK_Q_UINT8, out_u8 = p->out_type == QK_Q_UINT8;
    if (in_u8 != out_u8 && d == (out_u8 ? 128 : -128)) requant_xor(x, n, y);
    else requant_offset(x, n, y, in_u8, out_u8, d);
    return;
  }
  requant_general(p, x, n, y);
}
