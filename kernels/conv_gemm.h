/* Conv2D through the fully-connected GEMM machinery: every FC variant doubles as a conv variant. */
#ifndef QK_CONV_GEMM_H
#define QK_CONV_GEMM_H

#include "qk/registry.h"

size_t qk_conv_gemm_packed_size(const qk_fc_int8_impl *fc, const qk_conv2d_int8_desc *d);
void qk_conv_gemm_pack(const qk_fc_int8_impl *fc, const qk_conv2d_int8_desc *d, const int8_t *w,
                       const int32_t *bias, void *packed);
size_t qk_conv_gemm_workspace_size(size_t mr, const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g);
void qk_conv_gemm_run(const qk_fc_int8_impl *fc, size_t mr, const qk_conv2d_int8_desc *d,
                      const qk_conv2d_geom *g, const void *packed, const int8_t *x, int8_t *y, void *ws);

#endif
