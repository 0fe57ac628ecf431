/* AVX-512 helpers shared by the element-wise, pooling and conversion kernels of this folder:
 * tail masks, one requantization constant for every lane, and the int32 -> 8-bit narrowing in
 * element order. Tails use masked loads and stores, which never touch the masked-out bytes, so a
 * buffer ending at a guard page is safe. */
#ifndef QK_AVX512VNNI_INT8_IO_H
#define QK_AVX512VNNI_INT8_IO_H

#include <immintrin.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qk/status.h"
#include "requant.h"

#define QK_INLINE static inline __attribute__((always_inline))

/* The first n bytes (n <= 64). */
QK_INLINE __mmask64 qk512_mask64(size_t n) { return n >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << n) - 1; }
/* The first n dwords (n <= 16). */
QK_INLINE __mmask16 qk512_mask16(size_t n) { return (__mmask16)(n >= 16 ? 0xFFFF : (1u << n) - 1); }

/* requant.h's constants with the same multiplier in all 16 lanes (per-tensor requantization). */
typedef struct qk512_rq {
  _Alignas(64) int32_t c[QK_RQ512_ROWS * 16];
} qk512_rq;

static inline void qk512_rq_init(qk512_rq *r, int32_t multiplier, int32_t shift, qk_rounding mode) {
  int32_t m[16], s[16];
  for (int i = 0; i < 16; i++) m[i] = multiplier, s[i] = shift;
  qk_rq512_prepare(r->c, m, s, mode);
}

/* MBQM32(x, m, shift) in the given rounding; left_shift = false is valid when shift <= 0. */
QK_INLINE __m512i qk512_requant(__m512i x, const qk512_rq *r, bool single, bool left_shift) {
  return single ? qk_rq512_single(x, r->c) : qk_rq512_double(x, r->c, left_shift);
}

/* The 128-bit-lane packs leave byte 16i + 4j + q = lane 4i + q of vector j; with vector j holding
 * elements 16j..16j+15, dword D of the result must come from dword 4 (D mod 4) + D / 4. */
QK_INLINE __m512i qk512_unzip(__m512i packed) {
  return _mm512_permutexvar_epi32(_mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), packed);
}

/* Elements 16j..16j+15 in v[j], plus zp (int32 wrap), saturated to int8 and clamped to [lo, hi]
 * (inside [-128, 127], so clamping the saturated value equals clamping the int32). */
QK_INLINE __m512i qk512_narrow_s8(const __m512i v[4], __m512i zp, __m512i lo, __m512i hi) {
  return qk512_unzip(qk_rq512_narrow(v[0], v[1], v[2], v[3], zp, lo, hi));
}

/* Elements 16j..16j+15 in v[j] saturated to uint8 ([0, 255] is the clamp). */
QK_INLINE __m512i qk512_narrow_u8(const __m512i v[4]) {
  const __m512i a = _mm512_packs_epi32(v[0], v[1]), b = _mm512_packs_epi32(v[2], v[3]);
  return qk512_unzip(_mm512_packus_epi16(a, b));
}

/* Dwords of 16 bytes, sign- or zero-extended. */
QK_INLINE __m512i qk512_widen(__m128i b, bool is_unsigned) {
  return is_unsigned ? _mm512_cvtepu8_epi32(b) : _mm512_cvtepi8_epi32(b);
}

#endif
