/* Declarations of every variant's functions, expanded from variants.def. */
#ifndef QK_VARIANTS_H
#define QK_VARIANTS_H

#include "qk/registry.h"
#include "qk_config.h"

#define QK_DECL_FC_INT8(name)                                                                     \
  size_t name##_packed_size(size_t out_ch, size_t in_ch);                                        \
  void name##_pack(const qk_fc_int8_desc *d, const int8_t *w, const int32_t *bias, void *packed); \
  void name##_run(const qk_fc_int8_desc *d, const void *packed, size_t batch, const int8_t *x,    \
                  int8_t *y);

#define QK_DECL_CONV2D_INT8(name)                                                                    \
  size_t name##_packed_size(const qk_conv2d_int8_desc *d);                                          \
  void name##_pack(const qk_conv2d_int8_desc *d, const int8_t *w, const int32_t *bias, void *packed); \
  size_t name##_workspace_size(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g);              \
  void name##_run(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g, const void *packed,         \
                  const int8_t *x, int8_t *y, void *workspace);
#define QK_DECL_DWCONV2D_INT8(name) QK_DECL_CONV2D_INT8(name)

#define QK_DECL_ADD_INT8(name)                                                                   \
  void name##_run(const qk_add_int8_params *p, const size_t s1[4], const int8_t *x1, const size_t s2[4], \
                  const int8_t *x2, int8_t *y);
#define QK_DECL_MUL_INT8(name)                                                                   \
  void name##_run(const qk_mul_int8_params *p, const size_t s1[4], const int8_t *x1, const size_t s2[4], \
                  const int8_t *x2, int8_t *y);
#define QK_DECL_AVGPOOL_INT8(name) \
  void name##_run(const qk_pool_int8_desc *d, const qk_conv2d_geom *g, const int8_t *x, int8_t *y);
#define QK_DECL_MAXPOOL_INT8(name) QK_DECL_AVGPOOL_INT8(name)
#define QK_DECL_QUANTIZE_INT8(name) \
  void name##_run(const float *x, size_t n, float scale, int32_t zp, qk_qtype type, void *y);
#define QK_DECL_DEQUANTIZE_INT8(name) \
  void name##_run(const void *x, size_t n, qk_qtype type, float scale, int32_t zp, float *y);
#define QK_DECL_REQUANTIZE_INT8(name) \
  void name##_run(const qk_requant_params *p, const void *x, size_t n, void *y);

#define QK_DECL_FC_I16X8(name)                                                                      \
  size_t name##_packed_size(size_t out_ch, size_t in_ch);                                          \
  void name##_pack(const qk_fc_i16x8_desc *d, const int8_t *w, const int64_t *bias, void *packed); \
  void name##_run(const qk_fc_i16x8_desc *d, const void *packed, size_t batch, const int16_t *x, int16_t *y);
#define QK_DECL_CONV2D_I16X8(name)                                                                   \
  size_t name##_packed_size(const qk_conv2d_int8_desc *d);                                          \
  void name##_pack(const qk_conv2d_int8_desc *d, const int8_t *w, const int64_t *bias, void *packed); \
  size_t name##_workspace_size(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g);              \
  void name##_run(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g, const void *packed,         \
                  const int16_t *x, int16_t *y, void *workspace);
#define QK_DECL_DWCONV2D_I16X8(name) QK_DECL_CONV2D_I16X8(name)
#define QK_DECL_ADD_I16X8(name)                                                                    \
  void name##_run(const qk_add_int8_params *p, const size_t s1[4], const int16_t *x1, const size_t s2[4], \
                  const int16_t *x2, int16_t *y);
#define QK_DECL_ADD_POT_I16X8(name) \
  void name##_run(const qk_add_i16_pot_params *p, size_t n, const int16_t *x1, const int16_t *x2, int16_t *y);
#define QK_DECL_QUANTIZE_I16X8(name) QK_DECL_QUANTIZE_INT8(name)
#define QK_DECL_DEQUANTIZE_I16X8(name) QK_DECL_DEQUANTIZE_INT8(name)
#define QK_DECL_REQUANTIZE_I16X8(name) QK_DECL_REQUANTIZE_INT8(name)

