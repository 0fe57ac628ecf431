/* Conv2D / DepthwiseConv2D geometry (TFLite padding.h) and contract checks. */
#include "qk/conv.h"
#include "qk/quant.h"
#include "internal.h"

qk_status qk_conv_out_size(qk_padding pad, size_t in, size_t kernel, size_t stride, size_t dilation,
                           size_t *out, size_t *pad_before) {
  if (!out || !pad_before) return qk_fail(QK_ERR_NULL, "conv geometry: null output");
  if (in == 0 || kernel == 0 || stride == 0 || dilation == 0)
    return qk_fail(QK_ERR_SHAPE, "conv geometry: input %zu, kernel %zu, stride %zu, dilation %zu must be >= 1",
                   in, kernel, stride, dilation);
  size_t ek;
  if (!qk_mul_size(kernel - 1, dilation, &ek) || !qk_add_size(ek, 1, &ek))
    return qk_fail(QK_ERR_OVERFLOW, "conv geometry: effective kernel overflows");
  size_t o;
  if (pad == QK_PAD_SAME) {
    o = (in + stride - 1) / stride;
  } else if (pad == QK_PAD_VALID) {
    if (ek > in) return qk_fail(QK_ERR_SHAPE, "conv geometry: VALID kernel extent %zu exceeds input %zu", ek, in);
    o = (in - ek) / stride + 1;
  } else {
    return qk_fail(QK_ERR_PARAM, "conv geometry: unknown padding %d", (int)pad);
  }
  size_t need;
  if (!qk_mul_size(o - 1, stride, &need) || !qk_add_size(need, ek, &need))
    return qk_fail(QK_ERR_OVERFLOW, "conv geometry: padding overflows");
  const size_t total = need > in ? need - in : 0;
  *out = o;
  *pad_before = total / 2;
  return QK_OK;
}

qk_status qk_conv_shape_check(const qk_conv_shape *d, bool dw, qk_conv2d_geom *g, const char *op) {
  if (!d->batch || !d->in_h || !d->in_w || !d->in_ch || !d->out_ch)
    return qk_fail(QK_ERR_SHAPE, "%s: batch, height, width and channels must be >= 1", op);
  qk_status st;
  if ((st = qk_conv_out_size((qk_padding)d->padding, d->in_h, d->k_h, d->stride_h, d->dilation_h, &g->out_h, &g->pad_top)) ||
      (st = qk_conv_out_size((qk_padding)d->padding, d->in_w, d->k_w, d->stride_w, d->dilation_w, &g->out_w, &g->pad_left)))
    return st;
  size_t n;
  /* Every tensor's element count, and the int32 index math in kernels, must stay in range. */
  if (!qk_mul_size(d->batch, d->in_h, &n) || !qk_mul_size(n, d->in_w, &n) || !qk_mul_size(n, d->in_ch, &n) ||
      n > INT32_MAX || !qk_mul_size(d->batch, g->out_h, &n) || !qk_mul_size(n, g->out_w, &n) ||
      !qk_mul_size(n, d->out_ch, &n) || n > INT32_MAX || !qk_mul_size(d->k_h, d->k_w, &n) ||
      !qk_mul_size(n, d->out_ch, &n) || !qk_mul_size(n, d->in_ch, &n) || n > INT32_MAX)
    return qk_fail(QK_ERR_OVERFLOW, "%s: tensor sizes overflow", op);
  if (dw) {
    size_t oc;
    if (d->depth_multiplier == 0 || !qk_mul_size(d->in_ch, d->depth_multiplier, &oc) || oc != d->out_ch)
      return qk_fail(QK_ERR_SHAPE, "%s: out_ch %zu != in_ch %zu x depth_multiplier %zu", op, d->out_ch, d->in_ch,
                     d->depth_multiplier);
  } else if (d->groups == 0 || d->in_ch % d->groups || d->out_ch % d->groups) {
    return qk_fail(QK_ERR_SHAPE, "%s: %zu groups do not divide %zu input and %zu output channels", op, d->groups,
                   d->in_ch, d->out_ch);
  }
  return QK_OK;
}

static qk_status check_common(const qk_conv2d_int8_desc *d, qk_conv2d_geom *g, bool dw, const char *op) {
  if (!d || !g) return qk_fail(QK_ERR_NULL, "%s: null descriptor", op);
  if (!d->multiplier || !d->shift) return qk_fail(QK_ERR_NULL, "%s: null multiplier or shift array", op);
  const qk_conv_shape sh = {d->batch, d->in_h, d->in_w, d->in_ch, d->out_ch, d->k_h, d->k_w, d->stride_h,
                            d->stride_w, d->dilation_h, d->dilation_w, (int)d->padding, d->groups,
                            d->depth_multiplier};
  qk_status st = qk_conv_shape_check(&sh, dw, g, op);
  if (st) return st;
  if (d->input_zp < -128 || d->input_zp > 127 || d->output_zp < -128 || d->output_zp > 127)
    return qk_fail(QK_ERR_PARAM, "%s: zero points (%d, %d) outside [-128, 127]", op, d->input_zp, d->output_zp);
  if (d->act_min < -128 || d->act_max > 127 || d->act_min > d->act_max)
    return qk_fail(QK_ERR_PARAM, "%s: clamp [%d, %d] is not inside [-128, 127]", op, d->act_min, d->act_max);
  if (d->rounding != QK_ROUND_DOUBLE && d->rounding != QK_ROUND_SINGLE)
    return qk_fail(QK_ERR_PARAM, "%s: unknown rounding mode %d", op, (int)d->rounding);
  for (size_t o = 0; o < d->out_ch; o++)
    if (d->multiplier[o] < 0 || d->shift[o] < QK_SHIFT_MIN || d->shift[o] > QK_SHIFT_MAX)
      return qk_fail(QK_ERR_PARAM, "%s: channel %zu multiplier %d / shift %d outside the contract", op, o,
                     d->multiplier[o], d->shift[o]);
  return QK_OK;
}

qk_status qk_conv2d_int8_check(const qk_conv2d_int8_desc *d, qk_conv2d_geom *g) {
  return check_common(d, g, false, "conv2d_int8");
}

qk_status qk_dwconv2d_int8_check(const qk_conv2d_int8_desc *d, qk_conv2d_geom *g) {
  return check_common(d, g, true, "dwconv2d_int8");
}
