/* Reference float32 kernels (TFLite reference_ops float FC, Conv, DepthwiseConv, Add, AveragePool):
 * ascending-order float32 sums, bias added last, then the clamp. Built with -ffp-contract=off. */
#include "qk/float.h"
#include "internal.h"

static float clampf(float v, float lo, float hi) { return v < lo ? lo : v > hi ? hi : v; }

void qk_ref_fc_f32(const qk_fc_f32_desc *d, const float *w, const float *bias, size_t batch, const float *x,
                   float *y) {
  const size_t K = d->in_ch, N = d->out_ch;
  for (size_t b = 0; b < batch; b++)
    for (size_t o = 0; o < N; o++) {
      float total = 0.0f;
      for (size_t k = 0; k < K; k++) total += x[b * K + k] * w[o * K + k];
      y[b * N + o] = clampf(total + (bias ? bias[o] : 0.0f), d->act_min, d->act_max);
    }
}

void qk_ref_conv2d_f32(const qk_conv2d_f32_desc *d, const qk_conv2d_geom *g, const float *x, const float *w,
                       const float *bias, float *y) {
  const size_t H = d->in_h, W = d->in_w, C = d->in_ch, O = d->out_ch;
  const size_t gin = C / d->groups, gout = O / d->groups;
  for (size_t b = 0; b < d->batch; b++)
    for (size_t oy = 0; oy < g->out_h; oy++)
      for (size_t ox = 0; ox < g->out_w; ox++)
        for (size_t oc = 0; oc < O; oc++) {
          const size_t c0 = oc / gout * gin;
          float total = 0.0f;
          for (size_t ky = 0; ky < d->k_h; ky++) {
            const long iy = (long)(oy * d->stride_h) - (long)g->pad_top + (long)(ky * d->dilation_h);
            if (iy < 0 || iy >= (long)H) continue;
            for (size_t kx = 0; kx < d->k_w; kx++) {
              const long ix = (long)(ox * d->stride_w) - (long)g->pad_left + (long)(kx * d->dilation_w);
              if (ix < 0 || ix >= (long)W) continue;
              const float *xp = x + ((b * H + (size_t)iy) * W + (size_t)ix) * C + c0;
              const float *wp = w + ((oc * d->k_h + ky) * d->k_w + kx) * gin;
              for (size_t ic = 0; ic < gin; ic++) total += xp[ic] * wp[ic];
            }
          }
          y[((b * g->out_h + oy) * g->out_w + ox) * O + oc] =
              clampf(total + (bias ? bias[oc] : 0.0f), d->act_min, d->act_max);
        }
}

void qk_ref_dwconv2d_f32(const qk_conv2d_f32_desc *d, const qk_conv2d_geom *g, const float *x, const float *w,
                         const float *bias, float *y) {
  const size_t H = d->in_h, W = d->in_w, C = d->in_ch, O = d->out_ch, M = d->depth_multiplier;
  for (size_t b = 0; b < d->batch; b++)
    for (size_t oy = 0; oy < g->out_h; oy++)
      for (size_t ox = 0; ox < g->out_w; ox++)
        for (size_t ic = 0; ic < C; ic++)
          for (size_t m = 0; m < M; m++) {
            const size_t oc = ic * M + m;
            float total = 0.0f;
            for (size_t ky = 0; ky < d->k_h; ky++) {
              const long iy = (long)(oy * d->stride_h) - (long)g->pad_top + (long)(ky * d->dilation_h);
              if (iy < 0 || iy >= (long)H) continue;
              for (size_t kx = 0; kx < d->k_w; kx++) {
                const long ix = (long)(ox * d->stride_w) - (long)g->pad_left + (long)(kx * d->dilation_w);
                if (ix < 0 || ix >= (long)W) continue;
                total += x[((b * H + (size_t)iy) * W + (size_t)ix) * C + ic] * w[(ky * d->k_w + kx) * O + oc];
              }
            }
            y[((b * g->out_h + oy) * g->out_w + ox) * O + oc] =
                clampf(total + (bias ? bias[oc] : 0.0f), d->act_min, d->act_max);
          }
}

void qk_ref_add_f32(const qk_add_f32_params *p, const size_t s1[4], const float *x1, const size_t s2[4],
                    const float *x2, float *y) {
  size_t o[4], k = 0;
  for (int i = 0; i < 4; i++) o[i] = s1[i] > s2[i] ? s1[i] : s2[i];
  for (size_t n = 0; n < o[0]; n++)
    for (size_t h = 0; h < o[1]; h++)
      for (size_t w = 0; w < o[2]; w++)
        for (size_t c = 0; c < o[3]; c++, k++)
          y[k] = clampf(x1[qk_bcast_index(s1, n, h, w, c)] + x2[qk_bcast_index(s2, n, h, w, c)], p->act_min, p->act_max);
}

void qk_ref_avgpool_f32(const qk_pool_f32_desc *d, const qk_conv2d_geom *g, const float *x, float *y) {
  const size_t H = d->in_h, W = d->in_w, C = d->channels;
  for (size_t b = 0; b < d->batch; b++)
    for (size_t oy = 0; oy < g->out_h; oy++)
      for (size_t ox = 0; ox < g->out_w; ox++) {
        const long iy0 = (long)(oy * d->stride_h) - (long)g->pad_top, ix0 = (long)(ox * d->stride_w) - (long)g->pad_left;
        for (size_t c = 0; c < C; c++) {
          float total = 0.0f;
          int count = 0;
          for (size_t fy = 0; fy < d->filter_h; fy++) {
            const long iy = iy0 + (long)fy;
            if (iy < 0 || iy >= (long)H) continue;
            for (size_t fx = 0; fx < d->filter_w; fx++) {
              const long ix = ix0 + (long)fx;
              if (ix < 0 || ix >= (long)W) continue;
              total += x[((b * H + (size_t)iy) * W + (size_t)ix) * C + c];
              count++;
            }
          }
          y[((b * g->out_h + oy) * g->out_w + ox) * C + c] =
              clampf(count ? total / (float)count : 0.0f, d->act_min, d->act_max);
        }
      }
}
