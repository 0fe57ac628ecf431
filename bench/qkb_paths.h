/* Per-op rows of the 16x8 and float paths (bench/bench_i16x8.c, bench/bench_float.c) and their
 * XNNPACK f32 / f16 peers (bench/xnnpack_float_ops.c): the data they share, derived once from the
 * synthetic int8 network of bench/net.c (its weights, per-channel scales and calibration). */
#ifndef QKB_PATHS_H
#define QKB_PATHS_H

#include "qkb_build.h"
#include "qkb_model.h"

/* ---- cold copies of any packed buffer (bench/rotation_pack.c) --------------------------------- */

/* Fills the live rotation set r (r->count items) with copies of a psize-byte buffer that
 * pack(ctx, dst) writes, in the shared weight arena; copies by memcpy when two packings at
 * different addresses are byte-identical (no addresses inside), else packs each copy. */
bool qkb_pack_rotation(qkb_rotation *r, size_t psize, void (*pack)(const void *ctx, void *dst), const void *ctx,
                       char *err, size_t errlen);

/* The timed loop of a cold-weight row: CALL runs once per iteration with `packed` naming the next
 * copy in rotation r; the position is kept in r so the next repetition continues the cycle. */
#define QKB_TIME_ROTATED(st, r, CALL)                     \
  do {                                                    \
    void *const *const qkb_items_ = (r)->items;           \
    const size_t qkb_cnt_ = (r)->count;                   \
    size_t qkb_i_ = (r)->next;                            \
    while (qkb_keep_running(st)) {                        \
      void *const packed = qkb_items_[qkb_i_];            \
      CALL;                                               \
      if (++qkb_i_ == qkb_cnt_) qkb_i_ = 0;               \
    }                                                     \
    (r)->next = qkb_i_;                                   \
  } while (0)

/* ---- the 16x8 network (bench/net_i16x8.c) ----------------------------------------------------- */

/* The int8 network on the 16x8 path, by the rules chain_i16x8 states (qkb_chain_paths_describe):
 * int16 activations with zero point 0 and scale = the int8 layer's real range / 32767, the int8
 * per-channel weights, int64 bias (the int8 bias rescaled to the int16 input scale), ReLU6 as the
 * clamp [0, q(6)], residual adds with left_shift 15, the global average pool as a plain C
 * reduction (no 16x8 pooling op). Every tensor comes from the 16x8 reference kernels. */
typedef struct qkb_net16_layer {
  float s_out;
  int32_t act_min, act_max;
  qk_conv2d_int8_desc conv; /* conv, pw, dw */
  qk_fc_i16x8_desc fc;      /* fc, and every pw layer as its GEMM (M = H*W) */
  qk_add_int8_params add;
  int64_t *bias;
  int32_t *mult, *shift;
  int16_t *out; /* reference output, with slack */
  size_t out_n;
} qkb_net16_layer;

typedef struct qkb_net16 {
  float s_image;
  int16_t *image; /* the network's float input quantized to int16 (reference), with slack */
  qkb_net16_layer *l;
  float *logits;  /* reference dequantization of the fc output */
} qkb_net16;

/* Built on first use from qkb_net_get()'s network; NULL + message on error. */
const qkb_net16 *qkb_net16_get(char *err, size_t errlen);
static inline const int16_t *qkb_net16_tensor(const qkb_net16 *n, int id) { return id < 0 ? n->image : n->l[id].out; }
void qkb_net16_shutdown(void);

/* ---- float layer data (bench/net_float.c) ----------------------------------------------------- */

/* Weights as chain_f32 / chain_f16w use them (qkb_f32_net_weights: int8 weight * scale, real
 * bias), the descriptors of each path, and on demand: each tensor as float (the int8 network's
 * reference activation dequantized; the network input: its float image) and as binary16, the
 * double-precision expected outputs with the SPEC §14 magnitudes, and the dynamic-range
 * reference outputs. */
