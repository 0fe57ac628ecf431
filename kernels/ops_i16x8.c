/* Runtime entry points of the 16x8 path: check, dispatch, pack once, run. */
#include <stdlib.h>
#include <string.h>

#include "qk/registry.h"
#include "internal.h"

struct qk_fc_i16x8_op {
  qk_fc_i16x8_desc desc;
  const qk_variant *variant;
  void *packed;
};

struct qk_conv2d_i16x8_op {
  qk_conv2d_int8_desc desc;
  qk_conv2d_geom geom;
  const qk_variant *variant;
  void *packed, *ws;
};

/* One allocation holding the op and a copy of the per-channel arrays. */
static void *alloc_op(size_t op_size, size_t n, int32_t **arrays) {
  char *op = calloc(1, op_size + 2 * n * sizeof(int32_t));
  if (op) *arrays = (int32_t *)(op + op_size);
  return op;
}

qk_status qk_fc_i16x8_create(const qk_fc_i16x8_desc *d, const int8_t *w, const int64_t *bias, qk_fc_i16x8_op **out) {
  if (!out) return qk_fail(QK_ERR_NULL, "fc_i16x8_create: null output pointer");
  *out = NULL;
  qk_status st = qk_fc_i16x8_check(d, bias);
  if (st) return st;
  if (!w) return qk_fail(QK_ERR_NULL, "fc_i16x8_create: null weights");
  const qk_variant *v = qk_dispatch(QK_OP_FC, QK_PATH_I16X8);
  if (!v) return QK_ERR_UNSUPPORTED;
  const qk_fc_i16x8_impl *impl = v->impl;
  int32_t *arrays;
  qk_fc_i16x8_op *op = alloc_op(qk_round_up(sizeof *op, 8), d->out_ch, &arrays);
  const size_t psize = qk_round_up(impl->packed_size(d->out_ch, d->in_ch), 64);
  if (!op || posix_memalign(&op->packed, 64, psize) != 0) {
    free(op);
    return qk_fail(QK_ERR_NOMEM, "fc_i16x8_create: cannot allocate %zu bytes", psize);
  }
  memcpy(arrays, d->multiplier, d->out_ch * sizeof(int32_t));
  memcpy(arrays + d->out_ch, d->shift, d->out_ch * sizeof(int32_t));
  op->desc = *d;
  op->desc.multiplier = arrays, op->desc.shift = arrays + d->out_ch;
  op->variant = v;
  impl->pack(&op->desc, w, bias, op->packed);
  *out = op;
  return QK_OK;
}

qk_status qk_fc_i16x8_run(const qk_fc_i16x8_op *op, size_t batch, const int16_t *x, int16_t *y) {
  if (!op || !x || !y) return qk_fail(QK_ERR_NULL, "fc_i16x8_run: null operator, input or output");
  size_t n;
  if (batch == 0) return qk_fail(QK_ERR_SHAPE, "fc_i16x8_run: batch must be >= 1");
  if (!qk_mul_size(batch, op->desc.in_ch, &n) || !qk_mul_size(batch, op->desc.out_ch, &n) || n > (SIZE_MAX >> 2))
    return qk_fail(QK_ERR_OVERFLOW, "fc_i16x8_run: batch %zu overflows", batch);
  ((const qk_fc_i16x8_impl *)op->variant->impl)->run(&op->desc, op->packed, batch, x, y);
  return QK_OK;
}

const char *qk_fc_i16x8_variant(const qk_fc_i16x8_op *op) { return op ? op->variant->name : NULL; }

void qk_fc_i16x8_destroy(qk_fc_i16x8_op *op) {
  if (!op) return;
  free(op->packed);
  free(op);
}

