/* Latency harness internals: shape tables, workloads (data + quantization), weight rotation and
 * the XNNPACK peers. Data flows one way: shape -> workload (quantization chosen once) -> packed
 * weights per variant (outside the timed loop) -> run. */
#ifndef QKB_INTERNAL_H
#define QKB_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qk/qk.h"

/* ---- shapes (bench/shapes.c) ------------------------------------------------------------------ */

/* One GEMM the harness times: y[M,N] = x[M,K] * w[N,K]^T. Pointwise 1x1 convolutions are GEMMs
 * with M = H*W; fully connected layers have M = batch (h = M, w = 1). */
typedef struct qkb_shape {
  char label[96]; /* e.g. mnv2_pw03_M12544_K16_N96: unique, used in benchmark names */
  char kind[4];   /* "pw" or "fc" */
  int layer;      /* 0-based data row in the table, -1 for built-in shapes */
  size_t m, k, n;
  size_t h, w;    /* spatial extent for the convolution peer (h * w == m) */
  unsigned count; /* how many table layers share this GEMM (sums over a model weight by it) */
  char layers[160]; /* the rows merged into this shape, e.g. "6 10" */
} qkb_shape;

typedef struct qkb_shape_list {
  qkb_shape *v;
  size_t n, cap;
} qkb_shape_list;

/* One checked row of a model table, as written (bench/shapes.c). */
typedef struct qkb_table_row {
  char kind[8];   /* conv, dw, add, gap, fc */
  size_t in_h, in_w, in_c, out_c, kernel, stride;
  uint64_t macs;
  long line;      /* line number in the file */
} qkb_table_row;

typedef struct qkb_table {
  char prefix[48]; /* label prefix: '# label:', a short name for known files, or the file stem */
  qkb_table_row *rows;
  size_t n, cap;
} qkb_table;

/* Reads every row, checking columns, kinds and MAC counts. On failure returns false with
 * "file:line: message" in err (t is then empty). */
bool qkb_table_read(const char *path, qkb_table *t, char *err, size_t errlen);
void qkb_table_free(qkb_table *t);

/* Parses a model table (format: see the header of bench/shapes/mobilenet_v2_1.0_224.txt) and
 * appends every stride-1 pointwise conv and every fc layer. Identical GEMMs are merged (count, layers) unless all_layers. Label prefix:
 * a `# label: NAME` line, else a short name for known files, else the sanitised file stem.
 * On failure returns false with "file:line: message" (or "file: message") in err. */
bool qkb_shapes_load(const char *path, bool all_layers, qkb_shape_list *out, char *err, size_t errlen);
/* Appends a built-in fc shape M x K x N labelled fc_M<M>_K<K>_N<N>. */
bool qkb_shapes_add_fc(qkb_shape_list *out, size_t m, size_t k, size_t n);
void qkb_shapes_free(qkb_shape_list *l);

/* ---- workloads (bench/workload.c) ------------------------------------------------------------- */

/* Everything a variant or a peer needs for one shape, made once from a fixed seed. */
typedef struct qkb_workload {
  const qkb_shape *shape;
  int8_t *x;       /* [M*K] plus slack (XNNPACK may read 16 bytes past the end) */
  int8_t *y;       /* [M*N] */
  int8_t *w;       /* [N*K], symmetric per channel, each row reaching +-127 */
  int32_t *bias;   /* [N] */
  float s_in, s_out;
  float *s_w;      /* [N] per-channel weight scales */
  float s_w_tensor; /* one weight scale for the per-tensor peer (mean of s_w) */
  int32_t *multiplier, *shift; /* [N], from qk_multipliers_per_channel */
  qk_fc_int8_desc desc;
} qkb_workload;

/* Random int8 data and weights, realistic scales; the output scale and zero point come from the
 * range of sampled accumulators (0.1% / 99.9% quantiles, as calibration would), so outputs spread
 * over int8 without saturating. Returns NULL with a message in err on failure. */
