/* int8 MaxPool NHWC, SSE4.1: bit-exact with qk_ref_maxpool_int8 (SPEC.md §8).
 *
 * Vectorized over channels: for each output pixel, 64 channels (4 xmm) at a time start at -128
 * and take pmaxsb over the in-bounds taps of the clipped window (../pool_window.h), then the
 * clamp. A channel remainder is one more 16-channel block ending at the last channel when C >= 16
 * (it recomputes a few channels with the same values; x is only read, y is rewritten with what it
 * already holds), otherwise each tap is read through a stack buffer of exactly the valid bytes. */
#include <smmintrin.h>
#include <stdint.h>

#include "qk/pool.h"
#include "../pool_window.h"
#include "variants.h"
#include "int8_io.h"

/* Channels [0, 16) at base (or only n < 16 of them, partial) of one output pixel. */
QK_INLINE void max_block(const int8_t *base, size_t row_stride, size_t C, const qk_pool_window *w, int8_t *out,
                         __m128i lo, __m128i hi, size_t n) {
  __m128i m = _mm_set1_epi8(-128);
  for (size_t fy = 0; fy < w->rows; fy++)
    for (size_t fx = 0; fx < w->cols; fx++) {
      const int8_t *t = base + fy * row_stride + fx * C;
      m = _mm_max_epi8(m, n == 16 ? _mm_loadu_si128((const __m128i *)t) : qk128_load_partial(t, n));
    }
  m = _mm_min_epi8(_mm_max_epi8(m, lo), hi);
  if (n == 16) _mm_storeu_si128((__m128i *)out, m);
  else qk128_store_partial(out, m, n);
}

void qk_int8_maxpool__sse41_run(const qk_pool_int8_desc *d, const qk_conv2d_geom *g, const int8_t *x, int8_t *y) {
  const size_t C = d->channels, row_stride = d->in_w * C;
  const __m128i lo = _mm_set1_epi8((char)d->act_min), hi = _mm_set1_epi8((char)d->act_max);
  for (size_t b = 0; b < d->batch; b++) {
    const int8_t *img = x + b * d->in_h * row_stride;
    for (size_t oy = 0; oy < g->out_h; oy++)
      for (size_t ox = 0; ox < g->out_w; ox++, y += C) {
        const qk_pool_window w = qk_pool_window_at(d, g, oy, ox);
        const int8_t *base = img + w.first;
        size_t c = 0;
        for (; c + 64 <= C; c += 64) {
          __m128i m[4];
          for (int j = 0; j < 4; j++) m[j] = _mm_set1_epi8(-128);
          for (size_t fy = 0; fy < w.rows; fy++)
            for (size_t fx = 0; fx < w.cols; fx++) {
              const int8_t *t = base + fy * row_stride + fx * C + c;
              for (int j = 0; j < 4; j++) m[j] = _mm_max_epi8(m[j], _mm_loadu_si128((const __m128i *)(t + 16 * j)));
            }
          for (int j = 0; j < 4; j++) _mm_storeu_si128((__m128i *)(y + c + 16 * j), _mm_min_epi8(_mm_max_epi8(m[j], lo), hi));
        }
        for (; c + 16 <= C; c += 16) max_block(base + c, row_stride, C, &w, y + c, lo, hi, 16);
        if (c < C) {
          if (C >= 16) max_block(base + C - 16, row_stride, C, &w, y + C - 16, lo, hi, 16);
          else max_block(base, row_stride, C, &w, y, lo, hi, C);
        }
      }
  }
}
