/* The variant registry and run-time dispatch (DESIGN.md). Every variant of every op is one line of
 * kernels/variants.def; tests, benchmarks and dispatch iterate the table built from it. */
#ifndef QK_REGISTRY_H
#define QK_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "qk/status.h"
#include "qk/fc.h"
#include "qk/conv.h"
#include "qk/eltwise.h"
#include "qk/pool.h"
#include "qk/convert.h"
#include "qk/i16x8.h"
#include "qk/add_i16_pot.h"
#include "qk/float.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Order matters within an architecture: dispatch prefers the highest supported ISA not above the
 * QK_ISA cap. AVX-VNNI and AVX-512 VNNI are not nested on real CPUs (Alder Lake has only the
 * former, Cascade Lake only the latter); each is checked on its own, the order only ranks them. */
typedef enum qk_isa {
  QK_ISA_SCALAR = 0,
  QK_ISA_SSE41,
  QK_ISA_AVX2,
  QK_ISA_AVXVNNI,
  QK_ISA_AVX512VNNI,
  QK_ISA_NEON,
  QK_ISA_NEONDOT,
  QK_ISA_I8MM,
  /* ARMv8.2 FP16 arithmetic (FMLA on half lanes). Only the f16 path has variants at this level;
   * it sits last so every other path's dispatch is unchanged. */
  QK_ISA_NEONFP16,
  QK_ISA_COUNT
} qk_isa;

typedef enum qk_op {
  QK_OP_FC = 0,
  QK_OP_CONV2D,
  QK_OP_DWCONV2D,
  QK_OP_ADD,
  QK_OP_MUL,
  QK_OP_AVGPOOL,
  QK_OP_MAXPOOL,
  QK_OP_QUANTIZE,
  QK_OP_DEQUANTIZE,
  QK_OP_REQUANTIZE,
  /* TFLite's power-of-two-scale int16 Add (qk/add_i16_pot.h), path I16X8: its own op, since its
   * arithmetic (one input divided by 2^e in int16, a saturating add) is not the general Add's. */
  QK_OP_ADD_POT,
  QK_OP_COUNT
} qk_op;
/* INT8: full integer. I16X8: int16 activations, int8 weights, int64 bias (FC, convs, add, and the
 * int16 quantize / dequantize / requantize). */
/* F32: the float baseline. F16W: float16 weights widened exactly (FC, convs) and the binary16
 * conversions (QUANTIZE: f32 -> f16, DEQUANTIZE: f16 -> f32). DYNAMIC: int8 weights, float
 * activations quantized per row at run time (FC, CONV2D). F16: native binary16 arithmetic, a
 * different numerical contract (SPEC.md §14, u = 2^-11): float32 x and y converted at the edges,
 * binary16 weights, products accumulated in binary16, the float32 bias added at the end (FC). */
typedef enum qk_path {
  QK_PATH_INT8 = 0,
  QK_PATH_I16X8,
  QK_PATH_F32,
  QK_PATH_F16W,
  QK_PATH_DYNAMIC,
  QK_PATH_F16,
  QK_PATH_COUNT
} qk_path;

/* Variant interface for int8 FC. pack() writes a self-contained buffer (64-byte aligned, of
 * packed_size() bytes) holding weights, folded bias terms and requantization constants; run() reads
 * only scalars (zero points, clamp, rounding) from the descriptor. Neither validates: the API does. */
typedef struct qk_fc_int8_impl {
  size_t (*packed_size)(size_t out_ch, size_t in_ch);
  void (*pack)(const qk_fc_int8_desc *d, const int8_t *w, const int32_t *bias, void *packed);
  void (*run)(const qk_fc_int8_desc *d, const void *packed, size_t batch, const int8_t *x,
              int8_t *y);
} qk_fc_int8_impl;

/* Conv2D and DepthwiseConv2D: pack once per weights; run may use a caller-provided workspace of
 * workspace_size() bytes (64-byte aligned; NULL when the size is 0). */
typedef struct qk_conv2d_int8_impl {
  size_t (*packed_size)(const qk_conv2d_int8_desc *d);
  void (*pack)(const qk_conv2d_int8_desc *d, const int8_t *w, const int32_t *bias, void *packed);
  size_t (*workspace_size)(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g);
  void (*run)(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g, const void *packed, const int8_t *x,
              int8_t *y, void *workspace);
} qk_conv2d_int8_impl;

