/* 16x8 Conv2D through the 16x8 fully-connected GEMM machinery (the int8 twin is conv_gemm.h):
 * every 16x8 FC variant doubles as a 16x8 conv variant. */
#ifndef QK_CONV_GEMM_I16X8_H
#define QK_CONV_GEMM_I16X8_H

#include "qk/registry.h"

size_t qk_conv_gemm_i16x8_packed_size(const qk_fc_i16x8_impl *fc, const qk_conv2d_int8_desc *d);
void qk_conv_gemm_i16x8_pack(const qk_fc_i16x8_impl *fc, const qk_conv2d_int8_desc *d, const int8_t *w,
                             const int64_t *bias, void *packed);
size_t qk_conv_gemm_i16x8_workspace_size(size_t mr, const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g);
void qk_conv_gemm_i16x8_run(const qk_fc_i16x8_impl *fc, size_t mr, const qk_conv2d_int8_desc *d,
                            const qk_conv2d_geom *g, const void *packed, const int16_t *x, int16_t *y, void *ws);

#endif
