/* Pooling contract checks; geometry as conv with dilation 1. */
#include "qk/pool.h"
#include "internal.h"

qk_status qk_pool_int8_check(const qk_pool_int8_desc *d, qk_conv2d_geom *g) {
  if (!d || !g) return qk_fail(QK_ERR_NULL, "pool_int8: null descriptor");
  if (!d->batch || !d->in_h || !d->in_w || !d->channels)
    return qk_fail(QK_ERR_SHAPE, "pool_int8: batch, height, width and channels must be >= 1");
  qk_status st;
  if ((st = qk_conv_out_size(d->padding, d->in_h, d->filter_h, d->stride_h, 1, &g->out_h, &g->pad_top)) ||
      (st = qk_conv_out_size(d->padding, d->in_w, d->filter_w, d->stride_w, 1, &g->out_w, &g->pad_left)))
    return st;
  size_t n;
  if (!qk_mul_size(d->batch, d->in_h, &n) || !qk_mul_size(n, d->in_w, &n) || !qk_mul_size(n, d->channels, &n) ||
      n > INT32_MAX || !qk_mul_size(d->filter_h, d->filter_w, &n) || n > (1u << 23))
    return qk_fail(QK_ERR_OVERFLOW, "pool_int8: sizes overflow (the window sum must fit int32)");
  if (d->act_min < -128 || d->act_max > 127 || d->act_min > d->act_max)
    return qk_fail(QK_ERR_PARAM, "pool_int8: clamp [%d, %d] invalid", d->act_min, d->act_max);
  return QK_OK;
}