typedef struct qk_add_int8_impl {
  void (*run)(const qk_add_int8_params *p, const size_t s1[4], const int8_t *x1, const size_t s2[4],
              const int8_t *x2, int8_t *y);
} qk_add_int8_impl;

typedef struct qk_mul_int8_impl {
  void (*run)(const qk_mul_int8_params *p, const size_t s1[4], const int8_t *x1, const size_t s2[4],
              const int8_t *x2, int8_t *y);
} qk_mul_int8_impl;

typedef struct qk_pool_int8_impl {
  void (*run)(const qk_pool_int8_desc *d, const qk_conv2d_geom *g, const int8_t *x, int8_t *y);
} qk_pool_int8_impl;

typedef struct qk_quantize_impl {
  void (*run)(const float *x, size_t n, float scale, int32_t zp, qk_qtype type, void *y);
} qk_quantize_impl;

typedef struct qk_dequantize_impl {
  void (*run)(const void *x, size_t n, qk_qtype type, float scale, int32_t zp, float *y);
} qk_dequantize_impl;

typedef struct qk_requantize_impl {
  void (*run)(const qk_requant_params *p, const void *x, size_t n, void *y);
} qk_requantize_impl;

/* 16x8 counterparts (int16 activations, int64 bias). Quantize / dequantize / requantize share
 * the int8 impl types above with the element type QK_Q_INT16. */
typedef struct qk_fc_i16x8_impl {
  size_t (*packed_size)(size_t out_ch, size_t in_ch);
  void (*pack)(const qk_fc_i16x8_desc *d, const int8_t *w, const int64_t *bias, void *packed);
  void (*run)(const qk_fc_i16x8_desc *d, const void *packed, size_t batch, const int16_t *x, int16_t *y);
} qk_fc_i16x8_impl;

typedef struct qk_conv2d_i16x8_impl {
  size_t (*packed_size)(const qk_conv2d_int8_desc *d);
  void (*pack)(const qk_conv2d_int8_desc *d, const int8_t *w, const int64_t *bias, void *packed);
  size_t (*workspace_size)(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g);
  void (*run)(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g, const void *packed, const int16_t *x,
              int16_t *y, void *workspace);
} qk_conv2d_i16x8_impl;

typedef struct qk_add_i16_impl {
  void (*run)(const qk_add_int8_params *p, const size_t s1[4], const int16_t *x1, const size_t s2[4],
              const int16_t *x2, int16_t *y);
} qk_add_i16_impl;

/* Power-of-two-scale int16 Add: equal-sized inputs (the TFLite kernel does not broadcast). */
typedef struct qk_add_i16_pot_impl {
  void (*run)(const qk_add_i16_pot_params *p, size_t n, const int16_t *x1, const int16_t *x2, int16_t *y);
} qk_add_i16_pot_impl;

/* Float FC and convs: one impl type for the f32 and f16w paths; w is float32 or binary16 bits. */
typedef struct qk_fc_float_impl {
  size_t (*packed_size)(size_t out_ch, size_t in_ch);
  void (*pack)(const qk_fc_f32_desc *d, const void *w, const float *bias, void *packed);
  void (*run)(const qk_fc_f32_desc *d, const void *packed, size_t batch, const float *x, float *y);
} qk_fc_float_impl;

typedef struct qk_conv2d_float_impl {
  size_t (*packed_size)(const qk_conv2d_f32_desc *d);
  void (*pack)(const qk_conv2d_f32_desc *d, const void *w, const float *bias, void *packed);
  size_t (*workspace_size)(const qk_conv2d_f32_desc *d, const qk_conv2d_geom *g);
  void (*run)(const qk_conv2d_f32_desc *d, const qk_conv2d_geom *g, const void *packed, const float *x, float *y,
              void *workspace);
} qk_conv2d_float_impl;

typedef struct qk_add_f32_impl {
  void (*run)(const qk_add_f32_params *p, const size_t s1[4], const float *x1, const size_t s2[4], const float *x2,
              float *y);
} qk_add_f32_impl;

typedef struct qk_pool_f32_impl {
  void (*run)(const qk_pool_f32_desc *d, const qk_conv2d_geom *g, const float *x, float *y);
} qk_pool_f32_impl;

