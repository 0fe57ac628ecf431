/* The 16x8 path (SPEC.md §1.5, §4-§6, §9-§10): int16 activations with zero point 0, int8
 * per-channel weights, int64 bias and accumulator, MultiplyByQuantizedMultiplier for int64 with
 * the 15-bit reduced multiplier (identical in TFLite's double- and single-rounding builds). */
#ifndef QK_I16X8_H
#define QK_I16X8_H

#include <stddef.h>
#include <stdint.h>
#include "qk/status.h"
#include "qk/conv.h"
#include "qk/eltwise.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bias bound of the contract: with |w*x| <= 2^22 and K <= 2^24 the accumulator stays inside
 * MBQM64's [-2^47, 2^47). TFLite's converter produces biases far below it (about 2^38 at most). */
#define QK_I16X8_BIAS_MAX (INT64_C(1) << 40)
#define QK_I16X8_K_MAX ((size_t)1 << 24)

typedef struct qk_fc_i16x8_desc {
  size_t in_ch, out_ch;
  int32_t act_min, act_max;  /* within [-32768, 32767] */
  const int32_t *multiplier; /* [out_ch] in [0, INT32_MAX] */
  const int32_t *shift;      /* [out_ch] in [-31, 7] */
} qk_fc_i16x8_desc;

qk_status qk_fc_i16x8_check(const qk_fc_i16x8_desc *d, const int64_t *bias);
void qk_ref_fc_i16x8(const qk_fc_i16x8_desc *d, const int8_t *w, const int64_t *bias, size_t batch,
                     const int16_t *x, int16_t *y);

/* Conv2D / DepthwiseConv2D 16x8 reuse the int8 descriptor: zero points must be 0 (the 16x8 conv
 * kernels apply no offsets), the clamp is in int16, shifts in [-31, 7], rounding is ignored. */
qk_status qk_conv2d_i16x8_check(const qk_conv2d_int8_desc *d, qk_conv2d_geom *g, const int64_t *bias);
qk_status qk_dwconv2d_i16x8_check(const qk_conv2d_int8_desc *d, qk_conv2d_geom *g, const int64_t *bias);
void qk_ref_conv2d_i16x8(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g, const int16_t *x,
                         const int8_t *w, const int64_t *bias, int16_t *y);
void qk_ref_dwconv2d_i16x8(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g, const int16_t *x,
                           const int8_t *w, const int64_t *bias, int16_t *y);

/* int16 Add, general-scale path: qk_add_int8_params with left_shift 15, zero points and clamp in
 * int16 (qk_add_derive(..., 15, ...) computes the multipliers). */
qk_status qk_add_i16_check(const qk_add_int8_params *p);
void qk_ref_add_i16(const qk_add_int8_params *p, const size_t s1[4], const int16_t *x1, const size_t s2[4],
                    const int16_t *x2, int16_t *y);

/* Runtime operators (weights packed once for the dispatched variant). */
typedef struct qk_fc_i16x8_op qk_fc_i16x8_op;
qk_status qk_fc_i16x8_create(const qk_fc_i16x8_desc *d, const int8_t *w, const int64_t *bias, qk_fc_i16x8_op **op);
qk_status qk_fc_i16x8_run(const qk_fc_i16x8_op *op, size_t batch, const int16_t *x, int16_t *y);
const char *qk_fc_i16x8_variant(const qk_fc_i16x8_op *op);
void qk_fc_i16x8_destroy(qk_fc_i16x8_op *op);

typedef struct qk_conv2d_i16x8_op qk_conv2d_i16x8_op;
qk_status qk_conv2d_i16x8_create(const qk_conv2d_int8_desc *d, const int8_t *w, const int64_t *bias,
                                 qk_conv2d_i16x8_op **op);
qk_status qk_dwconv2d_i16x8_create(const qk_conv2d_int8_desc *d, const int8_t *w, const int64_t *bias,
                                   qk_conv2d_i16x8_op **op);
qk_status qk_conv2d_i16x8_run(const qk_conv2d_i16x8_op *op, const int16_t *x, int16_t *y);
const char *qk_conv2d_i16x8_variant(const qk_conv2d_i16x8_op *op);
void qk_conv2d_i16x8_destroy(qk_conv2d_i16x8_op *op);

qk_status qk_add_i16(const qk_add_int8_params *p, const size_t s1[4], const int16_t *x1, const size_t s2[4],
                     const int16_t *x2, int16_t *y);

#ifdef __cplusplus
}
#endif
#endif
