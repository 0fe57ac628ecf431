/* The clipped pooling window of one output pixel (SPEC.md §8), shared by the SIMD pooling
 * variants: the same clipping as the reference, expressed as the first in-bounds input pixel and
 * the window's in-bounds height and width, so a kernel walks taps with plain pointer strides. */
#ifndef QK_X86_POOL_WINDOW_H
#define QK_X86_POOL_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "qk/pool.h"

typedef struct qk_pool_window {
  size_t first; /* element offset of the top-left in-bounds tap, channel 0, within the image */
  size_t rows, cols; /* in-bounds taps per column and per row; count = rows * cols */
} qk_pool_window;

static inline qk_pool_window qk_pool_window_at(const qk_pool_int8_desc *d, const qk_conv2d_geom *g, size_t oy,
                                               size_t ox) {
  const long iy = (long)(oy * d->stride_h) - (long)g->pad_top;
  const long ix = (long)(ox * d->stride_w) - (long)g->pad_left;
  const long y0 = iy < 0 ? -iy : 0, x0 = ix < 0 ? -ix : 0;
  const long ylim = (long)d->in_h - iy, xlim = (long)d->in_w - ix;
  const long y1 = ylim < (long)d->filter_h ? ylim : (long)d->filter_h;
  const long x1 = xlim < (long)d->filter_w ? xlim : (long)d->filter_w;
  qk_pool_window w;
  /* SAME and VALID never give an empty window; an empty one still reads nothing. */
  w.rows = y1 > y0 ? (size_t)(y1 - y0) : 0;
  w.cols = x1 > x0 ? (size_t)(x1 - x0) : 0;
  w.first = w.rows && w.cols ? ((size_t)(iy + y0) * d->in_w + (size_t)(ix + x0)) * d->channels : 0;
  return w;
}

#endif