typedef struct qk_f32_to_f16_impl {
  void (*run)(const float *x, size_t n, uint16_t *y);
} qk_f32_to_f16_impl;

typedef struct qk_f16_to_f32_impl {
  void (*run)(const uint16_t *x, size_t n, float *y);
} qk_f16_to_f32_impl;

/* Dynamic range: run needs a workspace of workspace_size() bytes for the quantized rows. */
typedef struct qk_fc_dynamic_impl {
  size_t (*packed_size)(size_t out_ch, size_t in_ch);
  void (*pack)(const qk_fc_dynamic_desc *d, const int8_t *w, const float *bias, void *packed);
  size_t (*workspace_size)(const qk_fc_dynamic_desc *d, size_t batch);
  void (*run)(const qk_fc_dynamic_desc *d, const void *packed, size_t batch, const float *x, float *y,
              void *workspace);
} qk_fc_dynamic_impl;

typedef struct qk_conv2d_dynamic_impl {
  size_t (*packed_size)(const qk_conv2d_dynamic_desc *d);
  void (*pack)(const qk_conv2d_dynamic_desc *d, const int8_t *w, const float *bias, void *packed);
  size_t (*workspace_size)(const qk_conv2d_dynamic_desc *d, const qk_conv2d_geom *g);
  void (*run)(const qk_conv2d_dynamic_desc *d, const qk_conv2d_geom *g, const void *packed, const float *x, float *y,
              void *workspace);
} qk_conv2d_dynamic_impl;

typedef struct qk_variant {
  const char *name; /* qk_<path>_<op>_<tile>__<isa> */
  qk_op op;
  qk_path path;
  qk_isa isa;
  uint16_t mr, nr, kr; /* tile: rows, output channels, K packing */
  const void *impl;    /* qk_<op>_int8_impl (qk_fc_int8_impl for FC, qk_conv2d_int8_impl for both convs, ...) */
} qk_variant;

size_t qk_variant_count(void);
const qk_variant *qk_variant_at(size_t i);
const qk_variant *qk_variant_find(const char *name);

const char *qk_isa_name(qk_isa isa);
bool qk_isa_from_name(const char *name, qk_isa *isa);
const char *qk_op_name(qk_op op);
const char *qk_path_name(qk_path path);

/* CPU support (cpuinfo plus our own AVX-VNNI / i8mm detection) and the built set. */
bool qk_isa_supported(qk_isa isa);
bool qk_isa_built(qk_isa isa);
/* The effective cap: QK_ISA from the environment (or qk_set_isa_cap), else the highest ISA. */
qk_isa qk_isa_cap(void);
/* Override the cap programmatically (tests lower it step by step); QK_ISA_COUNT clears it. */
void qk_set_isa_cap(qk_isa cap);
/* Why a variant cannot run here, or NULL if it can (ISA missing, above cap). */
const char *qk_variant_unavailable(const qk_variant *v);

/* Best runnable variant for (op, path): QK_VARIANT if set and matching, else highest ISA <= cap.
 * Returns NULL (with qk_last_error()) if QK_VARIANT names an unknown or unrunnable variant. */
const qk_variant *qk_dispatch(qk_op op, qk_path path);

/* Kernel-pick tables (scripts/pick.py): lines "op path M K N variant [median_ns]", '#' comments.
 * Loaded from QK_PICKS at first dispatch, or explicitly; a variant this build lacks is skipped. */
qk_status qk_picks_load(const char *path);
void qk_picks_clear(void);
/* The picked runnable variant for this shape, or NULL; m == 0 matches any M. */
const qk_variant *qk_picks_lookup(qk_op op, qk_path path, size_t m, size_t k, size_t n);
/* Dispatch for a shape: QK_VARIANT, then a pick-table entry, then the highest ISA <= cap. */
const qk_variant *qk_dispatch_shape(qk_op op, qk_path path, size_t m, size_t k, size_t n);

/* CPU description for `qkbench info` and benchmark context. */
const char *qk_cpu_name(void);
/* Space-separated feature list relevant to qkbench (e.g. "sse4.1 avx2 avx512vnni avxvnni"). */
const char *qk_cpu_features(void);

#ifdef __cplusplus
}
#endif
#endif
