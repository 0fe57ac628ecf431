/* int8 MaxPool NHWC, AVX-512: bit-exact with qk_ref_maxpool_int8 (SPEC.md §8).
 *
 * Vectorized over channels: for each output pixel, 256 channels (4 zmm) at a time start at -128
 * and take vpmaxsb over the in-bounds taps of the clipped window (pool_window.h), then the clamp.
 * Channel tails use masked loads and stores, so nothing past the last channel is touched. */
#include <immintrin.h>
#include <stdint.h>

#include "qk/pool.h"
#include "../pool_window.h"
#include "variants.h"
#include "int8_io.h"

void qk_int8_maxpool__avx512vnni_run(const qk_pool_int8_desc *d, const qk_conv2d_geom *g, const int8_t *x,
                                     int8_t *y) {
  const size_t C = d->channels, row_stride = d->in_w * C;
  const __m512i lo = _mm512_set1_epi8((char)d->act_min), hi = _mm512_set1_epi8((char)d->act_max);
  for (size_t b = 0; b < d->batch; b++) {
    const int8_t *img = x + b * d->in_h * row_stride;
    for (size_t oy = 0; oy < g->out_h; oy++)
      for (size_t ox = 0; ox < g->out_w; ox++, y += C) {
        const qk_pool_window w = qk_pool_window_at(d, g, oy, ox);
        const int8_t *base = img + w.first;
        size_t c = 0;
        for (; c + 256 <= C; c += 256) {
          __m512i m0 = _mm512_set1_epi8(-128), m1 = m0, m2 = m0, m3 = m0;
          for (size_t fy = 0; fy < w.rows; fy++)
            for (size_t fx = 0; fx < w.cols; fx++) {
              const int8_t *t = base + fy * row_stride + fx * C + c;
              m0 = _mm512_max_epi8(m0, _mm512_loadu_si512(t));
              m1 = _mm512_max_epi8(m1, _mm512_loadu_si512(t + 64));
              m2 = _mm512_max_epi8(m2, _mm512_loadu_si512(t + 128));
              m3 = _mm512_max_epi8(m3, _mm512_loadu_si512(t + 192));
            }
          _mm512_storeu_si512(y + c, _mm512_min_epi8(_mm512_max_epi8(m0, lo), hi));
          _mm512_storeu_si512(y + c + 64, _mm512_min_epi8(_mm512_max_epi8(m1, lo), hi));
          _mm512_storeu_si512(y + c + 128, _mm512_min_epi8(_mm512_max_epi8(m2, lo), hi));
          _mm512_storeu_si512(y + c + 192, _mm512_min_epi8(_mm512_max_epi8(m3, lo), hi));
        }
        for (; c < C; c += 64) {
          const __mmask64 mask = qk512_mask64(C - c);
          __m512i m0 = _mm512_set1_epi8(-128);
          for (size_t fy = 0; fy < w.rows; fy++)
            for (size_t fx = 0; fx < w.cols; fx++)
              m0 = _mm512_max_epi8(m0, _mm512_maskz_loadu_epi8(mask, base + fy * row_stride + fx * C + c));
          _mm512_mask_storeu_epi8(y + c, mask, _mm512_min_epi8(_mm512_max_epi8(m0, lo), hi));
        }
      }
  }
}
