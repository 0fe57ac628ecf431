/* Window bookkeeping shared by the NEON pooling variants: the taps of output (oy, ox) that fall in
 * the image, as half-open ranges of input rows and columns, plus the channel blocking every
 * channel-vectorized NEON kernel here uses. Plain C. */
#ifndef QK_ARM_POOL_WINDOW_H
#define QK_ARM_POOL_WINDOW_H

#include <stddef.h>

#include "qk/pool.h"

typedef struct qk_pool_span { size_t y0, y1, x0, x1; } qk_pool_span; /* input rows [y0,y1), cols [x0,x1) */

/* One axis: taps o*stride - pad + [0, k) clipped to [0, n). SAME and VALID never leave it empty. */
static inline void qk_pool_axis(size_t o, size_t stride, size_t pad, size_t k, size_t n, size_t *lo, size_t *hi) {
  const size_t start = o * stride; /* index + pad, to stay unsigned */
  *lo = start > pad ? start - pad : 0;
  const size_t end = start + k; /* one past the last tap, + pad */
  *hi = end > pad ? end - pad : 0;
  if (*hi > n) *hi = n;
}

static inline qk_pool_span qk_pool_window(const qk_pool_int8_desc *d, const qk_conv2d_geom *g, size_t oy,
                                          size_t ox) {
  qk_pool_span s;
  qk_pool_axis(oy, d->stride_h, g->pad_top, d->filter_h, d->in_h, &s.y0, &s.y1);
  qk_pool_axis(ox, d->stride_w, g->pad_left, d->filter_w, d->in_w, &s.x0, &s.x1);
  return s;
}

/* Channel blocks of 16: 0, 16, ... and, when C is not a multiple, a last block ending at C that
 * overlaps the previous one (its lanes recompute identical values), so no access leaves the pixel.
 * Only C < 16 needs partial accesses; then the single block starts at 0. */
static inline size_t qk_neon_next_block(size_t c0, size_t C) {
  const size_t next = c0 + 16;
  if (next >= C) return C; /* done */
  return next + 16 <= C ? next : C - 16;
}

#endif
