/* int8 fully connected (SPEC.md §4): y[b,o] = clamp(MBQM32(sum_d w[o,d]*(x[b,d]-zp_in) + bias[o],
 * m[o], shift[o]) + zp_out, act_min, act_max). Filter [out_ch, in_ch] row-major. */
#ifndef QK_FC_H
#define QK_FC_H

#include <stddef.h>
#include <stdint.h>
#include "qk/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qk_fc_int8_desc {
  size_t in_ch;              /* K: inner dimension, >= 1 */
  size_t out_ch;             /* N: output channels, >= 1 */
  int32_t input_zp;          /* [-128, 127] */
  int32_t output_zp;         /* [-128, 127] */
  int32_t act_min, act_max;  /* -128 <= act_min <= act_max <= 127 */
  qk_rounding rounding;
  const int32_t *multiplier; /* [out_ch], each in [0, INT32_MAX]; per-tensor: repeat one value */
  const int32_t *shift;      /* [out_ch], each in [QK_SHIFT_MIN, QK_SHIFT_MAX] */
} qk_fc_int8_desc;

/* Checks a descriptor against the contract; sets qk_last_error() on failure. */
qk_status qk_fc_int8_check(const qk_fc_int8_desc *d);

/* The runtime-facing operator: weights packed once for the dispatched variant. */
typedef struct qk_fc_int8_op qk_fc_int8_op;

/* w: [out_ch, in_ch]; bias: [out_ch] or NULL. The descriptor's arrays are copied. */
qk_status qk_fc_int8_create(const qk_fc_int8_desc *d, const int8_t *w, const int32_t *bias,
                            qk_fc_int8_op **op);
/* x: [batch, in_ch]; y: [batch, out_ch]. batch >= 1. */
qk_status qk_fc_int8_run(const qk_fc_int8_op *op, size_t batch, const int8_t *x, int8_t *y);
const char *qk_fc_int8_variant(const qk_fc_int8_op *op);
void qk_fc_int8_destroy(qk_fc_int8_op *op);

/* The reference kernel itself, unpacked: the executable spec every variant is compared with. */
void qk_ref_fc_int8(const qk_fc_int8_desc *d, const int8_t *w, const int32_t *bias, size_t batch,
                    const int8_t *x, int8_t *y);

#ifdef __cplusplus
}
#endif
#endif
