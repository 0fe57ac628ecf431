/* Reference dynamic-range ("hybrid") kernels: TFLite's SymmetricQuantizeFloats /
 * AsymmetricQuantizeFloats (portable_tensor_utils.cc), FullyConnected EvalHybrid and the reference
 * HybridConvPerChannel (reference/conv.h). Every float operation is written in TFLite's order and
 * this file is built without contraction, so a SIMD variant can match it bit for bit. */
#include <math.h>
#include <stdlib.h>

#include "qk/float.h"

static float clampf(float v, float lo, float hi) { return v < lo ? lo : v > hi ? hi : v; }

void qk_ref_quantize_row(const float *x, size_t n, bool asymmetric, int8_t *q, float *scale, int32_t *offset) {
  float lo = x[0], hi = x[0];
  for (size_t i = 1; i < n; i++) {
    if (x[i] < lo) lo = x[i];
    if (x[i] > hi) hi = x[i];
  }
  *offset = 0;
  if (!asymmetric) {
    const float range = fabsf(lo) > fabsf(hi) ? fabsf(lo) : fabsf(hi);
    if (range == 0.0f) {
      for (size_t i = 0; i < n; i++) q[i] = 0;
      *scale = 1.0f;
      return;
    }
    *scale = range / 127.0f;
    const float inv = 127.0f / range;
    for (size_t i = 0; i < n; i++) {
      const int32_t v = (int32_t)roundf(x[i] * inv);
      q[i] = (int8_t)(v < -127 ? -127 : v > 127 ? 127 : v);
    }
    return;
  }
  const double rmin = fmin(0.0, (double)lo), rmax = fmax(0.0, (double)hi);
  if (rmin == rmax) {
    for (size_t i = 0; i < n; i++) q[i] = 0;
    *scale = 1.0f;
    return;
  }
  const double qmin = -128.0, qmax = 127.0;
  const double s = (rmax - rmin) / (qmax - qmin);
  const double zp_min = qmin - rmin / s, zp_max = qmax - rmax / s;
  const double err_min = fabs(qmin) + fabs(rmin / s), err_max = fabs(qmax) + fabs(rmax / s);
  const double zp = err_min < err_max ? zp_min : zp_max;
  *offset = zp <= qmin ? -128 : zp >= qmax ? 127 : (int32_t)round(zp);
  *scale = (float)s;
  const float inv = (float)(1.0 / (double)*scale);
  for (size_t i = 0; i < n; i++) {
    const int32_t v = (int32_t)roundf((float)*offset + x[i] * inv);
    q[i] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
  }
}

qk_status qk_ref_fc_dynamic(const qk_fc_dynamic_desc *d, const int8_t *w, const float *bias, size_t batch,
                            const float *x, float *y) {
  const size_t K = d->in_ch, N = d->out_ch;
  int8_t *q = malloc(K);
  if (!q) return QK_ERR_NOMEM;
  for (size_t b = 0; b < batch; b++) {
    float s_row;
    int32_t offset;
    qk_ref_quantize_row(x + b * K, K, d->asymmetric, q, &s_row, &offset);
    for (size_t o = 0; o < N; o++) {
      int32_t dot = 0, row_sum = 0;
      for (size_t k = 0; k < K; k++) {
        dot += (int32_t)w[o * K + k] * q[k];
        row_sum += w[o * K + k];
      }
      /* TFLite: `dotprod -= row_sums[row] * batch_offset` with a float batch_offset. */
      if (d->asymmetric) dot = (int32_t)((float)dot - (float)row_sum * (float)offset);
      const float scale = s_row * d->w_scale[o];
      const float acc = (bias ? bias[o] : 0.0f) + (float)dot * scale;
      y[b * N + o] = clampf(acc, d->act_min, d->act_max);
    }
  }
  free(q);
  return QK_OK;
}

