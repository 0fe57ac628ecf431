/* Requantize int8 / uint8 -> int8 / uint8, AVX-512: bit-exact with qk_ref_requantize (SPEC.md §11,
 * §15).
 *
 * General path: out = clamp(MBQM32(x - zp_in, m, shift) + zp_out, out type), 64 elements per
 * iteration with requant.h's qk_rq512_* on 16 lanes; packs (int8) or packus (uint8) saturation
 * is the clamp to the output type.
 *
 * Identity multiplier (m, shift) = (2^30, 1), which QuantizeMultiplier gives for equal scales:
 * MBQM32(v, 2^30, 1) = v in both roundings (double: SRDHM(2v, 2^30) = floor(v + 1/2) = v; single:
 * (v 2^30 + 2^29) >> 30 = v), so out = clamp(x + zp_out - zp_in). When the types differ and
 * zp_out - zp_in is +128 (int8 -> uint8) or -128 (uint8 -> int8), x + zp_out - zp_in never leaves
 * the output type and its byte is x ^ 0x80: the model-boundary conversion becomes a byte xor.
 * Other identity cases add the offset in int16 and saturate, still without any multiply. */
#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>

#include "qk/convert.h"
#include "variants.h"
#include "int8_io.h"

QK_INLINE void requant_loop(const qk_requant_params *p, const uint8_t *x, size_t n, uint8_t *y, bool in_u8,
                            bool out_u8, bool single, bool left_shift) {
  qk512_rq rq;
  qk512_rq_init(&rq, p->multiplier, p->shift, p->rounding);
  const __m512i zpi = _mm512_set1_epi32(p->input_zp), zpo = _mm512_set1_epi32(p->output_zp);
  const __m512i lo = _mm512_set1_epi8(-128), hi = _mm512_set1_epi8(127);
  __m512i v[4];
  while (n) {
    const size_t take = n < 64 ? n : 64;
    for (size_t j = 0; j < 4; j++) {
      /* Masked-out bytes are never read: the tail cannot fault at the guard page. */
      const __mmask16 mj = (__mmask16)(take > 16 * j ? qk512_mask16(take - 16 * j) : 0);
      if (!mj) {
        v[j] = _mm512_setzero_si512();
        continue;
      }
      const __m128i b = take == 64 ? _mm_loadu_si128((const __m128i *)(x + 16 * j)) : _mm_maskz_loadu_epi8(mj, x + 16 * j);
      v[j] = qk512_requant(_mm512_sub_epi32(qk512_widen(b, in_u8), zpi), &rq, single, left_shift);
      if (out_u8) v[j] = _mm512_add_epi32(v[j], zpo);
    }
    const __m512i out = out_u8 ? qk512_narrow_u8(v) : qk512_narrow_s8(v, zpo, lo, hi);
    if (take == 64) _mm512_storeu_si512(y, out);
    else _mm512_mask_storeu_epi8(y, qk512_mask64(take), out);
    x += take, y += take, n -= take;
  }
}

static void requant_general(const qk_requant_params *p, const uint8_t *x, size_t n, uint8_t *y) {
  const bool in_u8 = p->in_type == QK_Q_UINT8, out_u8 = p->out_type == QK_Q_UINT8;
  const bool ls = p->rounding == QK_ROUND_DOUBLE && p->shift > 0;
  /* Specialize on the types and the rounding so the loop body has no run-time branches. */
#define QK_RQ_CASE(iu, ou)                                                     \
  if (in_u8 == (iu) && out_u8 == (ou)) {                                       \
    if (p->rounding == QK_ROUND_SINGLE) requant_loop(p, x, n, y, iu, ou, true, false); \
    else if (ls) requant_loop(p, x, n, y, iu, ou, false, true);               \
    else requant_loop(p, x, n, y, iu, ou, false, false);                      \
    return;                                                                    \
  }
  QK_RQ_CASE(false, false)
  QK_RQ_CASE(false, true)
  QK_RQ_CASE(true, false)
  QK_RQ_CASE(true, true)
#undef QK_RQ_CASE
}

/* out = clamp(x + d, out type) in int16, for the identity multiplier. */
static void requant_offset(const uint8_t *x, size_t n, uint8_t *y, bool in_u8, bool out_u8, int32_t d) {
  const __m512i dv = _mm512_set1_epi16((short)d);
  while (n) {
    const size_t take = n < 64 ? n : 64;
    const __mmask64 m = qk512_mask64(take);
    const __m512i b = _mm512_maskz_loadu_epi8(m, x);
    const __m256i b0 = _mm512_castsi512_si256(b), b1 = _mm512_extracti64x4_epi64(b, 1);
    const __m512i w0 = _mm512_add_epi16(in_u8 ? _mm512_cvtepu8_epi16(b0) : _mm512_cvtepi8_epi16(b0), dv);
    const __m512i w1 = _mm512_add_epi16(in_u8 ? _mm512_cvtepu8_epi16(b1) : _mm512_cvtepi8_epi16(b1), dv);
    /* Saturating narrows; the packs interleave 128-bit lanes, vpermq restores the order. */
    const __m512i packed = out_u8 ? _mm512_packus_epi16(w0, w1) : _mm512_packs_epi16(w0, w1);
    const __m512i out = _mm512_permutexvar_epi64(_mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7), packed);
    _mm512_mask_storeu_epi8(y, m, out);
    x += take, y += take, n -= take;
  }
}

static void requant_xor(const uint8_t *x, size_t n, uint8_t *y) {
  const __m512i flip = _mm512_set1_epi8((char)0x80);
  for (; n >= 64; n -= 64, x += 64, y += 64)
    _mm512_storeu_si512(y, _mm512_xor_si512(_mm512_loadu_si512(x), flip));
  if (n) {
    const __mmask64 m = qk512_mask64(n);
    _mm512_mask_storeu_epi8(y, m, _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, x), flip));
  }
}

void qk_int8_requantize__avx512vnni_run(const qk_requant_params *p, const void *x, size_t n, void *y) {
  if (p->multiplier == INT32_C(1) << 30 && p->shift == 1) {
    const int32_t d = p->output_zp - p->input_zp;
    const bool in_u8 = p->in_type == QK_Q_UINT8, out_u8 = p->out_type == QK_Q_UINT8;
    if (in_u8 != out_u8 && d == (out_u8 ? 128 : -128)) requant_xor(x, n, y);
    else requant_offset(x, n, y, in_u8, out_u8, d);
    return;
  }
  requant_general(p, x, n, y);
}
