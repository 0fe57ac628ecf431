/* Float paths (SPEC.md §13, §14): the f32 baseline, float16-weight kernels, binary16 <-> binary32
 * conversion, and dynamic-range ("hybrid") kernels with int8 weights and float activations. */
#ifndef QK_FLOAT_H
#define QK_FLOAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "qk/status.h"
#include "qk/conv.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- f32 baseline and float16 weights ------------------------------------------------------ */

/* Fully connected: y[b,o] = clamp(sum_k w[o,k] x[b,k] + bias[o], act_min, act_max).
 * Weights are float32 (f32 path) or IEEE binary16 bit patterns (f16w path, widened exactly). */
typedef struct qk_fc_f32_desc {
  size_t in_ch, out_ch;
  float act_min, act_max; /* -INFINITY / INFINITY for no activation, 0 / 6 for RELU6 */
} qk_fc_f32_desc;

typedef struct qk_conv2d_f32_desc {
  size_t batch, in_h, in_w, in_ch, out_ch, k_h, k_w;
  size_t stride_h, stride_w, dilation_h, dilation_w;
  qk_padding padding;
  size_t groups;           /* Conv2D: filter [out_ch, k_h, k_w, in_ch / groups] */
  size_t depth_multiplier; /* DepthwiseConv2D: filter [1, k_h, k_w, out_ch], out_ch = in_ch * dm */
  float act_min, act_max;
} qk_conv2d_f32_desc;

typedef struct qk_add_f32_params {
  float act_min, act_max;
} qk_add_f32_params;

typedef struct qk_pool_f32_desc {
  size_t batch, in_h, in_w, channels, filter_h, filter_w, stride_h, stride_w;
  qk_padding padding;
  float act_min, act_max;
} qk_pool_f32_desc;

qk_status qk_fc_f32_check(const qk_fc_f32_desc *d);
qk_status qk_conv2d_f32_check(const qk_conv2d_f32_desc *d, qk_conv2d_geom *g);
qk_status qk_dwconv2d_f32_check(const qk_conv2d_f32_desc *d, qk_conv2d_geom *g);
qk_status qk_add_f32_check(const qk_add_f32_params *p);
qk_status qk_pool_f32_check(const qk_pool_f32_desc *d, qk_conv2d_geom *g);

/* References (TFLite reference_ops float kernels): products summed in ascending tap/channel order
 * in float32, then the bias, then the clamp; built without contraction. bias may be NULL. */
void qk_ref_fc_f32(const qk_fc_f32_desc *d, const float *w, const float *bias, size_t batch, const float *x,
                   float *y);
void qk_ref_conv2d_f32(const qk_conv2d_f32_desc *d, const qk_conv2d_geom *g, const float *x, const float *w,
                       const float *bias, float *y);
void qk_ref_dwconv2d_f32(const qk_conv2d_f32_desc *d, const qk_conv2d_geom *g, const float *x, const float *w,
                         const float *bias, float *y);
void qk_ref_add_f32(const qk_add_f32_params *p, const size_t s1[4], const float *x1, const size_t s2[4],
                    const float *x2, float *y);
void qk_ref_avgpool_f32(const qk_pool_f32_desc *d, const qk_conv2d_geom *g, const float *x, float *y);

/* ---- binary16 <-> binary32 ------------------------------------------------------------------ */

/* Round to nearest, ties to even; subnormals kept; overflow to infinity; NaN quieted with its top
 * payload bits kept (what F16C vcvtps2ph with rounding 0 and NEON fcvtn do). */
uint16_t qk_f32_to_f16(float f);
/* Exact; a signalling NaN comes back quiet with its payload. */
float qk_f16_to_f32(uint16_t h);
void qk_ref_f32_to_f16(const float *x, size_t n, uint16_t *y);
void qk_ref_f16_to_f32(const uint16_t *x, size_t n, float *y);

/* ---- dynamic range (hybrid) ---------------------------------------------------------------- */

/* int8 symmetric weights with a float scale per output channel (per-tensor: repeat one value).
 * Each batch row of the float input is quantized at run time: symmetrically (scale range/127,
 * values clamped to +-127) or, with `asymmetric`, with a zero point over [-128, 127]. */
