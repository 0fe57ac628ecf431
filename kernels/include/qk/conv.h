/* int8 Conv2D and DepthwiseConv2D, NHWC (SPEC.md §5): filters OHWI (conv) and 1HWO (depthwise);
 * taps outside the image are skipped, which equals padding with the input zero point. */
#ifndef QK_CONV_H
#define QK_CONV_H

#include <stddef.h>
#include <stdint.h>
#include "qk/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum qk_padding { QK_PAD_VALID = 0, QK_PAD_SAME = 1 } qk_padding;

/* TFLite's padding.h for one spatial axis: output size and the padding before (the odd remainder
 * of the total goes after). Fails on zero sizes, a kernel larger than a VALID input, overflow. */
qk_status qk_conv_out_size(qk_padding pad, size_t in, size_t kernel, size_t stride, size_t dilation,
                           size_t *out, size_t *pad_before);

typedef struct qk_conv2d_int8_desc {
  size_t batch, in_h, in_w, in_ch; /* input [batch, in_h, in_w, in_ch] */
  size_t out_ch;                   /* output channels */
  size_t k_h, k_w;
  size_t stride_h, stride_w, dilation_h, dilation_w;
  qk_padding padding;
  /* Conv2D: input channels per group = in_ch / groups; filter [out_ch, k_h, k_w, in_ch/groups].
   * Depthwise: groups is ignored; out_ch = in_ch * depth_multiplier, filter [1, k_h, k_w, out_ch]. */
  size_t groups;
  size_t depth_multiplier;
  int32_t input_zp, output_zp; /* [-128, 127] */
  int32_t act_min, act_max;
  qk_rounding rounding;
  const int32_t *multiplier; /* [out_ch] in [0, INT32_MAX] */
  const int32_t *shift;      /* [out_ch] in [QK_SHIFT_MIN, QK_SHIFT_MAX] */
} qk_conv2d_int8_desc;

/* Derived geometry of a checked descriptor. */
typedef struct qk_conv2d_geom {
  size_t out_h, out_w, pad_top, pad_left;
} qk_conv2d_geom;

qk_status qk_conv2d_int8_check(const qk_conv2d_int8_desc *d, qk_conv2d_geom *g);
qk_status qk_dwconv2d_int8_check(const qk_conv2d_int8_desc *d, qk_conv2d_geom *g);

/* Reference kernels (the executable spec). bias may be NULL. */
void qk_ref_conv2d_int8(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g, const int8_t *x,
                        const int8_t *w, const int32_t *bias, int8_t *y);
void qk_ref_dwconv2d_int8(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g, const int8_t *x,
                          const int8_t *w, const int32_t *bias, int8_t *y);

/* Runtime operators: weights packed once for the dispatched variant, workspace owned by the op. */
typedef struct qk_conv2d_int8_op qk_conv2d_int8_op;
qk_status qk_conv2d_int8_create(const qk_conv2d_int8_desc *d, const int8_t *w, const int32_t *bias,
                                qk_conv2d_int8_op **op);
qk_status qk_dwconv2d_int8_create(const qk_conv2d_int8_desc *d, const int8_t *w, const int32_t *bias,
                                  qk_conv2d_int8_op **op);
/* x: [batch, in_h, in_w, in_ch]; y: [batch, out_h, out_w, out_ch] (qk_conv2d_int8_out_shape). */
qk_status qk_conv2d_int8_run(const qk_conv2d_int8_op *op, const int8_t *x, int8_t *y);
qk_status qk_conv2d_int8_out_shape(const qk_conv2d_int8_op *op, size_t *out_h, size_t *out_w);
const char *qk_conv2d_int8_variant(const qk_conv2d_int8_op *op);
void qk_conv2d_int8_destroy(qk_conv2d_int8_op *op);

#ifdef __cplusplus
}
#endif
#endif