qk_status qk_ref_conv2d_dynamic(const qk_conv2d_dynamic_desc *dd, const qk_conv2d_geom *g, const int8_t *w,
                                const float *bias, const float *x, float *y) {
  const qk_conv2d_f32_desc *d = &dd->conv;
  const size_t H = d->in_h, W = d->in_w, C = d->in_ch, O = d->out_ch;
  const size_t gin = C / d->groups, gout = O / d->groups, image = H * W * C;
  int8_t *q_image = malloc(image);
  if (!q_image) return QK_ERR_NOMEM;
  for (size_t b = 0; b < d->batch; b++) {
    float s_img;
    int32_t offset;
    qk_ref_quantize_row(x + b * image, image, dd->asymmetric, q_image, &s_img, &offset);
    for (size_t oy = 0; oy < g->out_h; oy++)
      for (size_t ox = 0; ox < g->out_w; ox++)
        for (size_t oc = 0; oc < O; oc++) {
          const size_t c0 = oc / gout * gin;
          int32_t acc = 0;
          for (size_t ky = 0; ky < d->k_h; ky++) {
            const long iy = (long)(oy * d->stride_h) - (long)g->pad_top + (long)(ky * d->dilation_h);
            if (iy < 0 || iy >= (long)H) continue;
            for (size_t kx = 0; kx < d->k_w; kx++) {
              const long ix = (long)(ox * d->stride_w) - (long)g->pad_left + (long)(kx * d->dilation_w);
              if (ix < 0 || ix >= (long)W) continue;
              const int8_t *qp = q_image + ((size_t)iy * W + (size_t)ix) * C + c0;
              const int8_t *wp = w + ((oc * d->k_h + ky) * d->k_w + kx) * gin;
              for (size_t ic = 0; ic < gin; ic++) acc += (int32_t)wp[ic] * ((int32_t)qp[ic] - offset);
            }
          }
          float acc_f = (float)acc * dd->w_scale[oc] * s_img;
          if (bias) acc_f += bias[oc];
          y[((b * g->out_h + oy) * g->out_w + ox) * O + oc] = clampf(acc_f, d->act_min, d->act_max);
        }
  }
  free(q_image);
  return QK_OK;
}

qk_status qk_ref_dwconv2d_dynamic(const qk_conv2d_dynamic_desc *dd, const qk_conv2d_geom *g, const int8_t *w,
                                  const float *bias, const float *x, float *y) {
  const qk_conv2d_f32_desc *d = &dd->conv;
  const size_t H = d->in_h, W = d->in_w, C = d->in_ch, O = d->out_ch, dm = d->depth_multiplier;
  const size_t image = H * W * C;
  int8_t *q_image = malloc(image);
  if (!q_image) return QK_ERR_NOMEM;
  for (size_t b = 0; b < d->batch; b++) {
    float s_img;
    int32_t offset;
    qk_ref_quantize_row(x + b * image, image, dd->asymmetric, q_image, &s_img, &offset);
    for (size_t oy = 0; oy < g->out_h; oy++)
      for (size_t ox = 0; ox < g->out_w; ox++)
        for (size_t oc = 0; oc < O; oc++) {
          const size_t ic = oc / dm;
          int32_t acc = 0;
          for (size_t ky = 0; ky < d->k_h; ky++) {
            const long iy = (long)(oy * d->stride_h) - (long)g->pad_top + (long)(ky * d->dilation_h);
            if (iy < 0 || iy >= (long)H) continue;
            for (size_t kx = 0; kx < d->k_w; kx++) {
              const long ix = (long)(ox * d->stride_w) - (long)g->pad_left + (long)(kx * d->dilation_w);
              if (ix < 0 || ix >= (long)W) continue;
              const int32_t qv = q_image[((size_t)iy * W + (size_t)ix) * C + ic];
              acc += (int32_t)w[(ky * d->k_w + kx) * O + oc] * (qv - offset);
            }
          }
          float acc_f = (float)acc;
          acc_f *= dd->w_scale[oc] * s_img;
          if (bias) acc_f += bias[oc];
          y[((b * g->out_h + oy) * g->out_w + ox) * O + oc] = clampf(acc_f, d->act_min, d->act_max);
        }
  }
  free(q_image);
  return QK_OK;
}