#define QK_DECL_FC_F32(name)                                                                   \
  size_t name##_packed_size(size_t out_ch, size_t in_ch);                                     \
  void name##_pack(const qk_fc_f32_desc *d, const void *w, const float *bias, void *packed);  \
  void name##_run(const qk_fc_f32_desc *d, const void *packed, size_t batch, const float *x, float *y);
#define QK_DECL_FC_F16W(name) QK_DECL_FC_F32(name)
#define QK_DECL_FC_F16(name) QK_DECL_FC_F32(name)
#define QK_DECL_CONV2D_F32(name)                                                                   \
  size_t name##_packed_size(const qk_conv2d_f32_desc *d);                                         \
  void name##_pack(const qk_conv2d_f32_desc *d, const void *w, const float *bias, void *packed);  \
  size_t name##_workspace_size(const qk_conv2d_f32_desc *d, const qk_conv2d_geom *g);             \
  void name##_run(const qk_conv2d_f32_desc *d, const qk_conv2d_geom *g, const void *packed, const float *x, \
                  float *y, void *workspace);
#define QK_DECL_CONV2D_F16W(name) QK_DECL_CONV2D_F32(name)
#define QK_DECL_DWCONV2D_F32(name) QK_DECL_CONV2D_F32(name)
#define QK_DECL_DWCONV2D_F16W(name) QK_DECL_CONV2D_F32(name)
#define QK_DECL_ADD_F32(name)                                                                      \
  void name##_run(const qk_add_f32_params *p, const size_t s1[4], const float *x1, const size_t s2[4], \
                  const float *x2, float *y);
#define QK_DECL_AVGPOOL_F32(name) \
  void name##_run(const qk_pool_f32_desc *d, const qk_conv2d_geom *g, const float *x, float *y);
#define QK_DECL_QUANTIZE_F16W(name) void name##_run(const float *x, size_t n, uint16_t *y);
#define QK_DECL_DEQUANTIZE_F16W(name) void name##_run(const uint16_t *x, size_t n, float *y);
#define QK_DECL_FC_DYNAMIC(name)                                                                        \
  size_t name##_packed_size(size_t out_ch, size_t in_ch);                                              \
  void name##_pack(const qk_fc_dynamic_desc *d, const int8_t *w, const float *bias, void *packed);     \
  size_t name##_workspace_size(const qk_fc_dynamic_desc *d, size_t batch);                             \
  void name##_run(const qk_fc_dynamic_desc *d, const void *packed, size_t batch, const float *x, float *y, \
                  void *workspace);
#define QK_DECL_CONV2D_DYNAMIC(name)                                                                     \
  size_t name##_packed_size(const qk_conv2d_dynamic_desc *d);                                           \
  void name##_pack(const qk_conv2d_dynamic_desc *d, const int8_t *w, const float *bias, void *packed);  \
  size_t name##_workspace_size(const qk_conv2d_dynamic_desc *d, const qk_conv2d_geom *g);               \
  void name##_run(const qk_conv2d_dynamic_desc *d, const qk_conv2d_geom *g, const void *packed,          \
                  const float *x, float *y, void *workspace);
#define QK_DECL_DWCONV2D_DYNAMIC(name) QK_DECL_CONV2D_DYNAMIC(name)

#define QK_VARIANT(op, path, isa, name, mr, nr, kr) QK_DECL_##op##_##path(name)
#define QK_CONV_GEMM(ISA, isa, tile, mr, nr, kr)
/* The direct kernel a conv-GEMM variant uses for the shapes its _applies() accepts. */
#define QK_CONV_GEMM_DIRECT(ISA, isa, tile, mr, nr, kr, direct) \
  QK_DECL_CONV2D_INT8(direct) bool direct##_applies(const qk_conv2d_int8_desc *d);
/* 16x8 conv-via-GEMM variants are static in registry.c (conv_gemm_i16x8.c): nothing to declare. */
#define QK_CONV_GEMM_I16X8(ISA, isa, tile, mr, nr, kr)
/* Float conv-via-GEMM variants are static in registry.c too (conv_gemm_f32.c). */
#define QK_CONV_GEMM_FLOAT(PATH, path, ISA, isa, tile, mr, nr, kr)
#include "variants.def"
#undef QK_VARIANT
#undef QK_CONV_GEMM
#undef QK_CONV_GEMM_DIRECT
#undef QK_CONV_GEMM_I16X8
#undef QK_CONV_GEMM_FLOAT

#endif
