/* AVX2 helpers shared by the element-wise, pooling and conversion kernels of this folder:
 * partial loads and stores for tails, one requantization constant for every lane, and the
 * int32 -> 8-bit narrowing in element order.
 *
 * AVX2 has no byte-masked loads or stores, so a tail shorter than a vector goes through a small
 * stack buffer (memcpy of exactly the valid bytes): nothing past the end of a buffer is touched,
 * which the guard pages after inputs and outputs require. */
#ifndef QK_AVX2_INT8_IO_H
#define QK_AVX2_INT8_IO_H

#include <immintrin.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "qk/status.h"
#include "requant.h"

#define QK_INLINE static inline __attribute__((always_inline))

/* The first n (< 32) bytes at p; the other bytes are zero. */
static inline __m256i qk256_load_partial(const void *p, size_t n) {
  _Alignas(32) uint8_t buf[32] = {0};
  memcpy(buf, p, n);
  return _mm256_load_si256((const __m256i *)(const void *)buf);
}

/* Stores the first n (< 32) bytes of v at p. */
static inline void qk256_store_partial(void *p, __m256i v, size_t n) {
  _Alignas(32) uint8_t buf[32];
  _mm256_store_si256((__m256i *)(void *)buf, v);
  memcpy(p, buf, n);
}

/* Dword mask of the first n (<= 8) lanes for vmaskmovps / vpmaskmovd, which never touch masked
 * out elements. */
QK_INLINE __m256i qk256_mask8(size_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* requant.h's constants with the same multiplier in all 8 lanes (per-tensor requantization),
 * plus the offset that follows the shift for a given output zero point. */
typedef struct qk256_rq {
  qk_avx2_rq8 c;
  bool single;
} qk256_rq;

static inline void qk256_rq_init(qk256_rq *r, int32_t multiplier, int32_t shift, qk_rounding mode) {
  int32_t m[8], s[8];
  for (int i = 0; i < 8; i++) m[i] = multiplier, s[i] = shift;
  qk_avx2_rq8_init(&r->c, m, s, 8);
  r->single = mode == QK_ROUND_SINGLE;
}

/* offset = qk256_rq_offset(r, zp): the result is MBQM32(x, m, shift) + zp (int32 wrap). */
QK_INLINE __m256i qk256_rq_offset(const qk256_rq *r, int32_t zp) {
  return qk_avx2_rq8_offset(&r->c, r->single ? QK_ROUND_SINGLE : QK_ROUND_DOUBLE, zp);
}

QK_INLINE __m256i qk256_requant(__m256i x, const qk256_rq *r, __m256i offset, bool single) {
  return single ? qk_avx2_requant_single(x, &r->c, offset) : qk_avx2_requant_double(x, &r->c, offset);
}

/* After the in-lane packs of v[j] = elements 8j..8j+7, the low 128-bit lane holds elements
 * 0-3, 8-11, 16-19, 24-27 and the high lane 4-7, 12-15, 20-23, 28-31 (4 bytes per dword); dword
 * order [0, 4, 1, 5, 2, 6, 3, 7] restores element order. */
QK_INLINE __m256i qk256_unzip(__m256i packed) {
  return _mm256_permutevar8x32_epi32(packed, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

/* Elements 8j..8j+7 in v[j] (zero point already added), saturated to int8 and clamped to
 * [lo, hi] (inside [-128, 127], so clamping the saturated value equals clamping the int32). */
QK_INLINE __m256i qk256_narrow_s8(const __m256i v[4], __m256i lo, __m256i hi) {
  const __m256i a = _mm256_packs_epi32(v[0], v[1]), b = _mm256_packs_epi32(v[2], v[3]);
  return _mm256_min_epi8(_mm256_max_epi8(qk256_unzip(_mm256_packs_epi16(a, b)), lo), hi);
}

/* Elements 8j..8j+7 in v[j] saturated to uint8 ([0, 255] is the clamp). */
QK_INLINE __m256i qk256_narrow_u8(const __m256i v[4]) {
  const __m256i a = _mm256_packs_epi32(v[0], v[1]), b = _mm256_packs_epi32(v[2], v[3]);
  return qk256_unzip(_mm256_packus_epi16(a, b));
}

/* Dwords of 8 bytes, sign- or zero-extended. */
QK_INLINE __m256i qk256_widen(__m128i b, bool is_unsigned) {
  return is_unsigned ? _mm256_cvtepu8_epi32(b) : _mm256_cvtepi8_epi32(b);
}

/* Bytes 8j..8j+7 of a 32-byte vector in the low half of an xmm. */
QK_INLINE __m128i qk256_chunk(__m256i v, int j) {
  const __m128i h = j < 2 ? _mm256_castsi256_si128(v) : _mm256_extracti128_si256(v, 1);
  return j & 1 ? _mm_unpackhi_epi64(h, h) : h;
}

#endif