qkb_workload *qkb_workload_create(const qkb_shape *s, uint64_t seed, char *err, size_t errlen);
void qkb_workload_destroy(qkb_workload *wl);
/* Fraction of y equal to act_min or act_max (after a run). */
double qkb_clamped_fraction(const qkb_workload *wl);

/* ---- weight rotation (bench/rotation.c) ------------------------------------------------------- */

/* How many copies of the weights a benchmark of this shape rotates through: 1 when hot, else
 * enough copies of the raw weights (K*N int8 + 12*N bytes of bias and requantization constants)
 * to exceed the rotation target, at most max_copies. The same count for every variant and peer. */
typedef struct qkb_rotation_config {
  bool hot;
  size_t target_bytes;
  size_t max_copies;
} qkb_rotation_config;
extern qkb_rotation_config qkb_rot_cfg;
size_t qkb_copies_for(const qkb_shape *s);

/* The one live rotation set: packed weights for a variant, or operators for a peer. Building a
 * new one releases the previous one (benchmarks interleave, so sets are rebuilt per repetition;
 * Google Benchmark's repeated calls within one repetition reuse it). */
typedef struct qkb_rotation {
  const void *owner; /* the benchmark case that built it */
  size_t count;      /* copies */
  size_t next;       /* rotation cursor, kept across calls so no call starts on a hot copy */
  size_t bytes;      /* total bytes of the copies (approximate for peers) */
  void **items;      /* count pointers */
  void (*release)(struct qkb_rotation *r);
  void *ctx;
} qkb_rotation;

/* Returns the live set if owner built it, else NULL (the caller then builds one). */
qkb_rotation *qkb_rotation_current(const void *owner);
/* Releases the live set and returns an empty one for owner with room for count items. */
qkb_rotation *qkb_rotation_begin(const void *owner, size_t count, char *err, size_t errlen);
/* Marks the live set unusable (after a failed build); releases what was built. */
void qkb_rotation_abort(void);
/* A process-lifetime arena of at least bytes (64-byte aligned), reused so pages are faulted once. */
void *qkb_arena(size_t bytes, char *err, size_t errlen);
void qkb_rotation_shutdown(void);

/* Packs variant v's weights for wl into the live set (count copies). */
bool qkb_pack_variant_copies(const qk_variant *v, const qkb_workload *wl, qkb_rotation *r,
                             char *err, size_t errlen);

/* ---- XNNPACK peers (bench/xnnpack_peers.c, only when QKB_HAVE_XNNPACK) ----------------------- */

typedef enum qkb_peer {
  QKB_PEER_XNN_QS8_FC = 0,      /* xnn_create_fully_connected_nc_qs8: per-tensor weight scale */
  QKB_PEER_XNN_QC8_CONV1X1,     /* xnn_create_convolution2d_nhwc_qc8 1x1: per-channel scales */
  QKB_PEER_COUNT
} qkb_peer;

const char *qkb_peer_name(qkb_peer p);
/* xnn_initialize once; false with a message if XNNPACK cannot run here. */
bool qkb_peers_init(char *err, size_t errlen);
/* Creates and sets up one operator for wl (weights packed by XNNPACK). NULL + message on error. */
void *qkb_peer_create(qkb_peer p, const qkb_workload *wl, char *err, size_t errlen);
/* One inference; false + message on error. */
bool qkb_peer_run(void *op, char *err, size_t errlen);
void qkb_peer_destroy(void *op);
/* "XNNPACK <version>, create/setup/run API, single thread" for the context block. */
const char *qkb_peers_describe(void);

/* machine/probe/clock_dependent_imul (counter hz) and machine/probe/stream_read_512MiB (counter
 * bytes_per_second): the clock and single-core read bandwidth targets are stated against
 * (bench/bench_machine.c). */
bool qkb_register_machine(bool real_time);
void qkb_machine_shutdown(void);

#endif
