/* Requantize int8 / uint8 -> int8 / uint8, SSE4.1: bit-exact with qk_ref_requantize (SPEC.md §11,
 * §15).
 *
 * General path: out = clamp(MBQM32(x - zp_in, m, shift) + zp_out, out type), 16 elements per
 * iteration with requant.h's qk_sse41_requant_* on 4 lanes; packs (int8) or packus (uint8)
 * saturation is the clamp to the output type. Long inputs requantize the 256 possible bytes
 * with that code into a table and look each element up (the same values, bit for bit).
 *
 * Identity multiplier (m, shift) = (2^30, 1), which QuantizeMultiplier gives for equal scales:
 * MBQM32(v, 2^30, 1) = v in both roundings (double: SRDHM(2v, 2^30) = floor(v + 1/2) = v; single:
 * (v 2^30 + 2^29) >> 30 = v), so out = clamp(x + zp_out - zp_in). When the types differ and
 * zp_out - zp_in is +128 (int8 -> uint8) or -128 (uint8 -> int8), x + zp_out - zp_in never leaves
 * the output type and its byte is x ^ 0x80: the model-boundary conversion becomes a byte xor.
 * Other identity cases add the offset in int16 and saturate, without any multiply.
 * Tails go through stack buffers (int8_io.h). */
#include <smmintrin.h>
#include <stdbool.h>
#include <stdint.h>

#include "qk/convert.h"
#include "variants.h"
#include "int8_io.h"

/* From this length on, a 256-entry table (16 vectors to build, then one load per byte) beats
 * requantizing every element: 4-lane requantization costs about 2 cycles per byte here. */
#define LUT_MIN 512

QK_INLINE __m128i requant16(__m128i x, const qk128_rq *rq, __m128i zpi, __m128i offset, bool in_u8, bool out_u8,
                            bool single) {
  __m128i v[4];
  for (int j = 0; j < 4; j++) v[j] = qk128_requant(_mm_sub_epi32(qk128_widen(x, j, in_u8), zpi), rq, offset, single);
  return out_u8 ? qk128_narrow_u8(v) : qk128_narrow_s8(v, _mm_set1_epi8(-128), _mm_set1_epi8(127));
}

QK_INLINE void requant_loop(const qk_requant_params *p, const uint8_t *x, size_t n, uint8_t *y, bool in_u8,
                            bool out_u8, bool single) {
  qk128_rq rq;
  qk128_rq_init(&rq, p->multiplier, p->shift, p->rounding);
  const __m128i zpi = _mm_set1_epi32(p->input_zp), offset = qk128_rq_offset(&rq, p->output_zp);
  if (n >= LUT_MIN) {
    /* The output depends on the input byte alone: requantize all 256 byte values once with the
     * same vector code, then map the input through that table. */
    _Alignas(16) uint8_t lut[256];
    for (int i = 0; i < 256; i += 16) {
      const __m128i b = _mm_add_epi8(_mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                     _mm_set1_epi8((char)i));
      _mm_store_si128((__m128i *)(void *)(lut + i), requant16(b, &rq, zpi, offset, in_u8, out_u8, single));
    }
    for (size_t i = 0; i < n; i++) y[i] = lut[x[i]];
    return;
  }
  for (; n >= 16; n -= 16, x += 16, y += 16)
    _mm_storeu_si128((__m128i *)y, requant16(_mm_loadu_si128((const __m128i *)x), &rq, zpi, offset, in_u8, out_u8, single));
  if (n) qk128_store_partial(y, requant16(qk128_load_partial(x, n), &rq, zpi, offset, in_u8, out_u8, single), n);
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

/* clamp(x + d, out type) for 16 bytes, in int16 with saturating narrows (order preserved). */
QK_INLINE __m128i offset16(__m128i x, __m128i d, bool in_u8, bool out_u8) {
  const __m128i hi8 = _mm_srli_si128(x, 8);
  const __m128i w0 = _mm_add_epi16(in_u8 ? _mm_cvtepu8_epi16(x) : _mm_cvtepi8_epi16(x), d);
  const __m128i w1 = _mm_add_epi16(in_u8 ? _mm_cvtepu8_epi16(hi8) : _mm_cvtepi8_epi16(hi8), d);
  return out_u8 ? _mm_packus_epi16(w0, w1) : _mm_packs_epi16(w0, w1);
}

static void requant_offset(const uint8_t *x, size_t n, uint8_t *y, bool in_u8, bool out_u8, int32_t d) {
  const __m128i dv = _mm_set1_epi16((short)d);
  for (; n >= 16; n -= 16, x += 16, y += 16)
    _mm_storeu_si128((__m128i *)y, offset16(_mm_loadu_si128((const __m128i *)x), dv, in_u8, out_u8));
  if (n) qk128_store_partial(y, offset16(qk128_load_partial(x, n), dv, in_u8, out_u8), n);
}

static void requant_xor(const uint8_t *x, size_t n, uint8_t *y) {
  const __m128i flip = _mm_set1_epi8((char)0x80);
  for (; n >= 16; n -= 16, x += 16, y += 16)
    _mm_storeu_si128((__m128i *)y, _mm_xor_si128(_mm_loadu_si128((const __m128i *)x), flip));
  if (n) qk128_store_partial(y, _mm_xor_si128(qk128_load_partial(x, n), flip), n);
}

void qk_int8_requantize__sse41_run(const qk_requant_params *p, const void *x, size_t n, void *y) {
  if (p->multiplier == INT32_C(1) << 30 && p->shift == 1) {
    const int32_t d = p->output_zp - p->input_zp;
    const bool in_u8 = p->in_type == QK_Q_UINT8, out_u8 = p->out_type == QK_Q_UINT8;
    if (in_u8 != out_u8 && d == (out_u8 ? 128 : -128)) requant_xor(x, n, y);
    else requant_offset(x, n, y, in_u8, out_u8, d);
    return;
  }
  requant_general(p, x, n, y);
}
