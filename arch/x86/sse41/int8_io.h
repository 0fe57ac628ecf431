/* SSE4.1 helpers shared by the element-wise, pooling and conversion kernels of this folder:
 * partial loads and stores for tails, one requantization constant for every lane, and the
 * int32 -> 8-bit narrowing.
 *
 * SSE has no masked loads or stores, so a tail shorter than a vector goes through a small stack
 * buffer (memcpy of exactly the valid bytes): nothing past the end of a buffer is touched, which
 * the guard pages after inputs and outputs require. */
#ifndef QK_SSE41_INT8_IO_H
#define QK_SSE41_INT8_IO_H

#include <smmintrin.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "qk/status.h"
#include "requant.h"

#define QK_INLINE static inline __attribute__((always_inline))

/* The first n (< 16) bytes at p; the other bytes are zero. */
static inline __m128i qk128_load_partial(const void *p, size_t n) {
  _Alignas(16) uint8_t buf[16] = {0};
  memcpy(buf, p, n);
  return _mm_load_si128((const __m128i *)(const void *)buf);
}

/* Stores the first n (< 16) bytes of v at p. */
static inline void qk128_store_partial(void *p, __m128i v, size_t n) {
  _Alignas(16) uint8_t buf[16];
  _mm_store_si128((__m128i *)(void *)buf, v);
  memcpy(p, buf, n);
}

/* requant.h's constants with the same multiplier in all 4 lanes (per-tensor requantization). */
typedef struct qk128_rq {
  qk_sse41_rq4 c;
  bool single;
} qk128_rq;

static inline void qk128_rq_init(qk128_rq *r, int32_t multiplier, int32_t shift, qk_rounding mode) {
  int32_t m[4], s[4];
  for (int i = 0; i < 4; i++) m[i] = multiplier, s[i] = shift;
  qk_sse41_rq4_init(&r->c, m, s, 4);
  r->single = mode == QK_ROUND_SINGLE;
}

/* With offset = qk128_rq_offset(r, zp), qk128_requant gives MBQM32(x, m, shift) + zp (int32 wrap). */
QK_INLINE __m128i qk128_rq_offset(const qk128_rq *r, int32_t zp) {
  return qk_sse41_rq4_offset(&r->c, r->single ? QK_ROUND_SINGLE : QK_ROUND_DOUBLE, zp);
}

/* Right shifts only (shift <= -1, the usual case) take requant.h's cheaper _fast forms; the flag
 * is the same for every call with r, so the branch is always predicted. */
QK_INLINE __m128i qk128_requant(__m128i x, const qk128_rq *r, __m128i offset, bool single) {
  if (r->c.fast)
    return single ? qk_sse41_requant_single_fast(x, &r->c, offset) : qk_sse41_requant_double_fast(x, &r->c, offset);
  return single ? qk_sse41_requant_single(x, &r->c, offset) : qk_sse41_requant_double(x, &r->c, offset);
}

/* Elements 4j..4j+3 in v[j] (zero point already added), saturated to int8 and clamped to
 * [lo, hi] (inside [-128, 127], so clamping the saturated value equals clamping the int32).
 * On 128 bits the packs keep element order. */
QK_INLINE __m128i qk128_narrow_s8(const __m128i v[4], __m128i lo, __m128i hi) {
  const __m128i b = _mm_packs_epi16(_mm_packs_epi32(v[0], v[1]), _mm_packs_epi32(v[2], v[3]));
  return _mm_min_epi8(_mm_max_epi8(b, lo), hi);
}

/* Elements 4j..4j+3 in v[j] saturated to uint8 ([0, 255] is the clamp). */
QK_INLINE __m128i qk128_narrow_u8(const __m128i v[4]) {
  return _mm_packus_epi16(_mm_packs_epi32(v[0], v[1]), _mm_packs_epi32(v[2], v[3]));
}

/* Bytes 4j..4j+3 of v in the low dword (byte shifts take immediates, hence the switch). */
QK_INLINE __m128i qk128_chunk(__m128i v, int j) {
  switch (j) {
    case 0: return v;
    case 1: return _mm_srli_si128(v, 4);
    case 2: return _mm_srli_si128(v, 8);
    default: return _mm_srli_si128(v, 12);
  }
}

/* Dwords of bytes 4j..4j+3 of v, sign- or zero-extended. */
QK_INLINE __m128i qk128_widen(__m128i v, int j, bool is_unsigned) {
  const __m128i c = qk128_chunk(v, j);
  return is_unsigned ? _mm_cvtepu8_epi32(c) : _mm_cvtepi8_epi32(c);
}

#endif
