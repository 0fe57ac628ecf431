/* float32 -> binary16, F16C: vcvtps2ph with rounding immediate 0 is IEEE round to nearest even
 * whatever MXCSR says, keeps subnormals (F16C ignores FTZ for its half results), overflows to
 * infinity and quiets a NaN keeping its top payload bits: qk_f32_to_f16 bit for bit (checked over
 * every half, every midpoint and the NaN payloads by `qkbench verify`). */
#include <immintrin.h>
#include <string.h>

#include "variants.h"

#define RNE (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)

void qk_f16w_quantize__avx2_run(const float *x, size_t n, uint16_t *y) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i a = _mm256_cvtps_ph(_mm256_loadu_ps(x + i), RNE);
    const __m128i b = _mm256_cvtps_ph(_mm256_loadu_ps(x + i + 8), RNE);
    _mm_storeu_si128((__m128i *)(void *)(y + i), a);
    _mm_storeu_si128((__m128i *)(void *)(y + i + 8), b);
  }
  if (i + 8 <= n) {
    _mm_storeu_si128((__m128i *)(void *)(y + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), RNE));
    i += 8;
  }
  if (i < n) { /* 1..7 left: through a zeroed buffer, never touching memory past either end */
    float t[8] = {0};
    uint16_t h[8];
    memcpy(t, x + i, (n - i) * sizeof *t);
    _mm_storeu_si128((__m128i *)(void *)h, _mm256_cvtps_ph(_mm256_loadu_ps(t), RNE));
    memcpy(y + i, h, (n - i) * sizeof *h);
  }
}
