/* binary16 -> float32, AVX-512: vcvtph2ps zmm is exact and returns a signalling NaN quiet with
 * its payload, as qk_f16_to_f32 does (bit for bit over all 65,536 halves, `qkbench verify`).
 * Tails use masked loads and stores, which neither read nor write the lanes past n. */
#include <immintrin.h>

#include "variants.h"

void qk_f16w_dequantize__avx512vnni_run(const uint16_t *x, size_t n, float *y) {
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512 a = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)(x + i)));
    const __m512 b = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)(x + i + 16)));
    _mm512_storeu_ps(y + i, a);
    _mm512_storeu_ps(y + i + 16, b);
  }
  for (; i < n; i += 16) {
    const size_t left = n - i < 16 ? n - i : 16;
    const __mmask16 m = (__mmask16)((1u << left) - 1u);
    _mm512_mask_storeu_ps(y + i, m, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, x + i)));
  }
}
