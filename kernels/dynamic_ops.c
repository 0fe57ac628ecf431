/* Runtime entry point for the dynamic-range DepthwiseConv2D: check the contract, dispatch, pack the
 * weights once, run on float NHWC input. */
#include <stdlib.h>
#include <string.h>

#include "qk/registry.h"
#include "internal.h"

struct qk_dwconv2d_dynamic_op {
  qk_conv2d_dynamic_desc desc; /* w_scale points into this allocation's tail */
  qk_conv2d_geom geom;
  const qk_variant *variant;
  void *packed, *ws;
};

qk_status qk_dwconv2d_dynamic_create(const qk_conv2d_dynamic_desc *d, const int8_t *w, const float *bias,
                                     qk_dwconv2d_dynamic_op **out) {
  if (!out) return qk_fail(QK_ERR_NULL, "dwconv2d_dynamic create: null output pointer");
  *out = NULL;
  qk_conv2d_geom g;
  qk_status st = qk_dwconv2d_dynamic_check(d, &g);
  if (st) return st;
  if (!w) return qk_fail(QK_ERR_NULL, "dwconv2d_dynamic create: null weights");
  const qk_variant *v = qk_dispatch(QK_OP_DWCONV2D, QK_PATH_DYNAMIC);
  if (!v) return QK_ERR_UNSUPPORTED;
  const qk_conv2d_dynamic_impl *impl = v->impl;
  const size_t n = d->conv.out_ch, psize = qk_round_up(impl->packed_size(d), 64);
  const size_t wsize = qk_round_up(impl->workspace_size(d, &g), 64);
  qk_dwconv2d_dynamic_op *op = calloc(1, sizeof *op + n * sizeof(float));
  if (!op || posix_memalign(&op->packed, 64, psize) != 0 || (wsize && posix_memalign(&op->ws, 64, wsize) != 0)) {
    if (op) free(op->packed);
    free(op);
    return qk_fail(QK_ERR_NOMEM, "dwconv2d_dynamic create: cannot allocate %zu + %zu bytes", psize, wsize);
  }
  float *scales = (float *)(op + 1);
  memcpy(scales, d->w_scale, n * sizeof *scales);
  op->desc = *d;
  op->desc.w_scale = scales;
  op->geom = g;
  op->variant = v;
  impl->pack(&op->desc, w, bias, op->packed);
  *out = op;
  return QK_OK;
}

qk_status qk_dwconv2d_dynamic_run(const qk_dwconv2d_dynamic_op *op, const float *x, float *y) {
  if (!op || !x || !y) return qk_fail(QK_ERR_NULL, "dwconv2d_dynamic run: null operator, input or output");
  ((const qk_conv2d_dynamic_impl *)op->variant->impl)->run(&op->desc, &op->geom, op->packed, x, y, op->ws);
  return QK_OK;
}

qk_status qk_dwconv2d_dynamic_out_shape(const qk_dwconv2d_dynamic_op *op, size_t *out_h, size_t *out_w) {
  if (!op || !out_h || !out_w) return qk_fail(QK_ERR_NULL, "dwconv2d_dynamic out_shape: null pointer");
  *out_h = op->geom.out_h;
  *out_w = op->geom.out_w;
  return QK_OK;
}

const char *qk_dwconv2d_dynamic_variant(const qk_dwconv2d_dynamic_op *op) { return op ? op->variant->name : NULL; }

void qk_dwconv2d_dynamic_destroy(qk_dwconv2d_dynamic_op *op) {
  if (!op) return;
  free(op->packed);
  free(op->ws);
  free(op);
}
