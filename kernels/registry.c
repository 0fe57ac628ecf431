/* The variant table, expanded from variants.def, and the dispatch over it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qk/registry.h"
#include "internal.h"
#include "variants.h"
#include "conv_gemm.h"
#include "conv_gemm_i16x8.h"
#include "conv_gemm_f32.h"

#define QK_IMPL_FC_INT8(name) \
  static const qk_fc_int8_impl name##_impl = {name##_packed_size, name##_pack, name##_run};
#define QK_IMPL_CONV2D_INT8(name) \
  static const qk_conv2d_int8_impl name##_impl = {name##_packed_size, name##_pack, name##_workspace_size, name##_run};
#define QK_IMPL_DWCONV2D_INT8(name) QK_IMPL_CONV2D_INT8(name)
#define QK_IMPL_ADD_INT8(name) static const qk_add_int8_impl name##_impl = {name##_run};
#define QK_IMPL_MUL_INT8(name) static const qk_mul_int8_impl name##_impl = {name##_run};
#define QK_IMPL_AVGPOOL_INT8(name) static const qk_pool_int8_impl name##_impl = {name##_run};
#define QK_IMPL_MAXPOOL_INT8(name) QK_IMPL_AVGPOOL_INT8(name)
#define QK_IMPL_QUANTIZE_INT8(name) static const qk_quantize_impl name##_impl = {name##_run};
#define QK_IMPL_DEQUANTIZE_INT8(name) static const qk_dequantize_impl name##_impl = {name##_run};
#define QK_IMPL_REQUANTIZE_INT8(name) static const qk_requantize_impl name##_impl = {name##_run};

#define QK_IMPL_FC_I16X8(name) \
  static const qk_fc_i16x8_impl name##_impl = {name##_packed_size, name##_pack, name##_run};
#define QK_IMPL_CONV2D_I16X8(name) \
  static const qk_conv2d_i16x8_impl name##_impl = {name##_packed_size, name##_pack, name##_workspace_size, name##_run};
#define QK_IMPL_DWCONV2D_I16X8(name) QK_IMPL_CONV2D_I16X8(name)
#define QK_IMPL_ADD_I16X8(name) static const qk_add_i16_impl name##_impl = {name##_run};
#define QK_IMPL_ADD_POT_I16X8(name) static const qk_add_i16_pot_impl name##_impl = {name##_run};
#define QK_IMPL_QUANTIZE_I16X8(name) QK_IMPL_QUANTIZE_INT8(name)
#define QK_IMPL_DEQUANTIZE_I16X8(name) QK_IMPL_DEQUANTIZE_INT8(name)
#define QK_IMPL_REQUANTIZE_I16X8(name) QK_IMPL_REQUANTIZE_INT8(name)

#define QK_IMPL_FC_F32(name) \
  static const qk_fc_float_impl name##_impl = {name##_packed_size, name##_pack, name##_run};
#define QK_IMPL_FC_F16W(name) QK_IMPL_FC_F32(name)
#define QK_IMPL_FC_F16(name) QK_IMPL_FC_F32(name)
#define QK_IMPL_CONV2D_F32(name) \
  static const qk_conv2d_float_impl name##_impl = {name##_packed_size, name##_pack, name##_workspace_size, name##_run};
#define QK_IMPL_CONV2D_F16W(name) QK_IMPL_CONV2D_F32(name)
#define QK_IMPL_DWCONV2D_F32(name) QK_IMPL_CONV2D_F32(name)
#define QK_IMPL_DWCONV2D_F16W(name) QK_IMPL_CONV2D_F32(name)
#define QK_IMPL_ADD_F32(name) static const qk_add_f32_impl name##_impl = {name##_run};
#define QK_IMPL_AVGPOOL_F32(name) static const qk_pool_f32_impl name##_impl = {name##_run};
#define QK_IMPL_QUANTIZE_F16W(name) static const qk_f32_to_f16_impl name##_impl = {name##_run};
#define QK_IMPL_DEQUANTIZE_F16W(name) static const qk_f16_to_f32_impl name##_impl = {name##_run};
#define QK_IMPL_FC_DYNAMIC(name) \
  static const qk_fc_dynamic_impl name##_impl = {name##_packed_size, name##_pack, name##_workspace_size, name##_run};
#define QK_IMPL_CONV2D_DYNAMIC(name) \
  static const qk_conv2d_dynamic_impl name##_impl = {name##_packed_size, name##_pack, name##_workspace_size, name##_run};
#define QK_IMPL_DWCONV2D_DYNAMIC(name) QK_IMPL_CONV2D_DYNAMIC(name)

/* A conv variant per FC variant: im2col + that FC microkernel (kernels/conv_gemm.c). */
#define QK_IMPL_CONV_GEMM(name, fc, mr)                                                                  \
  static size_t name##_packed_size(const qk_conv2d_int8_desc *d) {                                      \
    return qk_conv_gemm_packed_size(&fc##_impl, d);                                                     \
  }                                                                                                      \
  static void name##_pack(const qk_conv2d_int8_desc *d, const int8_t *w, const int32_t *b, void *p) {   \
    qk_conv_gemm_pack(&fc##_impl, d, w, b, p);                                                          \
  }                                                                                                      \
  static size_t name##_workspace_size(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g) {          \
    return qk_conv_gemm_workspace_size(mr, d, g);                                                       \
  }                                                                                                      \
  static void name##_run(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g, const void *p,          \
                         const int8_t *x, int8_t *y, void *ws) {                                        \
    qk_conv_gemm_run(&fc##_impl, mr, d, g, p, x, y, ws);                                                \
  }                                                                                                      \
  QK_IMPL_CONV2D_INT8(name)

/* A conv-GEMM variant that hands the shapes direct##_applies() accepts to a direct kernel. */
#define QK_IMPL_CONV_GEMM_DIRECT(name, fc, mr, direct)                                                   \
  static size_t name##_packed_size(const qk_conv2d_int8_desc *d) {                                      \
    return direct##_applies(d) ? direct##_packed_size(d) : qk_conv_gemm_packed_size(&fc##_impl, d);     \
  }                                                                                                      \
  static void name##_pack(const qk_conv2d_int8_desc *d, const int8_t *w, const int32_t *b, void *p) {   \
    if (direct##_applies(d)) direct##_pack(d, w, b, p);                                                 \
    else qk_conv_gemm_pack(&fc##_impl, d, w, b, p);                                                     \
  }                                                                                                      \
  static size_t name##_workspace_size(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g) {          \
    return direct##_applies(d) ? direct##_workspace_size(d, g) : qk_conv_gemm_workspace_size(mr, d, g); \
  }                                                                                                      \
  static void name##_run(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g, const void *p,          \
                         const int8_t *x, int8_t *y, void *ws) {                                        \
    if (direct##_applies(d)) direct##_run(d, g, p, x, y, ws);                                           \
    else qk_conv_gemm_run(&fc##_impl, mr, d, g, p, x, y, ws);                                           \
  }                                                                                                      \
  QK_IMPL_CONV2D_INT8(name)

/* The same for 16x8: im2col of int16 rows + a 16x8 FC microkernel (kernels/conv_gemm_i16x8.c). */
#define QK_IMPL_CONV_GEMM_I16X8(name, fc, mr)                                                             \
  static size_t name##_packed_size(const qk_conv2d_int8_desc *d) {                                      \
    return qk_conv_gemm_i16x8_packed_size(&fc##_impl, d);                                               \
  }                                                                                                      \
  static void name##_pack(const qk_conv2d_int8_desc *d, const int8_t *w, const int64_t *b, void *p) {   \
    qk_conv_gemm_i16x8_pack(&fc##_impl, d, w, b, p);                                                    \
  }                                                                                                      \
  static size_t name##_workspace_size(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g) {          \
    return qk_conv_gemm_i16x8_workspace_size(mr, d, g);                                                 \
  }                                                                                                      \
  static void name##_run(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g, const void *p,          \
                         const int16_t *x, int16_t *y, void *ws) {                                      \
    qk_conv_gemm_i16x8_run(&fc##_impl, mr, d, g, p, x, y, ws);                                          \
  }                                                                                                      \
  QK_IMPL_CONV2D_I16X8(name)

/* The same for the float paths: im2col of float rows (0.0f padding) + an f32 or f16w FC
 * microkernel (kernels/conv_gemm_f32.c); wbytes is the FC's weight element size. */
#define QK_IMPL_CONV_GEMM_FLOAT(name, fc, mr, wbytes)                                                      \
  static size_t name##_packed_size(const qk_conv2d_f32_desc *d) {                                         \
    return qk_conv_gemm_f32_packed_size(&fc##_impl, d);                                                   \
  }                                                                                                        \
  static void name##_pack(const qk_conv2d_f32_desc *d, const void *w, const float *b, void *p) {          \
    qk_conv_gemm_f32_pack(&fc##_impl, wbytes, d, w, b, p);                                                \
  }                                                                                                        \
  static size_t name##_workspace_size(const qk_conv2d_f32_desc *d, const qk_conv2d_geom *g) {             \
    return qk_conv_gemm_f32_workspace_size(mr, d, g);                                                     \
  }                                                                                                        \
  static void name##_run(const qk_conv2d_f32_desc *d, const qk_conv2d_geom *g, const void *p, const float *x, \
                         float *y, void *ws) {                                                             \
    qk_conv_gemm_f32_run(&fc##_impl, mr, d, g, p, x, y, ws);                                              \
  }                                                                                                        \
  QK_IMPL_CONV2D_F32(name)
#define QK_CONV_GEMM_WBYTES_F32 4
#define QK_CONV_GEMM_WBYTES_F16W 2

#define QK_VARIANT(op, path, isa, name, mr, nr, kr) QK_IMPL_##op##_##path(name)
#define QK_CONV_GEMM(ISA, isa, tile, mr, nr, kr) \
  QK_IMPL_CONV_GEMM(qk_int8_conv2d_gemm_##tile##__##isa, qk_int8_fc_##tile##__##isa, mr)
#define QK_CONV_GEMM_DIRECT(ISA, isa, tile, mr, nr, kr, direct) \
  QK_IMPL_CONV_GEMM_DIRECT(qk_int8_conv2d_gemm_##tile##__##isa, qk_int8_fc_##tile##__##isa, mr, direct)
#define QK_CONV_GEMM_I16X8(ISA, isa, tile, mr, nr, kr) \
  QK_IMPL_CONV_GEMM_I16X8(qk_i16x8_conv2d_gemm_##tile##__##isa, qk_i16x8_fc_##tile##__##isa, mr)
#define QK_CONV_GEMM_FLOAT(PATH, path, ISA, isa, tile, mr, nr, kr)                                   \
  QK_IMPL_CONV_GEMM_FLOAT(qk_##path##_conv2d_gemm_##tile##__##isa, qk_##path##_fc_##tile##__##isa, mr, \
                          QK_CONV_GEMM_WBYTES_##PATH)
#include "variants.def"
#undef QK_VARIANT
#undef QK_CONV_GEMM
#undef QK_CONV_GEMM_DIRECT
#undef QK_CONV_GEMM_I16X8
#undef QK_CONV_GEMM_FLOAT

static const qk_variant table[] = {
#define QK_VARIANT(op, path, isa, name, mr, nr, kr) \
  {#name, QK_OP_##op, QK_PATH_##path, QK_ISA_##isa, mr, nr, kr, &name##_impl},
#define QK_CONV_GEMM(ISA, isa, tile, mr, nr, kr) \
  QK_VARIANT(CONV2D, INT8, ISA, qk_int8_conv2d_gemm_##tile##__##isa, mr, nr, kr)
#define QK_CONV_GEMM_DIRECT(ISA, isa, tile, mr, nr, kr, direct) QK_CONV_GEMM(ISA, isa, tile, mr, nr, kr)
#define QK_CONV_GEMM_I16X8(ISA, isa, tile, mr, nr, kr) \
  QK_VARIANT(CONV2D, I16X8, ISA, qk_i16x8_conv2d_gemm_##tile##__##isa, mr, nr, kr)
#define QK_CONV_GEMM_FLOAT(PATH, path, ISA, isa, tile, mr, nr, kr) \
  QK_VARIANT(CONV2D, PATH, ISA, qk_##path##_conv2d_gemm_##tile##__##isa, mr, nr, kr)
#include "variants.def"
#undef QK_VARIANT
#undef QK_CONV_GEMM
#undef QK_CONV_GEMM_DIRECT
#undef QK_CONV_GEMM_I16X8
#undef QK_CONV_GEMM_FLOAT
};

size_t qk_variant_count(void) { return sizeof table / sizeof table[0]; }

const qk_variant *qk_variant_at(size_t i) { return i < qk_variant_count() ? &table[i] : NULL; }

const qk_variant *qk_variant_find(const char *name) {
  if (!name) return NULL;
  for (size_t i = 0; i < qk_variant_count(); i++)
    if (strcmp(table[i].name, name) == 0) return &table[i];
  return NULL;
}

static const char *const isa_names[QK_ISA_COUNT] = {
    "scalar", "sse41", "avx2", "avxvnni", "avx512vnni", "neon", "neondot", "i8mm", "neonfp16",
};

const char *qk_isa_name(qk_isa isa) { return isa < QK_ISA_COUNT ? isa_names[isa] : "?"; }

bool qk_isa_from_name(const char *name, qk_isa *isa) {
  for (int i = 0; i < QK_ISA_COUNT; i++)
    if (name && strcmp(name, isa_names[i]) == 0) {
      *isa = (qk_isa)i;
      return true;
    }
  return false;
}

const char *qk_op_name(qk_op op) {
  static const char *const names[QK_OP_COUNT] = {"fc", "conv2d", "dwconv2d", "add", "mul", "avgpool",
                                                 "maxpool", "quantize", "dequantize", "requantize", "add_pot"};
  return op < QK_OP_COUNT ? names[op] : "?";
}
const char *qk_path_name(qk_path path) {
  static const char *const names[QK_PATH_COUNT] = {"int8", "i16x8", "f32", "f16w", "dynamic", "f16"};
  return path < QK_PATH_COUNT ? names[path] : "?";
}

bool qk_isa_built(qk_isa isa) {
  for (size_t i = 0; i < qk_variant_count(); i++)
    if (table[i].isa == isa) return true;
  return false;
}

const char *qk_variant_unavailable(const qk_variant *v) {
  static const char *const lacks[QK_ISA_COUNT] = {
      "CPU lacks scalar", "CPU lacks sse41", "CPU lacks avx2", "CPU lacks avxvnni",
      "CPU lacks avx512vnni", "CPU lacks neon", "CPU lacks neondot", "CPU lacks i8mm",
      "CPU lacks neonfp16",
  };
  if (!qk_isa_supported(v->isa)) return lacks[v->isa];
  if (v->isa > qk_isa_cap()) return "above the QK_ISA cap";
  return NULL;
}

const qk_variant *qk_dispatch(qk_op op, qk_path path) {
  const char *force = getenv("QK_VARIANT");
  if (force && *force) {
    const qk_variant *v = qk_variant_find(force);
    /* A forced name for another op is ignored so QK_VARIANT can target one op of many. */
    if (v && (v->op != op || v->path != path)) v = NULL;
    else if (!v) {
      qk_fail(QK_ERR_UNSUPPORTED, "QK_VARIANT=%s is not a built variant (see `qkbench info`)", force);
      return NULL;
    }
    if (v) {
      const char *why = qk_variant_unavailable(v);
      if (why) {
        qk_fail(QK_ERR_UNSUPPORTED, "QK_VARIANT=%s cannot run: %s (%s)", force, why, qk_isa_name(v->isa));
        return NULL;
      }
      return v;
    }
  }
  if (qk_isa_cap() == QK_ISA_COUNT) {
    qk_fail(QK_ERR_PARAM, "QK_ISA=%s is not one of scalar sse41 avx2 avxvnni avx512vnni neon neondot i8mm neonfp16",
            getenv("QK_ISA"));
    return NULL;
  }
  const qk_variant *best = NULL;
  for (size_t i = 0; i < qk_variant_count(); i++) {
    const qk_variant *v = &table[i];
    if (v->op != op || v->path != path || qk_variant_unavailable(v)) continue;
    if (!best || v->isa > best->isa) best = v;
  }
  if (!best) qk_fail(QK_ERR_UNSUPPORTED, "no %s %s variant can run here", qk_path_name(path), qk_op_name(op));
  return best;
}

const qk_variant *qk_dispatch_shape(qk_op op, qk_path path, size_t m, size_t k, size_t n) {
  const char *force = getenv("QK_VARIANT");
  if (!(force && *force) && qk_isa_cap() != QK_ISA_COUNT) {
    const qk_variant *v = qk_picks_lookup(op, path, m, k, n);
    /* Pick tables come from benchmarks, which time the FC kernels on the 1x1 conv shapes: a
     * conv asks for the FC pick and takes its im2col+GEMM twin of the same tile and ISA. */
    if (!v && op == QK_OP_CONV2D) {
      const qk_variant *fc = qk_picks_lookup(QK_OP_FC, path, m, k, n);
      const char *tile = fc ? strstr(fc->name, "_fc_") : NULL;
      if (tile) {
        char name[160];
        snprintf(name, sizeof name, "qk_%s_conv2d_gemm_%s", qk_path_name(path), tile + 4);
        v = qk_variant_find(name);
        if (v && qk_variant_unavailable(v)) v = NULL;
      }
    }
    if (v) return v;
  }
  return qk_dispatch(op, path);
}