typedef struct qk_fc_dynamic_desc {
  size_t in_ch, out_ch;
  float act_min, act_max;
  const float *w_scale; /* [out_ch], positive and finite */
  bool asymmetric;
} qk_fc_dynamic_desc;

/* Conv2D with int8 weights [out_ch, k_h, k_w, in_ch/groups]: each batch image is quantized as a
 * whole (TFLite's EvalHybridPerChannel). */
typedef struct qk_conv2d_dynamic_desc {
  qk_conv2d_f32_desc conv;
  const float *w_scale; /* [out_ch] */
  bool asymmetric;
} qk_conv2d_dynamic_desc;

qk_status qk_fc_dynamic_check(const qk_fc_dynamic_desc *d);
qk_status qk_conv2d_dynamic_check(const qk_conv2d_dynamic_desc *d, qk_conv2d_geom *g);
/* DepthwiseConv2D with int8 weights [1, k_h, k_w, out_ch] (out_ch = in_ch * depth_multiplier) and
 * float activations: TFLite's depthwise EvalHybridPerChannel, which quantizes each image with
 * AsymmetricQuantizeFloats (set `asymmetric`; the symmetric option is kept for completeness). */
qk_status qk_dwconv2d_dynamic_check(const qk_conv2d_dynamic_desc *d, qk_conv2d_geom *g);

/* The run-time input quantization, exactly TFLite's SymmetricQuantizeFloats /
 * AsymmetricQuantizeFloats: returns the row's scale and zero point (offset; 0 if symmetric). */
void qk_ref_quantize_row(const float *x, size_t n, bool asymmetric, int8_t *q, float *scale, int32_t *offset);

/* FC (EvalHybrid): y = bias + float(dot) * (s_row * s_w[o]), where dot is the int32 dot product
 * minus row_sum(w[o]) * offset for asymmetric inputs (TFLite forms that subtraction in float). */
qk_status qk_ref_fc_dynamic(const qk_fc_dynamic_desc *d, const int8_t *w, const float *bias, size_t batch,
                            const float *x, float *y);
/* Conv (reference HybridConvPerChannel): y = float(acc) * s_w[o] * s_image (+ bias), in that order:
 * TFLite's conv epilogue differs from its FC epilogue, and both are followed bit for bit. */
qk_status qk_ref_conv2d_dynamic(const qk_conv2d_dynamic_desc *d, const qk_conv2d_geom *g, const int8_t *w,
                                const float *bias, const float *x, float *y);
/* Depthwise (reference DepthwiseConvHybridPerChannel): acc sums w * (q - offset) over the taps
 * inside the image; y = float(acc) * (s_w[o] * s_image) (+ bias): the scale product is formed
 * first, unlike Conv2D's epilogue. */
qk_status qk_ref_dwconv2d_dynamic(const qk_conv2d_dynamic_desc *d, const qk_conv2d_geom *g, const int8_t *w,
                                  const float *bias, const float *x, float *y);

/* Runtime DepthwiseConv2D on the dynamic path: checks d (qk_dwconv2d_dynamic_check), copies the
 * scales, packs w [1, k_h, k_w, out_ch] and bias ([out_ch] or NULL) once for the dispatched variant
 * and owns the workspace. run: x [batch, in_h, in_w, in_ch] float, y [batch, out_h, out_w, out_ch]. */
typedef struct qk_dwconv2d_dynamic_op qk_dwconv2d_dynamic_op;
qk_status qk_dwconv2d_dynamic_create(const qk_conv2d_dynamic_desc *d, const int8_t *w, const float *bias,
                                     qk_dwconv2d_dynamic_op **op);
qk_status qk_dwconv2d_dynamic_run(const qk_dwconv2d_dynamic_op *op, const float *x, float *y);
qk_status qk_dwconv2d_dynamic_out_shape(const qk_dwconv2d_dynamic_op *op, size_t *out_h, size_t *out_w);
const char *qk_dwconv2d_dynamic_variant(const qk_dwconv2d_dynamic_op *op);
void qk_dwconv2d_dynamic_destroy(qk_dwconv2d_dynamic_op *op);

#ifdef __cplusplus
}
#endif
#endif
