/* int8 MaxPool NHWC, AVX2: bit-exact with qk_ref_maxpool_int8 (SPEC.md §8).
 *
 * Vectorized over channels: for each output pixel, 64 channels (2 ymm) at a time start at -128
 * and take vpmaxsb over the in-bounds taps of the clipped window (../pool_window.h), then the
 * clamp. A channel remainder is one more 32-channel block ending at the last channel when C >= 32
 * (it recomputes a few channels with the same values; x is only read, y is rewritten with what it
 * already holds); 16 <= C < 32 takes two overlapping blocks of 16; below 16 channels each tap is
 * read through a stack buffer of exactly the valid bytes. */
#include <immintrin.h>
#include <stdint.h>

#include "qk/pool.h"
#include "../pool_window.h"
#include "variants.h"
#include "int8_io.h"

/* Channels [0, n) at base of one output pixel: n = 32 or 16 full vectors, or n < 16 read and
 * written through stack buffers. */
QK_INLINE void max_block(const int8_t *base, size_t row_stride, size_t C, const qk_pool_window *w, int8_t *out,
                         __m256i lo, __m256i hi, size_t n) {
  __m256i m = _mm256_set1_epi8(-128);
  for (size_t fy = 0; fy < w->rows; fy++)
    for (size_t fx = 0; fx < w->cols; fx++) {
      const int8_t *t = base + fy * row_stride + fx * C;
      const __m256i v = n == 32   ? _mm256_loadu_si256((const __m256i *)t)
                        : n == 16 ? _mm256_zextsi128_si256(_mm_loadu_si128((const __m128i *)t))
                                  : qk256_load_partial(t, n);
      m = _mm256_max_epi8(m, v);
    }
  m = _mm256_min_epi8(_mm256_max_epi8(m, lo), hi);
  if (n == 32) _mm256_storeu_si256((__m256i *)out, m);
  else if (n == 16) _mm_storeu_si128((__m128i *)out, _mm256_castsi256_si128(m));
  else qk256_store_partial(out, m, n);
}

void qk_int8_maxpool__avx2_run(const qk_pool_int8_desc *d, const qk_conv2d_geom *g, const int8_t *x, int8_t *y) {
  const size_t C = d->channels, row_stride = d->in_w * C;
  const __m256i lo = _mm256_set1_epi8((char)d->act_min), hi = _mm256_set1_epi8((char)d->act_max);
  for (size_t b = 0; b < d->batch; b++) {
    const int8_t *img = x + b * d->in_h * row_stride;
    for (size_t oy = 0; oy < g->out_h; oy++)
      for (size_t ox = 0; ox < g->out_w; ox++, y += C) {
        const qk_pool_window w = qk_pool_window_at(d, g, oy, ox);
        const int8_t *base = img + w.first;
        size_t c = 0;
        for (; c + 64 <= C; c += 64) {
          __m256i m0 = _mm256_set1_epi8(-128), m1 = m0;
          for (size_t fy = 0; fy < w.rows; fy++)
            for (size_t fx = 0; fx < w.cols; fx++) {
              const int8_t *t = base + fy * row_stride + fx * C + c;
              m0 = _mm256_max_epi8(m0, _mm256_loadu_si256((const __m256i *)t));
              m1 = _mm256_max_epi8(m1, _mm256_loadu_si256((const __m256i *)(t + 32)));
            }
          _mm256_storeu_si256((__m256i *)(y + c), _mm256_min_epi8(_mm256_max_epi8(m0, lo), hi));
          _mm256_storeu_si256((__m256i *)(y + c + 32), _mm256_min_epi8(_mm256_max_epi8(m1, lo), hi));
        }
        if (c + 32 <= C) max_block(base + c, row_stride, C, &w, y + c, lo, hi, 32), c += 32;
        if (c == C) continue;
        if (C >= 32) {
          max_block(base + C - 32, row_stride, C, &w, y + C - 32, lo, hi, 32);
        } else if (C >= 16) {
          max_block(base, row_stride, C, &w, y, lo, hi, 16);
          if (C > 16) max_block(base + C - 16, row_stride, C, &w, y + C - 16, lo, hi, 16);
        } else {
          max_block(base, row_stride, C, &w, y, lo, hi, C);
        }
      }
  }
}
