/* binary16 -> float32, F16C: vcvtph2ps is exact (every half, subnormals included, is a float; F16C
 * ignores DAZ for its half inputs) and returns a signalling NaN quiet with its payload, as
 * qk_f16_to_f32 does: bit for bit over all 65,536 halves (`qkbench verify`). */
#include <immintrin.h>
#include <string.h>

#include "variants.h"

void qk_f16w_dequantize__avx2_run(const uint16_t *x, size_t n, float *y) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 a = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(x + i)));
    const __m256 b = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(x + i + 8)));
    _mm256_storeu_ps(y + i, a);
    _mm256_storeu_ps(y + i + 8, b);
  }
  if (i + 8 <= n) {
    _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(x + i))));
    i += 8;
  }
  if (i < n) { /* 1..7 left: through a buffer, never touching memory past either end */
    uint16_t h[8] = {0};
    float t[8];
    memcpy(h, x + i, (n - i) * sizeof *h);
    _mm256_storeu_ps(t, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)h)));
    memcpy(y + i, t, (n - i) * sizeof *t);
  }
}
