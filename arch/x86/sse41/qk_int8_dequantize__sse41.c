/* Dequantize int8 / uint8 -> float32, SSE4.1: bit-exact with qk_ref_dequantize (SPEC.md §10).
 *
 * The reference rounds the exact double product D(scale) * (q - zp) once to float32. q - zp is an
 * integer of magnitude <= 255 (zp lies in the type's range), exact in float32, and the product of
 * a 24-bit and a 9-bit significand is exact in double; so one float32 multiply, which rounds the
 * same exact product once, gives the same bits (also for subnormal or overflowing results).
 * 16 elements per iteration, 4 bytes widened per pmovsxbd straight from memory, stores aligned to
 * 16 bytes after a head; head and tail go through stack buffers (exactly the valid elements). */
#include <smmintrin.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "qk/convert.h"
#include "variants.h"
#include "int8_io.h"

/* 4 bytes at p (any alignment); the compiler folds this into pmovsxbd / pmovzxbd from memory. */
QK_INLINE __m128i load4(const uint8_t *p) {
  int32_t v;
  memcpy(&v, p, sizeof v);
  return _mm_cvtsi32_si128(v);
}

QK_INLINE __m128 dequantize4(__m128i q, __m128i zp, __m128 scale, bool is_unsigned) {
  const __m128i w = is_unsigned ? _mm_cvtepu8_epi32(q) : _mm_cvtepi8_epi32(q);
  return _mm_mul_ps(scale, _mm_cvtepi32_ps(_mm_sub_epi32(w, zp)));
}

/* n < 16 elements through stack buffers (exactly the valid elements are read and written). */
QK_INLINE void dequantize_part(const uint8_t *x, size_t n, __m128i z, __m128 s, float *y, bool is_unsigned) {
  if (n == 0) return;
  float buf[16];
  const __m128i b = qk128_load_partial(x, n);
  for (int j = 0; j < 4; j++) _mm_storeu_ps(buf + 4 * j, dequantize4(qk128_chunk(b, j), z, s, is_unsigned));
  memcpy(y, buf, n * sizeof(float));
}

QK_INLINE void dequantize_loop(const uint8_t *x, size_t n, float scale, int32_t zp, float *y, bool is_unsigned) {
  const __m128 s = _mm_set1_ps(scale);
  const __m128i z = _mm_set1_epi32(zp);
  /* Align the stores (the output is 4 times the input) to 16 bytes first. */
  size_t head = (((uintptr_t)0 - (uintptr_t)y) & 15) / sizeof(float);
  if (head > n) head = n;
  dequantize_part(x, head, z, s, y, is_unsigned);
  x += head, y += head, n -= head;
  for (; n >= 16; n -= 16, x += 16, y += 16)
    for (int j = 0; j < 4; j++) _mm_storeu_ps(y + 4 * j, dequantize4(load4(x + 4 * j), z, s, is_unsigned));
  dequantize_part(x, n, z, s, y, is_unsigned);
}

void qk_int8_dequantize__sse41_run(const void *x, size_t n, qk_qtype type, float scale, int32_t zp, float *y) {
  if (type == QK_Q_UINT8) dequantize_loop(x, n, scale, zp, y, true);
  else dequantize_loop(x, n, scale, zp, y, false);
}