typedef enum qkb_fw { QKB_FW_F32 = 0, QKB_FW_F16W, QKB_FW_COUNT } qkb_fw;

typedef struct qkb_netf_layer {
  const float *w32, *bias; /* conv OHWI, dw 1HWO, fc [out][in]; bias [out_c] */
  uint16_t *w16, *bias16;  /* binary16 of them (bias16 for the XNNPACK f16 peers) */
  float *w16f;             /* w16 widened: the weights the f16w path computes with */
  size_t w_n;
  float act_min, act_max;  /* 0 / 6 for ReLU6 layers, else -inf / inf */
  qk_conv2d_f32_desc conv; /* conv, pw, dw */
  qk_conv2d_geom g;        /* conv, pw, dw, gap */
  qk_fc_f32_desc fc;       /* fc, and every pw layer as its GEMM */
  qk_conv2d_dynamic_desc dconv;
  qk_fc_dynamic_desc dfc;
  qk_add_f32_params add;
  qk_pool_f32_desc pool;
} qkb_netf_layer;

/* Exact outputs (double, clamped) and per output sum |w x| + |bias| (add: |x1| + |x2|; pooling:
 * sum |x| / count); terms: roundings the f32 computation makes at most (K + 1; add 1; pool
 * count + 1). */
typedef struct qkb_fexpect {
  double *exact, *mag;
  size_t n, terms;
} qkb_fexpect;

const qkb_netf_layer *qkb_netf_layer_get(const qkb_net *net, int layer, char *err, size_t errlen);
const float *qkb_netf_tensor(const qkb_net *net, int id, char *err, size_t errlen);
const uint16_t *qkb_netf_tensor16(const qkb_net *net, int id, char *err, size_t errlen);
const qkb_fexpect *qkb_netf_expect(const qkb_net *net, int layer, qkb_fw fw, char *err, size_t errlen);
/* qk_ref_fc_dynamic (as_fc: the layer as an FC over its M = H*W rows, each quantized alone) or
 * qk_ref_conv2d_dynamic (the image quantized as a whole) on the layer's float input. */
const float *qkb_netf_dynamic_ref(const qkb_net *net, int layer, bool as_fc, char *err, size_t errlen);
/* Elements of layer's output. */
size_t qkb_netf_out_n(const qkb_layer *L);
/* SPEC §14: |y - exact| <= gamma_(terms + extra) * mag + u |exact| + eta for every output, with
 * gamma_t = t u / (1 - t u). Returns whether all are within; *worst = the largest error / bound. */
bool qkb_fexpect_within(const qkb_fexpect *e, const float *y, double u, size_t extra, double eta, double *worst);
void qkb_netf_shutdown(void);

/* ---- XNNPACK f32 / f16 operators for network layers (bench/xnnpack_float_ops.c) --------------- */

/* Peer name of a layer kind: xnnpack_<f32|f16>_{conv,conv1x1,dwconv,add,gap,fc}. */
const char *qkb_xnnf_peer_name(qkb_lkind k, bool f16);
#if QKB_HAVE_XNNPACK
/* Creates and sets up the f32 (f16: binary16 weights, bias, activations and arithmetic) operator
 * for layer i, reading x (and x2 for add) and writing y; f16 operators take uint16_t buffers.
 * NULL + message (XNNPACK's status) on error. */
void *qkb_xnnf_layer_create(const qkb_net *net, int i, bool f16, const void *x, const void *x2, void *y, char *err,
                            size_t errlen);
/* Fully connected for layer i: the fc layer, or a 1x1 conv layer as its GEMM (batch M = H*W). */
void *qkb_xnnf_fc_create(const qkb_net *net, int i, bool f16, const void *x, void *y, char *err, size_t errlen);
/* NULL if the f16 operators run here, else a skipped-row text with XNNPACK's status. */
const char *qkb_xnnf_f16_unsupported(char *buf, size_t n);
#endif

#endif
