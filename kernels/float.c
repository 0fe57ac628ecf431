/* Float-path contract checks. */
#include <math.h>

#include "qk/float.h"
#include "internal.h"

static qk_status act_ok(const char *op, float lo, float hi) {
  if (isnan(lo) || isnan(hi) || lo > hi) return qk_fail(QK_ERR_PARAM, "%s: clamp [%g, %g] invalid", op, lo, hi);
  return QK_OK;
}

qk_status qk_fc_f32_check(const qk_fc_f32_desc *d) {
  if (!d) return qk_fail(QK_ERR_NULL, "fc_f32: null descriptor");
  if (!d->in_ch || !d->out_ch) return qk_fail(QK_ERR_SHAPE, "fc_f32: in_ch and out_ch must be >= 1");
  size_t n;
  if (!qk_mul_size(d->in_ch, d->out_ch, &n) || n > (SIZE_MAX >> 4) || d->in_ch > ((size_t)1 << 24))
    return qk_fail(QK_ERR_OVERFLOW, "fc_f32: %zu x %zu weights overflow", d->out_ch, d->in_ch);
  return act_ok("fc_f32", d->act_min, d->act_max);
}

static qk_status conv_check(const qk_conv2d_f32_desc *d, qk_conv2d_geom *g, bool dw, const char *op) {
  if (!d || !g) return qk_fail(QK_ERR_NULL, "%s: null descriptor", op);
  const qk_conv_shape sh = {d->batch, d->in_h, d->in_w, d->in_ch, d->out_ch, d->k_h, d->k_w, d->stride_h,
                            d->stride_w, d->dilation_h, d->dilation_w, (int)d->padding, d->groups,
                            d->depth_multiplier};
  qk_status st = qk_conv_shape_check(&sh, dw, g, op);
  return st ? st : act_ok(op, d->act_min, d->act_max);
}

qk_status qk_conv2d_f32_check(const qk_conv2d_f32_desc *d, qk_conv2d_geom *g) {
  return conv_check(d, g, false, "conv2d_f32");
}

qk_status qk_dwconv2d_f32_check(const qk_conv2d_f32_desc *d, qk_conv2d_geom *g) {
  return conv_check(d, g, true, "dwconv2d_f32");
}

qk_status qk_add_f32_check(const qk_add_f32_params *p) {
  if (!p) return qk_fail(QK_ERR_NULL, "add_f32: null params");
  return act_ok("add_f32", p->act_min, p->act_max);
}

qk_status qk_pool_f32_check(const qk_pool_f32_desc *d, qk_conv2d_geom *g) {
  if (!d || !g) return qk_fail(QK_ERR_NULL, "pool_f32: null descriptor");
  const qk_conv_shape sh = {d->batch, d->in_h, d->in_w, d->channels, d->channels, d->filter_h, d->filter_w,
                            d->stride_h, d->stride_w, 1, 1, (int)d->padding, 1, 1};
  qk_status st = qk_conv_shape_check(&sh, false, g, "pool_f32");
  return st ? st : act_ok("pool_f32", d->act_min, d->act_max);
}

static qk_status scales_ok(const char *op, const float *s, size_t n) {
  if (!s) return qk_fail(QK_ERR_NULL, "%s: null weight scales", op);
  for (size_t o = 0; o < n; o++)
    if (!(s[o] > 0.0f) || !isfinite(s[o])) return qk_fail(QK_ERR_PARAM, "%s: weight scale %zu is %g", op, o, s[o]);
  return QK_OK;
}

qk_status qk_fc_dynamic_check(const qk_fc_dynamic_desc *d) {
  if (!d) return qk_fail(QK_ERR_NULL, "fc_dynamic: null descriptor");
  const qk_fc_f32_desc f = {d->in_ch, d->out_ch, d->act_min, d->act_max};
  qk_status st = qk_fc_f32_check(&f);
  return st ? st : scales_ok("fc_dynamic", d->w_scale, d->out_ch);
}

qk_status qk_conv2d_dynamic_check(const qk_conv2d_dynamic_desc *d, qk_conv2d_geom *g) {
  if (!d) return qk_fail(QK_ERR_NULL, "conv2d_dynamic: null descriptor");
  qk_status st = conv_check(&d->conv, g, false, "conv2d_dynamic");
  return st ? st : scales_ok("conv2d_dynamic", d->w_scale, d->conv.out_ch);
}

qk_status qk_dwconv2d_dynamic_check(const qk_conv2d_dynamic_desc *d, qk_conv2d_geom *g) {
  if (!d) return qk_fail(QK_ERR_NULL, "dwconv2d_dynamic: null descriptor");
  qk_status st = conv_check(&d->conv, g, true, "dwconv2d_dynamic");
  return st ? st : scales_ok("dwconv2d_dynamic", d->w_scale, d->conv.out_ch);
}
