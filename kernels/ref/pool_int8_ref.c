/* Reference int8 pooling, SPEC.md §8 (TFLite reference/integer_ops/pooling.h). */
#include "qk/pool.h"

typedef struct window { size_t y0, y1, x0, x1; long iy, ix; } window;

/* The filter window of output (oy, ox) clipped to the image. */
static window clip(const qk_pool_int8_desc *d, const qk_conv2d_geom *g, size_t oy, size_t ox) {
  window w;
  w.iy = (long)(oy * d->stride_h) - (long)g->pad_top;
  w.ix = (long)(ox * d->stride_w) - (long)g->pad_left;
  w.y0 = w.iy < 0 ? (size_t)-w.iy : 0;
  w.x0 = w.ix < 0 ? (size_t)-w.ix : 0;
  const long ylim = (long)d->in_h - w.iy, xlim = (long)d->in_w - w.ix;
  w.y1 = ylim < (long)d->filter_h ? (size_t)ylim : d->filter_h;
  w.x1 = xlim < (long)d->filter_w ? (size_t)xlim : d->filter_w;
  return w;
}

static int8_t clamp8(int32_t v, int32_t lo, int32_t hi) { return (int8_t)(v < lo ? lo : v > hi ? hi : v); }

void qk_ref_avgpool_int8(const qk_pool_int8_desc *d, const qk_conv2d_geom *g, const int8_t *x, int8_t *y) {
  const size_t H = d->in_h, W = d->in_w, C = d->channels;
  for (size_t b = 0; b < d->batch; b++)
    for (size_t oy = 0; oy < g->out_h; oy++)
      for (size_t ox = 0; ox < g->out_w; ox++) {
        const window w = clip(d, g, oy, ox);
        for (size_t c = 0; c < C; c++) {
          int32_t sum = 0, count = 0;
          for (size_t fy = w.y0; fy < w.y1; fy++)
            for (size_t fx = w.x0; fx < w.x1; fx++) {
              sum += x[((b * H + (size_t)(w.iy + (long)fy)) * W + (size_t)(w.ix + (long)fx)) * C + c];
              count++;
            }
          /* SAME and VALID never give an empty window; guard the division anyway. */
          const int32_t avg = count == 0 ? 0 : sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
          y[((b * g->out_h + oy) * g->out_w + ox) * C + c] = clamp8(avg, d->act_min, d->act_max);
        }
      }
}

void qk_ref_maxpool_int8(const qk_pool_int8_desc *d, const qk_conv2d_geom *g, const int8_t *x, int8_t *y) {
  const size_t H = d->in_h, W = d->in_w, C = d->channels;
  for (size_t b = 0; b < d->batch; b++)
    for (size_t oy = 0; oy < g->out_h; oy++)
      for (size_t ox = 0; ox < g->out_w; ox++) {
        const window w = clip(d, g, oy, ox);
        for (size_t c = 0; c < C; c++) {
          int32_t m = -128;
          for (size_t fy = w.y0; fy < w.y1; fy++)
            for (size_t fx = w.x0; fx < w.x1; fx++) {
              const int32_t v = x[((b * H + (size_t)(w.iy + (long)fy)) * W + (size_t)(w.ix + (long)fx)) * C + c];
              if (v > m) m = v;
            }
          y[((b * g->out_h + oy) * g->out_w + ox) * C + c] = clamp8(m, d->act_min, d->act_max);
        }
      }
}
