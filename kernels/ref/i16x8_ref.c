/* Reference 16x8 kernels: SPEC.md §4-§6 (TFLite reference/integer_ops/fully_connected.h,
 * conv.h, depthwise_conv.h with int16 input and int64 bias; reference/add.h for int16). */
#include "qk/i16x8.h"
#include "qk/quant.h"
#include "internal.h"

static int16_t clamp16(int32_t v, int32_t lo, int32_t hi) { return (int16_t)(v < lo ? lo : v > hi ? hi : v); }

void qk_ref_fc_i16x8(const qk_fc_i16x8_desc *d, const int8_t *w, const int64_t *bias, size_t batch,
                     const int16_t *x, int16_t *y) {
  const size_t K = d->in_ch, N = d->out_ch;
  for (size_t b = 0; b < batch; b++)
    for (size_t o = 0; o < N; o++) {
      int64_t acc = 0;
      for (size_t k = 0; k < K; k++) acc += (int32_t)w[o * K + k] * (int32_t)x[b * K + k];
      if (bias) acc += bias[o];
      y[b * N + o] = clamp16(qk_mbqm64(acc, d->multiplier[o], d->shift[o]), d->act_min, d->act_max);
    }
}

void qk_ref_conv2d_i16x8(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g, const int16_t *x,
                         const int8_t *w, const int64_t *bias, int16_t *y) {
  const size_t H = d->in_h, W = d->in_w, C = d->in_ch, O = d->out_ch;
  const size_t gin = C / d->groups, gout = O / d->groups;
  for (size_t b = 0; b < d->batch; b++)
    for (size_t oy = 0; oy < g->out_h; oy++)
      for (size_t ox = 0; ox < g->out_w; ox++)
        for (size_t oc = 0; oc < O; oc++) {
          const size_t c0 = oc / gout * gin;
          int64_t acc = 0;
          for (size_t ky = 0; ky < d->k_h; ky++) {
            const long iy = (long)(oy * d->stride_h) - (long)g->pad_top + (long)(ky * d->dilation_h);
            if (iy < 0 || iy >= (long)H) continue;
            for (size_t kx = 0; kx < d->k_w; kx++) {
              const long ix = (long)(ox * d->stride_w) - (long)g->pad_left + (long)(kx * d->dilation_w);
              if (ix < 0 || ix >= (long)W) continue;
              const int16_t *xp = x + ((b * H + (size_t)iy) * W + (size_t)ix) * C + c0;
              const int8_t *wp = w + ((oc * d->k_h + ky) * d->k_w + kx) * gin;
              for (size_t ic = 0; ic < gin; ic++) acc += (int32_t)wp[ic] * (int32_t)xp[ic];
            }
          }
          if (bias) acc += bias[oc];
          y[((b * g->out_h + oy) * g->out_w + ox) * O + oc] =
              clamp16(qk_mbqm64(acc, d->multiplier[oc], d->shift[oc]), d->act_min, d->act_max);
        }
}

void qk_ref_dwconv2d_i16x8(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g, const int16_t *x,
                           const int8_t *w, const int64_t *bias, int16_t *y) {
  const size_t H = d->in_h, W = d->in_w, C = d->in_ch, O = d->out_ch, M = d->depth_multiplier;
  for (size_t b = 0; b < d->batch; b++)
    for (size_t oy = 0; oy < g->out_h; oy++)
      for (size_t ox = 0; ox < g->out_w; ox++)
        for (size_t ic = 0; ic < C; ic++)
          for (size_t m = 0; m < M; m++) {
            const size_t oc = ic * M + m;
            int64_t acc = 0;
            for (size_t ky = 0; ky < d->k_h; ky++) {
              const long iy = (long)(oy * d->stride_h) - (long)g->pad_top + (long)(ky * d->dilation_h);
              if (iy < 0 || iy >= (long)H) continue;
              for (size_t kx = 0; kx < d->k_w; kx++) {
                const long ix = (long)(ox * d->stride_w) - (long)g->pad_left + (long)(kx * d->dilation_w);
                if (ix < 0 || ix >= (long)W) continue;
                acc += (int64_t)w[(ky * d->k_w + kx) * O + oc] * x[((b * H + (size_t)iy) * W + (size_t)ix) * C + ic];
              }
            }
            if (bias) acc += bias[oc];
            y[((b * g->out_h + oy) * g->out_w + ox) * O + oc] =
                clamp16(qk_mbqm64(acc, d->multiplier[oc], d->shift[oc]), d->act_min, d->act_max);
          }
}

void qk_ref_add_i16(const qk_add_int8_params *p, const size_t s1[4], const int16_t *x1, const size_t s2[4],
                    const int16_t *x2, int16_t *y) {
  size_t o[4];
  for (int i = 0; i < 4; i++) o[i] = s1[i] > s2[i] ? s1[i] : s2[i];
  size_t k = 0;
  for (size_t n = 0; n < o[0]; n++)
    for (size_t h = 0; h < o[1]; h++)
      for (size_t w = 0; w < o[2]; w++)
        for (size_t c = 0; c < o[3]; c++, k++) {
          const int32_t v1 = (x1[qk_bcast_index(s1, n, h, w, c)] - p->input1_zp) * (1 << p->left_shift);
          const int32_t v2 = (x2[qk_bcast_index(s2, n, h, w, c)] - p->input2_zp) * (1 << p->left_shift);
          const int32_t r1 = qk_mbqm32(v1, p->input1_multiplier, p->input1_shift, p->rounding);
          const int32_t r2 = qk_mbqm32(v2, p->input2_multiplier, p->input2_shift, p->rounding);
          const int32_t r = qk_wrap_add32(
              qk_mbqm32(qk_wrap_add32(r1, r2), p->output_multiplier, p->output_shift, p->rounding), p->output_zp);
          y[k] = clamp16(r, p->act_min, p->act_max);
        }
}
