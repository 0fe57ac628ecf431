/* The whole-network side of the latency harness: the model table as a wired layer graph
 * (bench/model.c), a synthetic int8 network over it with calibrated quantization and its reference
 * activations (bench/net.c), and the registration of the per-op and chain benchmarks built on it
 * (bench/bench_*.c, bench/chain_int8.c, bench/xnnpack_chain.c). */
#ifndef QKB_MODEL_H
#define QKB_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gbench.h"
#include "qk/qk.h"
#include "qkb_internal.h"

/* ---- the layer graph (bench/model.c) ---------------------------------------------------------- */

/* conv: k x k conv other than 1x1 (the stem); pw: 1x1 stride-1 conv; dw: depthwise. */
typedef enum qkb_lkind { QKB_L_CONV = 0, QKB_L_PW, QKB_L_DW, QKB_L_ADD, QKB_L_GAP, QKB_L_FC, QKB_L_COUNT } qkb_lkind;
const char *qkb_lkind_name(qkb_lkind k);

typedef struct qkb_layer {
  int index;      /* 0-based row of the table = tensor id of its output */
  qkb_lkind kind;
  size_t in_h, in_w, in_c, out_h, out_w, out_c, kernel, stride;
  uint64_t macs;
  bool relu6;     /* MobileNetV2: after the stem, expansion and depthwise convs */
  int in, in2;    /* producing layer of each input; -1 = the quantized network input; in2: add only */
  char name[40];  /* layerNN_<kind> */
  char label[96]; /* per-op shape label, shared by layers of the same op and shape */
  int first;      /* first layer carrying this label (the one per-op benchmarks time) */
  unsigned count; /* on the first: how many layers share the label */
  char layers[160]; /* on the first: their indices, e.g. "26 29 32" */
} qkb_layer;

typedef struct qkb_model {
  char prefix[48];
  char path[1024];
  qkb_layer *v;
  size_t n;
  size_t in_h, in_w, in_c; /* network input (the first layer's input) */
  uint64_t macs;
  size_t max_tensor;       /* bytes of the largest activation, input included */
  char input_label[96], logits_label[96]; /* quantize / dequantize shape labels */
} qkb_model;

/* Wires a table as a MobileNet-style chain: each layer reads the previous one; a 1x1 conv after a
 * depthwise conv is a projection (no activation), any other conv gets ReLU6; an add sums the
 * projection with the input of its block (the tensor the block's expansion read). Fails with
 * "file:line: message" when a row does not fit (shapes that do not chain, an add without a
 * matching block input, a table not ending in fc). */
bool qkb_model_load(const char *path, qkb_model *m, char *err, size_t errlen);
void qkb_model_free(qkb_model *m);

/* Activation buffers for running the chain: slot_of[i + 1] is the slot layer i writes (slot_of[0]:
 * the network input's). Greedy reuse by liveness; returns the number of slots. */
size_t qkb_model_slots(const qkb_model *m, int *slot_of);

/* ---- the synthetic network (bench/net.c) ------------------------------------------------------ */

typedef struct qkb_net_layer {
  float s_in, s_in2, s_out;
  int32_t zp_in, zp_in2, zp_out;
  int8_t *w;        /* conv OHWI, depthwise 1HWO, fc [out][in] */
  int32_t *bias;
  float *s_w;       /* per output channel (fc: one value repeated, per-tensor as TFLite's default) */
  int32_t *mult, *shift;
  qk_conv2d_int8_desc conv; /* conv, pw, dw */
  qk_fc_int8_desc fc;
  qk_add_int8_params add;   /* input1 = layer.in (the projection), input2 = layer.in2 */
  qk_pool_int8_desc pool;
  int8_t *out;      /* reference output, with XNN slack */
  size_t out_bytes, w_bytes;
  double saturated; /* fraction of reference outputs on the clamp (ReLU6: on act_max) */
} qkb_net_layer;

typedef struct qkb_net {
  const qkb_model *m;
  float *image;     /* network input in [-1, 1], in_h x in_w x in_c */
  float s_image;
  int32_t zp_image;
  int8_t *qimage;   /* quantized input (reference quantize), with slack */
  qkb_net_layer *l;
  float *logits;    /* dequantized fc output */
  double build_seconds;
} qkb_net;

/* The model and seed the network is built from; call before any benchmark runs. */
void qkb_net_configure(const qkb_model *m, uint64_t seed);
/* Builds the network on first use (weights from the seed, scales from a calibration pass with the
 * reference kernels, whose outputs are kept as the expected activations). NULL + message on error. */
