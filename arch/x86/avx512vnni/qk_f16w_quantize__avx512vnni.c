/* float32 -> binary16, AVX-512: vcvtps2ph zmm with rounding immediate 0 (round to nearest even,
 * exceptions suppressed) — the same conversion as F16C's, so qk_f32_to_f16 bit for bit: subnormals
 * kept, overflow to infinity, NaN quieted with its top payload bits. Tails use masked loads and
 * stores, which neither read nor write (nor fault on) the lanes past n. */
#include <immintrin.h>

#include "variants.h"

#define RNE (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)

void qk_f16w_quantize__avx512vnni_run(const float *x, size_t n, uint16_t *y) {
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i a = _mm512_cvtps_ph(_mm512_loadu_ps(x + i), RNE);
    const __m256i b = _mm512_cvtps_ph(_mm512_loadu_ps(x + i + 16), RNE);
    _mm256_storeu_si256((__m256i *)(void *)(y + i), a);
    _mm256_storeu_si256((__m256i *)(void *)(y + i + 16), b);
  }
  for (; i < n; i += 16) {
    const size_t left = n - i < 16 ? n - i : 16;
    const __mmask16 m = (__mmask16)((1u << left) - 1u);
    _mm256_mask_storeu_epi16(y + i, m, _mm512_cvtps_ph(_mm512_maskz_loadu_ps(m, x + i), RNE));
  }
}
