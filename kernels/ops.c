/* Runtime entry points for the int8 ops beyond FC: check the contract, dispatch, run. */
#include <stdlib.h>
#include <string.h>

#include "qk/registry.h"
#include "internal.h"

struct qk_conv2d_int8_op {
  qk_conv2d_int8_desc desc; /* arrays point into this allocation's tail */
  qk_conv2d_geom geom;
  const qk_variant *variant;
  void *packed, *ws;
};

static qk_status conv_create(const qk_conv2d_int8_desc *d, const int8_t *w, const int32_t *bias,
                             qk_conv2d_int8_op **out, bool dw) {
  if (!out) return qk_fail(QK_ERR_NULL, "conv create: null output pointer");
  *out = NULL;
  qk_conv2d_geom g;
  qk_status st = dw ? qk_dwconv2d_int8_check(d, &g) : qk_conv2d_int8_check(d, &g);
  if (st) return st;
  if (!w) return qk_fail(QK_ERR_NULL, "conv create: null weights");
  const size_t m = d->batch * g.out_h * g.out_w, k = d->k_h * d->k_w * (dw ? 1 : d->in_ch / d->groups);
  const qk_variant *v = qk_dispatch_shape(dw ? QK_OP_DWCONV2D : QK_OP_CONV2D, QK_PATH_INT8, m, k, d->out_ch);
  if (!v) return QK_ERR_UNSUPPORTED;
  const qk_conv2d_int8_impl *impl = v->impl;
  const size_t n = d->out_ch, psize = qk_round_up(impl->packed_size(d), 64);
  const size_t wsize = qk_round_up(impl->workspace_size(d, &g), 64);
  qk_conv2d_int8_op *op = calloc(1, sizeof *op + 2 * n * sizeof(int32_t));
  if (!op || posix_memalign(&op->packed, 64, psize) != 0 || (wsize && posix_memalign(&op->ws, 64, wsize) != 0)) {
    if (op) free(op->packed);
    free(op);
    return qk_fail(QK_ERR_NOMEM, "conv create: cannot allocate %zu + %zu bytes", psize, wsize);
  }
  int32_t *arrays = (int32_t *)(op + 1);
  memcpy(arrays, d->multiplier, n * sizeof(int32_t));
  memcpy(arrays + n, d->shift, n * sizeof(int32_t));
  op->desc = *d;
  op->desc.multiplier = arrays;
  op->desc.shift = arrays + n;
  op->geom = g;
  op->variant = v;
  impl->pack(&op->desc, w, bias, op->packed);
  *out = op;
  return QK_OK;
}

qk_status qk_conv2d_int8_create(const qk_conv2d_int8_desc *d, const int8_t *w, const int32_t *bias,
                                qk_conv2d_int8_op **op) {
  return conv_create(d, w, bias, op, false);
}

qk_status qk_dwconv2d_int8_create(const qk_conv2d_int8_desc *d, const int8_t *w, const int32_t *bias,
                                  qk_conv2d_int8_op **op) {
  return conv_create(d, w, bias, op, true);
}

qk_status qk_conv2d_int8_run(const qk_conv2d_int8_op *op, const int8_t *x, int8_t *y) {
  if (!op || !x || !y) return qk_fail(QK_ERR_NULL, "conv run: null operator, input or output");
  ((const qk_conv2d_int8_impl *)op->variant->impl)->run(&op->desc, &op->geom, op->packed, x, y, op->ws);
  return QK_OK;
}

qk_status qk_conv2d_int8_out_shape(const qk_conv2d_int8_op *op, size_t *out_h, size_t *out_w) {
  if (!op || !out_h || !out_w) return qk_fail(QK_ERR_NULL, "conv out_shape: null pointer");
  *out_h = op->geom.out_h;
  *out_w = op->geom.out_w;
  return QK_OK;
}

const char *qk_conv2d_int8_variant(const qk_conv2d_int8_op *op) { return op ? op->variant->name : NULL; }

void qk_conv2d_int8_destroy(qk_conv2d_int8_op *op) {
  if (!op) return;
  free(op->packed);
  free(op->ws);
  free(op);
}

static const void *impl_for(qk_op op) {
  const qk_variant *v = qk_dispatch(op, QK_PATH_INT8);
  return v ? v->impl : NULL;
}

/* int16 element buffers go to the 16x8 path's conversions. */
static const void *convert_impl(qk_op op, qk_qtype t) {
  const qk_variant *v = qk_dispatch(op, t == QK_Q_INT16 ? QK_PATH_I16X8 : QK_PATH_INT8);
  return v ? v->impl : NULL;
}

static qk_status eltwise_args(const size_t s1[4], const int8_t *x1, const size_t s2[4], const int8_t *x2, int8_t *y) {
  if (!s1 || !s2 || !x1 || !x2 || !y) return qk_fail(QK_ERR_NULL, "eltwise: null shape or buffer");
  size_t so[4];
  return qk_broadcast_shape(s1, s2, so);
}