const qkb_net *qkb_net_get(char *err, size_t errlen);
/* The reference tensor a layer input refers to (-1: the quantized input). */
const int8_t *qkb_net_tensor(const qkb_net *n, int id);
void qkb_net_shutdown(void);

/* ---- registration (bench/bench_common.c) ------------------------------------------------------ */

typedef struct qkb_reg {
  const qkb_model *model;
  const char *peer_off; /* "" when the XNNPACK peers can run, else why their rows are skipped */
  bool want_xnn;        /* false: no peer rows at all (--no-xnnpack) */
  bool real_time;
  bool chain_layers;    /* per-layer chain rows */
  double layer_min_time; /* min_time of per-layer chain rows; 0 = the command line's */
} qkb_reg;

/* A zeroed, process-lifetime allocation for benchmark cases (freed by qkb_cases_free). */
void *qkb_case_alloc(size_t size);
/* The same, 64-byte aligned (workspaces). */
void *qkb_case_aligned(size_t size);
void qkb_cases_free(void);
/* Registers a timed row (unit us). */
bool qkb_register_row(const qkb_reg *r, const char *name, qkb_fn fn, void *user, double min_time);
/* How many rows the families registered. */
size_t qkb_registered_count(void);
/* Registers a skipped row (one repetition) reporting why. */
bool qkb_register_skip(const char *name, const char *why);
/* Skipped-row text for a variant this CPU or cap cannot run, NULL if it can. */
const char *qkb_variant_skip(const qk_variant *v, char *buf, size_t n);
/* A scratch output buffer of at least bytes (64-byte aligned, never moved once sized by
 * qkb_scratch_reserve): per-op benchmarks write there, like a runtime's arena. */
bool qkb_scratch_reserve(size_t bytes);
void *qkb_scratch(void);
/* Rotation copies for weights of per_copy bytes (same rule as qkb_copies_for). */
size_t qkb_copies_bytes(size_t per_copy);
/* "hot" or "cold:<count>x<size>" for the row label (bytes: all copies together). */
void qkb_cold_label(size_t count, size_t bytes, char *out, size_t n);
/* Sets ops_per_second (ops per iteration) and bytes_per_second counters, and "ops" (per iteration,
 * not a rate) so scripts can compute GOPS for shapes that are not GEMMs. */
void qkb_rate_counters(qkb_state *st, double ops, double bytes);

/* A row of an op without weights: the variant and the network layer it runs (-1: the network's
 * input or output conversion). */
typedef struct qkb_simple_case {
  const qk_variant *v;
  int layer;
} qkb_simple_case;
/* Registers family/<variant>/label for every int8 variant of op (skipped rows for those that
 * cannot run here), each with a qkb_simple_case for fn. */
bool qkb_register_variants(const qkb_reg *r, qk_op op, const char *family, const char *label, qkb_fn fn, int layer);

/* A peer row: count operators made by make() (XNNPACK packs weights per operator) rotated like
 * packed weights; make() runs on first use, once the network exists. */
typedef struct qkb_peer_case {
  void *(*make)(const qkb_net *net, const struct qkb_peer_case *c, char *err, size_t errlen);
  int layer;         /* network layer, -1 if none */
  size_t count;      /* operator copies */
  size_t copy_bytes; /* weight bytes per copy, for the label */
  double ops, bytes; /* per iteration */
} qkb_peer_case;
/* The peer benchmark function (user: a qkb_peer_case); a skipped row without XNNPACK. */
void qkb_bm_peer(qkb_state *st, void *user);
/* Registers a peer row, or the skipped row r->peer_off says; nothing with --no-xnnpack. */
bool qkb_register_peer(const qkb_reg *r, const char *name, qkb_peer_case *c);

/* ---- chain plumbing (bench/chain_int8.c) ------------------------------------------------------ */

/* Activation buffers of a chain (qkb_model_slots), each max_tensor bytes + slack; slot 0 holds the
 * quantized network input. */
typedef struct qkb_slots {
  int8_t **p;
  size_t n;
  int *slot_of; /* [model.n + 1] */
} qkb_slots;
bool qkb_slots_init(qkb_slots *s, const qkb_net *net);
void qkb_slots_free(qkb_slots *s);
static inline int8_t *qkb_slot(const qkb_slots *s, int tensor) { return s->p[s->slot_of[tensor + 1]]; }
/* Copies the reference values of layer i's inputs into their slots (per-layer rows). */
void qkb_slots_stage(const qkb_slots *s, const qkb_net *net, int i);
/* Per-iteration ops (2*MACs; elements for add and pooling) and bytes (weights + inputs + output). */
double qkb_layer_ops(const qkb_layer *L);
double qkb_layer_bytes(const qkb_layer *L);
/* Context text describing the chain rows. */
const char *qkb_chain_describe(void);

