/* int8 fully connected: contract checks and the runtime operator over the dispatched variant. */
#include <stdlib.h>
#include <string.h>

#include "qk/fc.h"
#include "qk/quant.h"
#include "qk/registry.h"
#include "internal.h"

qk_status qk_fc_int8_check(const qk_fc_int8_desc *d) {
  if (!d) return qk_fail(QK_ERR_NULL, "fc_int8: null descriptor");
  if (!d->multiplier || !d->shift) return qk_fail(QK_ERR_NULL, "fc_int8: null multiplier or shift array");
  if (d->in_ch == 0 || d->out_ch == 0)
    return qk_fail(QK_ERR_SHAPE, "fc_int8: in_ch=%zu out_ch=%zu must both be >= 1", d->in_ch, d->out_ch);
  size_t wbytes;
  /* Weights are also addressed as int32 sums and packed with padding: keep K*N well in range. */
  if (!qk_mul_size(d->in_ch, d->out_ch, &wbytes) || wbytes > (SIZE_MAX >> 4) || d->in_ch > (1u << 24))
    return qk_fail(QK_ERR_OVERFLOW, "fc_int8: %zu x %zu weights overflow", d->out_ch, d->in_ch);
  if (d->input_zp < -128 || d->input_zp > 127 || d->output_zp < -128 || d->output_zp > 127)
    return qk_fail(QK_ERR_PARAM, "fc_int8: zero points (%d, %d) outside [-128, 127]", d->input_zp, d->output_zp);
  if (d->act_min < -128 || d->act_max > 127 || d->act_min > d->act_max)
    return qk_fail(QK_ERR_PARAM, "fc_int8: clamp [%d, %d] is not inside [-128, 127]", d->act_min, d->act_max);
  if (d->rounding != QK_ROUND_DOUBLE && d->rounding != QK_ROUND_SINGLE)
    return qk_fail(QK_ERR_PARAM, "fc_int8: unknown rounding mode %d", (int)d->rounding);
  for (size_t o = 0; o < d->out_ch; o++) {
    if (d->multiplier[o] < 0)
      return qk_fail(QK_ERR_PARAM, "fc_int8: channel %zu multiplier %d is negative", o, d->multiplier[o]);
    if (d->shift[o] < QK_SHIFT_MIN || d->shift[o] > QK_SHIFT_MAX)
      return qk_fail(QK_ERR_PARAM, "fc_int8: channel %zu shift %d outside [%d, %d]", o, d->shift[o],
                     QK_SHIFT_MIN, QK_SHIFT_MAX);
  }
  return QK_OK;
}

struct qk_fc_int8_op {
  qk_fc_int8_desc desc; /* arrays point into this allocation's tail */
  const qk_variant *variant;
  void *packed;
};

qk_status qk_fc_int8_create(const qk_fc_int8_desc *d, const int8_t *w, const int32_t *bias,
                            qk_fc_int8_op **out) {
  if (!out) return qk_fail(QK_ERR_NULL, "fc_int8_create: null output pointer");
  *out = NULL;
  qk_status st = qk_fc_int8_check(d);
  if (st) return st;
  if (!w) return qk_fail(QK_ERR_NULL, "fc_int8_create: null weights");
  const qk_variant *v = qk_dispatch_shape(QK_OP_FC, QK_PATH_INT8, 0, d->in_ch, d->out_ch);
  if (!v) return QK_ERR_UNSUPPORTED;
  const qk_fc_int8_impl *impl = v->impl;
  const size_t n = d->out_ch;
  const size_t psize = impl->packed_size(n, d->in_ch);
  qk_fc_int8_op *op = malloc(sizeof *op + 2 * n * sizeof(int32_t));
  void *packed = NULL;
  if (!op || posix_memalign(&packed, 64, qk_round_up(psize, 64)) != 0) {
    free(op);
    return qk_fail(QK_ERR_NOMEM, "fc_int8_create: cannot allocate %zu bytes", psize);
  }
  int32_t *arrays = (int32_t *)(op + 1);
  memcpy(arrays, d->multiplier, n * sizeof(int32_t));
  memcpy(arrays + n, d->shift, n * sizeof(int32_t));
  op->desc = *d;
  op->desc.multiplier = arrays;
  op->desc.shift = arrays + n;
  op->variant = v;
  op->packed = packed;
  impl->pack(&op->desc, w, bias, packed);
  *out = op;
  return QK_OK;
}

qk_status qk_fc_int8_run(const qk_fc_int8_op *op, size_t batch, const int8_t *x, int8_t *y) {
  if (!op || !x || !y) return qk_fail(QK_ERR_NULL, "fc_int8_run: null operator, input or output");
  size_t elems;
  if (batch == 0) return qk_fail(QK_ERR_SHAPE, "fc_int8_run: batch must be >= 1");
  if (!qk_mul_size(batch, op->desc.in_ch, &elems) || !qk_mul_size(batch, op->desc.out_ch, &elems) ||
      elems > (SIZE_MAX >> 1))
    return qk_fail(QK_ERR_OVERFLOW, "fc_int8_run: batch %zu overflows", batch);
  ((const qk_fc_int8_impl *)op->variant->impl)->run(&op->desc, op->packed, batch, x, y);
  return QK_OK;
}

const char *qk_fc_int8_variant(const qk_fc_int8_op *op) { return op ? op->variant->name : NULL; }

void qk_fc_int8_destroy(qk_fc_int8_op *op) {
  if (!op) return;
  free(op->packed);
  free(op);
}
