/* Pooling contract checks; geometry as conv with dilation 1. */
#include "qk/pool.h"
#include "internal.h"

qk_status qk_pool_int8_check(const qk_pool_int8_desc *d, qk_conv2d_geom *g) {
  if (!d || !g) return qk_fail(QK_ERR_NULL, "pool_int8: null descriptor");
  if (!d->batch || !d->in_h || !d->in_w || !d->channels)
    return qk_fail(QK_ERR_SHAPE, "pool_int8: batch, height, width and channels must be >= 1");
  const qk_conv_shape sh = {d->batch, d->in_h, d->in_w, d->channels, d->channels, d->filter_h, d->filter_w,
                            d->stride_h, d->stride_w, 1, 1, (int)d->padding, 1, 1};
  qk_status st = qk_conv_shape_check(&sh, false, g, "pool_int8");
  if (st) return st;
  if (d->filter_h * d->filter_w > (1u << 23))
    return qk_fail(QK_ERR_OVERFLOW, "pool_int8: window too large (its sum must fit int32)");
  if (d->act_min < -128 || d->act_max > 127 || d->act_min > d->act_max)
    return qk_fail(QK_ERR_PARAM, "pool_int8: clamp [%d, %d] invalid", d->act_min, d->act_max);
  return QK_OK;
}
