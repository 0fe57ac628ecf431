/* Float Conv2D through the fully-connected GEMM machinery: every f32 and f16w FC variant doubles
 * as a conv variant (kernels/conv_gemm_f32.c), as kernels/conv_gemm.h does for int8. */
#ifndef QK_CONV_GEMM_F32_H
#define QK_CONV_GEMM_F32_H

#include "qk/registry.h"

/* wbytes: 4 for float32 weights, 2 for binary16 weights (how far apart the groups' filters are). */
size_t qk_conv_gemm_f32_packed_size(const qk_fc_float_impl *fc, const qk_conv2d_f32_desc *d);
void qk_conv_gemm_f32_pack(const qk_fc_float_impl *fc, size_t wbytes, const qk_conv2d_f32_desc *d, const void *w,
                           const float *bias, void *packed);
size_t qk_conv_gemm_f32_workspace_size(size_t mr, const qk_conv2d_f32_desc *d, const qk_conv2d_geom *g);
void qk_conv_gemm_f32_run(const qk_fc_float_impl *fc, size_t mr, const qk_conv2d_f32_desc *d, const qk_conv2d_geom *g,
                          const void *packed, const float *x, float *y, void *ws);

#endif