static qk_status conv_create(const qk_conv2d_int8_desc *d, const int8_t *w, const int64_t *bias,
                             qk_conv2d_i16x8_op **out, bool dw) {
  if (!out) return qk_fail(QK_ERR_NULL, "conv_i16x8 create: null output pointer");
  *out = NULL;
  qk_conv2d_geom g;
  qk_status st = dw ? qk_dwconv2d_i16x8_check(d, &g, bias) : qk_conv2d_i16x8_check(d, &g, bias);
  if (st) return st;
  if (!w) return qk_fail(QK_ERR_NULL, "conv_i16x8 create: null weights");
  const qk_variant *v = qk_dispatch(dw ? QK_OP_DWCONV2D : QK_OP_CONV2D, QK_PATH_I16X8);
  if (!v) return QK_ERR_UNSUPPORTED;
  const qk_conv2d_i16x8_impl *impl = v->impl;
  const size_t psize = qk_round_up(impl->packed_size(d), 64), wsize = qk_round_up(impl->workspace_size(d, &g), 64);
  int32_t *arrays;
  qk_conv2d_i16x8_op *op = alloc_op(qk_round_up(sizeof *op, 8), d->out_ch, &arrays);
  if (!op || posix_memalign(&op->packed, 64, psize) != 0 || (wsize && posix_memalign(&op->ws, 64, wsize) != 0)) {
    if (op) free(op->packed);
    free(op);
    return qk_fail(QK_ERR_NOMEM, "conv_i16x8 create: cannot allocate %zu + %zu bytes", psize, wsize);
  }
  memcpy(arrays, d->multiplier, d->out_ch * sizeof(int32_t));
  memcpy(arrays + d->out_ch, d->shift, d->out_ch * sizeof(int32_t));
  op->desc = *d;
  op->desc.multiplier = arrays, op->desc.shift = arrays + d->out_ch;
  op->geom = g;
  op->variant = v;
  impl->pack(&op->desc, w, bias, op->packed);
  *out = op;
  return QK_OK;
}

qk_status qk_conv2d_i16x8_create(const qk_conv2d_int8_desc *d, const int8_t *w, const int64_t *bias,
                                 qk_conv2d_i16x8_op **op) {
  return conv_create(d, w, bias, op, false);
}

qk_status qk_dwconv2d_i16x8_create(const qk_conv2d_int8_desc *d, const int8_t *w, const int64_t *bias,
                                   qk_conv2d_i16x8_op **op) {
  return conv_create(d, w, bias, op, true);
}

qk_status qk_conv2d_i16x8_run(const qk_conv2d_i16x8_op *op, const int16_t *x, int16_t *y) {
  if (!op || !x || !y) return qk_fail(QK_ERR_NULL, "conv_i16x8 run: null operator, input or output");
  ((const qk_conv2d_i16x8_impl *)op->variant->impl)->run(&op->desc, &op->geom, op->packed, x, y, op->ws);
  return QK_OK;
}

const char *qk_conv2d_i16x8_variant(const qk_conv2d_i16x8_op *op) { return op ? op->variant->name : NULL; }

void qk_conv2d_i16x8_destroy(qk_conv2d_i16x8_op *op) {
  if (!op) return;
  free(op->packed);
  free(op->ws);
  free(op);
}

qk_status qk_add_i16(const qk_add_int8_params *p, const size_t s1[4], const int16_t *x1, const size_t s2[4],
                     const int16_t *x2, int16_t *y) {
  qk_status st = qk_add_i16_check(p);
  if (st) return st;
  if (!s1 || !s2 || !x1 || !x2 || !y) return qk_fail(QK_ERR_NULL, "add_i16: null shape or buffer");
  size_t so[4];
  if ((st = qk_broadcast_shape(s1, s2, so))) return st;
  const qk_variant *v = qk_dispatch(QK_OP_ADD, QK_PATH_I16X8);
  if (!v) return QK_ERR_UNSUPPORTED;
  ((const qk_add_i16_impl *)v->impl)->run(p, s1, x1, s2, x2, y);
  return QK_OK;
}

qk_status qk_add_i16_pot(const qk_add_i16_pot_params *p, size_t n, const int16_t *x1, const int16_t *x2, int16_t *y) {
  qk_status st = qk_add_i16_pot_check(p);
  if (st) return st;
  if (n == 0) return QK_OK;
  if (!x1 || !x2 || !y) return qk_fail(QK_ERR_NULL, "add_i16_pot: null buffer");
  const qk_variant *v = qk_dispatch(QK_OP_ADD_POT, QK_PATH_I16X8);
  if (!v) return QK_ERR_UNSUPPORTED;
  ((const qk_add_i16_pot_impl *)v->impl)->run(p, n, x1, x2, y);
  return QK_OK;
}