qk_status qk_add_int8(const qk_add_int8_params *p, const size_t s1[4], const int8_t *x1, const size_t s2[4],
                      const int8_t *x2, int8_t *y) {
  qk_status st = qk_add_int8_check(p);
  if (st || (st = eltwise_args(s1, x1, s2, x2, y))) return st;
  const qk_add_int8_impl *impl = impl_for(QK_OP_ADD);
  if (!impl) return QK_ERR_UNSUPPORTED;
  impl->run(p, s1, x1, s2, x2, y);
  return QK_OK;
}

qk_status qk_mul_int8(const qk_mul_int8_params *p, const size_t s1[4], const int8_t *x1, const size_t s2[4],
                      const int8_t *x2, int8_t *y) {
  qk_status st = qk_mul_int8_check(p);
  if (st || (st = eltwise_args(s1, x1, s2, x2, y))) return st;
  const qk_mul_int8_impl *impl = impl_for(QK_OP_MUL);
  if (!impl) return QK_ERR_UNSUPPORTED;
  impl->run(p, s1, x1, s2, x2, y);
  return QK_OK;
}

static qk_status pool(const qk_pool_int8_desc *d, const int8_t *x, int8_t *y, qk_op op) {
  qk_conv2d_geom g;
  qk_status st = qk_pool_int8_check(d, &g);
  if (st) return st;
  if (!x || !y) return qk_fail(QK_ERR_NULL, "pool: null buffer");
  const qk_pool_int8_impl *impl = impl_for(op);
  if (!impl) return QK_ERR_UNSUPPORTED;
  impl->run(d, &g, x, y);
  return QK_OK;
}

qk_status qk_avgpool_int8(const qk_pool_int8_desc *d, const int8_t *x, int8_t *y) { return pool(d, x, y, QK_OP_AVGPOOL); }
qk_status qk_maxpool_int8(const qk_pool_int8_desc *d, const int8_t *x, int8_t *y) { return pool(d, x, y, QK_OP_MAXPOOL); }

static qk_status qtype_ok(qk_qtype t, int32_t zp) {
  if (t != QK_Q_INT8 && t != QK_Q_UINT8 && t != QK_Q_INT16) return qk_fail(QK_ERR_PARAM, "unknown quantized type %d", (int)t);
  const int32_t lo = t == QK_Q_UINT8 ? 0 : t == QK_Q_INT16 ? -32768 : -128, span = t == QK_Q_INT16 ? 65535 : 255;
  if (zp < lo || zp > lo + span) return qk_fail(QK_ERR_PARAM, "zero point %d outside its type", zp);
  return QK_OK;
}

qk_status qk_quantize(const float *x, size_t n, float scale, int32_t zp, qk_qtype type, void *y) {
  if (!x || !y) return qk_fail(QK_ERR_NULL, "quantize: null buffer");
  if (n == 0) return qk_fail(QK_ERR_SHAPE, "quantize: empty tensor");
  if (!(scale > 0.0f) || scale == __builtin_inff()) return qk_fail(QK_ERR_PARAM, "quantize: scale %g invalid", scale);
  qk_status st = qtype_ok(type, zp);
  if (st) return st;
  const qk_quantize_impl *impl = convert_impl(QK_OP_QUANTIZE, type);
  if (!impl) return QK_ERR_UNSUPPORTED;
  impl->run(x, n, scale, zp, type, y);
  return QK_OK;
}

qk_status qk_dequantize(const void *x, size_t n, qk_qtype type, float scale, int32_t zp, float *y) {
  if (!x || !y) return qk_fail(QK_ERR_NULL, "dequantize: null buffer");
  if (n == 0) return qk_fail(QK_ERR_SHAPE, "dequantize: empty tensor");
  if (!(scale > 0.0f) || scale == __builtin_inff()) return qk_fail(QK_ERR_PARAM, "dequantize: scale %g invalid", scale);
  qk_status st = qtype_ok(type, zp);
  if (st) return st;
  const qk_dequantize_impl *impl = convert_impl(QK_OP_DEQUANTIZE, type);
  if (!impl) return QK_ERR_UNSUPPORTED;
  impl->run(x, n, type, scale, zp, y);
  return QK_OK;
}

qk_status qk_requantize(const qk_requant_params *p, const void *x, size_t n, void *y) {
  qk_status st = qk_requant_check(p);
  if (st) return st;
  if (!x || !y) return qk_fail(QK_ERR_NULL, "requantize: null buffer");
  if (n == 0) return qk_fail(QK_ERR_SHAPE, "requantize: empty tensor");
  const qk_requantize_impl *impl = convert_impl(QK_OP_REQUANTIZE, p->in_type);
  if (!impl) return QK_ERR_UNSUPPORTED;
  impl->run(p, x, n, y);
  return QK_OK;
}