/* ---- the benchmark families ------------------------------------------------------------------- */

/* conv2d_int8 (stem + pointwise) and dwconv2d_int8 rows: every registered CONV2D / DWCONV2D
 * variant x every distinct layer shape, plus XNNPACK qc8 convolution peers (bench/bench_conv.c). */
bool qkb_register_conv(const qkb_reg *r, char *err, size_t errlen);
/* add_int8 rows (bench/bench_eltwise.c). */
bool qkb_register_eltwise(const qkb_reg *r, char *err, size_t errlen);
/* avgpool_int8 rows (bench/bench_pool.c). */
bool qkb_register_pool(const qkb_reg *r, char *err, size_t errlen);
/* quantize_int8 (network input) and dequantize_int8 (logits) rows (bench/bench_convert.c). */
bool qkb_register_convert(const qkb_reg *r, char *err, size_t errlen);
/* fc / conv2d / dwconv2d / add / addpot / quantize / dequantize_i16x8 rows (bench/bench_i16x8.c), and
 * the float paths' fc / conv2d / dwconv2d / add / avgpool rows with XNNPACK f32 and f16 peers
 * (bench/bench_float.c); declarations of their data in bench/qkb_paths.h. */
bool qkb_register_i16x8(const qkb_reg *r, char *err, size_t errlen);
bool qkb_register_float(const qkb_reg *r, char *err, size_t errlen);
void qkb_i16x8_shutdown(void);
void qkb_float_shutdown(void);
/* chain_int8/<cap>/{total,layerNN_<kind>} for every built ISA (bench/chain_int8.c), and the
 * XNNPACK chain chain_int8/xnnpack/... (bench/xnnpack_chain.c). */
bool qkb_register_chain(const qkb_reg *r, char *err, size_t errlen);
bool qkb_register_xnnpack_chain(const qkb_reg *r, char *err, size_t errlen);
void qkb_chain_shutdown(void);
/* chain_i16x8 / chain_f32 / chain_f16w / chain_dynamic/<cap>/total (bench/chain_paths.c). */
bool qkb_register_chain_paths(const qkb_reg *r, char *err, size_t errlen);
const char *qkb_chain_paths_describe(void);
void qkb_chain_paths_shutdown(void);
/* The f32 network of chain_f32 (weights = int8 weight * scale, real bias) for layer `layer`, built
 * on first use (NULL + message on error), and the logits of its qk_ref_* chain (NULL if not
 * available: chain_f32/scalar/total not registered or failed). */
const float *qkb_f32_net_weights(const qkb_net *net, int layer, const float **bias, char *err, size_t errlen);
const float *qkb_f32_net_logits(const qkb_net *net);
/* chain_f32/xnnpack/total (bench/xnnpack_chain_f32.c). */
bool qkb_register_xnnpack_chain_f32(const qkb_reg *r, char *err, size_t errlen);
void qkb_xnnpack_chain_f32_shutdown(void);
void qkb_xnnpack_chain_shutdown(void);

/* ---- XNNPACK operators for network layers (bench/xnnpack_ops.c, QKB_HAVE_XNNPACK only) -------- */

/* Peer name per layer kind: xnnpack_qc8_conv, xnnpack_qc8_conv1x1, xnnpack_qc8_dwconv,
 * xnnpack_qs8_add, xnnpack_qs8_gap, xnnpack_qs8_fc. */
const char *qkb_xnn_peer_name(qkb_lkind k);
/* Creates and sets up the XNNPACK operator for layer i of the network, reading x (and x2 for add)
 * and writing y. Weights and quantization are the layer's. NULL + message on error. */
void *qkb_xnn_layer_create(const qkb_net *net, int i, const int8_t *x, const int8_t *x2, int8_t *y,
                           char *err, size_t errlen);
/* xnn convert f32 -> qs8 (scale, zp) and qs8 -> f32 over n values. */
void *qkb_xnn_quantize_create(size_t n, float scale, int32_t zp, const float *x, int8_t *y, char *err,
                              size_t errlen);
void *qkb_xnn_dequantize_create(size_t n, float scale, int32_t zp, const int8_t *x, float *y, char *err,
                                size_t errlen);
/* xnn_status as text. */
const char *qkb_xnn_status_name(int status);
/* Bytes an operator for layer i allocates beyond its weights (indirection buffers), an estimate. */
size_t qkb_xnn_layer_overhead(const qkb_layer *L);

#endif
