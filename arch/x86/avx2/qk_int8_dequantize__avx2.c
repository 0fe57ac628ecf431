/* Dequantize int8 / uint8 -> float32, AVX2: bit-exact with qk_ref_dequantize (SPEC.md §10).
 *
 * The reference rounds the exact double product D(scale) * (q - zp) once to float32. q - zp is an
 * integer of magnitude <= 255 (zp lies in the type's range), exact in float32, and the product of
 * a 24-bit and a 9-bit significand is exact in double; so one float32 multiply, which rounds the
 * same exact product once, gives the same bits (also for subnormal or overflowing results).
 * 32 elements per iteration, stores aligned to 32 bytes after a head; the head and the tail read
 * their bytes through a stack buffer and write with vmaskmovps, which never touches masked-out
 * floats. */
#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>

#include "qk/convert.h"
#include "variants.h"
#include "int8_io.h"

QK_INLINE __m256 dequantize8(__m128i q, __m256i zp, __m256 scale, bool is_unsigned) {
  return _mm256_mul_ps(scale, _mm256_cvtepi32_ps(_mm256_sub_epi32(qk256_widen(q, is_unsigned), zp)));
}

/* n < 32 elements: bytes through a stack buffer, floats with vmaskmovps (no access past the end). */
QK_INLINE void dequantize_part(const uint8_t *x, size_t n, __m256i z, __m256 s, float *y, bool is_unsigned) {
  if (n == 0) return;
  const __m256i b = qk256_load_partial(x, n);
  for (size_t j = 0; 8 * j < n; j++)
    _mm256_maskstore_ps(y + 8 * j, qk256_mask8(n - 8 * j), dequantize8(qk256_chunk(b, (int)j), z, s, is_unsigned));
}

QK_INLINE void dequantize_loop(const uint8_t *x, size_t n, float scale, int32_t zp, float *y, bool is_unsigned) {
  const __m256 s = _mm256_set1_ps(scale);
  const __m256i z = _mm256_set1_epi32(zp);
  /* The output is 4 times the input: align its stores to 32 bytes first (a store split across
   * cache lines costs about as much as the conversion of its 8 elements). */
  size_t head = (((uintptr_t)0 - (uintptr_t)y) & 31) / sizeof(float);
  if (head > n) head = n;
  dequantize_part(x, head, z, s, y, is_unsigned);
  x += head, y += head, n -= head;
  for (; n >= 32; n -= 32, x += 32, y += 32)
    for (int j = 0; j < 4; j++)
      _mm256_storeu_ps(y + 8 * j, dequantize8(_mm_loadl_epi64((const __m128i *)(x + 8 * j)), z, s, is_unsigned));
  dequantize_part(x, n, z, s, y, is_unsigned);
}

void qk_int8_dequantize__avx2_run(const void *x, size_t n, qk_qtype type, float scale, int32_t zp, float *y) {
  if (type == QK_Q_UINT8) dequantize_loop(x, n, scale, zp, y, true);
  else dequantize_loop(x, n, scale, zp, y, false);
}
