/* Reference int8 Conv2D and DepthwiseConv2D: SPEC.md §5 (TFLite reference/integer_ops/conv.h and
 * depthwise_conv.h) loop for loop. Accumulators in uint32 so wrapping stays defined. */
#include "qk/conv.h"
#include "qk/quant.h"

static int8_t requant(const qk_conv2d_int8_desc *d, uint32_t acc, size_t oc) {
  int32_t v = qk_mbqm32((int32_t)acc, d->multiplier[oc], d->shift[oc], d->rounding);
  v = qk_wrap_add32(v, d->output_zp);
  if (v < d->act_min) v = d->act_min;
  if (v > d->act_max) v = d->act_max;
  return (int8_t)v;
}

void qk_ref_conv2d_int8(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g, const int8_t *x,
                        const int8_t *w, const int32_t *bias, int8_t *y) {
  const size_t H = d->in_h, W = d->in_w, C = d->in_ch, O = d->out_ch;
  const size_t gin = C / d->groups, gout = O / d->groups;
  for (size_t b = 0; b < d->batch; b++)
    for (size_t oy = 0; oy < g->out_h; oy++)
      for (size_t ox = 0; ox < g->out_w; ox++)
        for (size_t oc = 0; oc < O; oc++) {
          const size_t c0 = oc / gout * gin;
          uint32_t acc = 0;
          for (size_t ky = 0; ky < d->k_h; ky++) {
            const long iy = (long)(oy * d->stride_h) - (long)g->pad_top + (long)(ky * d->dilation_h);
            if (iy < 0 || iy >= (long)H) continue;
            for (size_t kx = 0; kx < d->k_w; kx++) {
              const long ix = (long)(ox * d->stride_w) - (long)g->pad_left + (long)(kx * d->dilation_w);
              if (ix < 0 || ix >= (long)W) continue;
              const int8_t *xp = x + ((b * H + (size_t)iy) * W + (size_t)ix) * C + c0;
              const int8_t *wp = w + ((oc * d->k_h + ky) * d->k_w + kx) * gin;
              for (size_t ic = 0; ic < gin; ic++)
                acc += (uint32_t)((int32_t)wp[ic] * ((int32_t)xp[ic] - d->input_zp));
            }
          }
          if (bias) acc += (uint32_t)bias[oc];
          y[((b * g->out_h + oy) * g->out_w + ox) * O + oc] = requant(d, acc, oc);
        }
}

void qk_ref_dwconv2d_int8(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g, const int8_t *x,
                          const int8_t *w, const int32_t *bias, int8_t *y) {
  const size_t H = d->in_h, W = d->in_w, C = d->in_ch, O = d->out_ch, M = d->depth_multiplier;
  for (size_t b = 0; b < d->batch; b++)
    for (size_t oy = 0; oy < g->out_h; oy++)
      for (size_t ox = 0; ox < g->out_w; ox++)
        for (size_t ic = 0; ic < C; ic++)
          for (size_t m = 0; m < M; m++) {
            const size_t oc = ic * M + m;
            uint32_t acc = 0;
            for (size_t ky = 0; ky < d->k_h; ky++) {
              const long iy = (long)(oy * d->stride_h) - (long)g->pad_top + (long)(ky * d->dilation_h);
              if (iy < 0 || iy >= (long)H) continue;
              for (size_t kx = 0; kx < d->k_w; kx++) {
                const long ix = (long)(ox * d->stride_w) - (long)g->pad_left + (long)(kx * d->dilation_w);
                if (ix < 0 || ix >= (long)W) continue;
                const int32_t xv = x[((b * H + (size_t)iy) * W + (size_t)ix) * C + ic];
                const int32_t wv = w[(ky * d->k_w + kx) * O + oc];
                acc += (uint32_t)(wv * (xv - d->input_zp));
              }
            }
            if (bias) acc += (uint32_t)bias[oc];
            y[((b * g->out_h + oy) * g->out_w + ox) * O + oc] = requant(d, acc, oc);
          }
}
