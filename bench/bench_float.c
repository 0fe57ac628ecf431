/* Per-op rows of the float paths on the network's real layers (bench/net_float.c), every
 * registered F32, F16W and DYNAMIC variant of each op, each distinct layer shape once:
 *   fc_<f32|f16w|dynamic>/<variant>/<label>  FC on each 1x1 conv as a GEMM (M = H*W) and on the
 *                                     classifier (1280 -> 1000, batch 1)
 *   conv2d_<f32|f16w|dynamic>/...     CONV2D on the stem and the 1x1 convs
 *   dwconv2d_<f32|f16w>/...           DWCONV2D on the depthwise layers
 *   add_f32/..., avgpool_f32/...      the residual adds and the global average pool
 * and the XNNPACK peers on the same layers and data: f32 operators in the f32 families, f16
 * operators (binary16 weights and activations) in the f16w families (add and pooling: in the f32
 * ones). Packed weights (peers: operators) rotate over cold copies like the int8 rows, one count
 * per shape and path. After timing, f32 / f16w rows and the f32 peers check every output against
 * the double-precision result within SPEC §14's bound (counters within_bound, err_ratio = largest
 * error / bound); the f16 peers within the same bound for u = 2^-11 with the roundings of x and of
 * the bias counted; dynamic rows bit for bit against the dynamic reference ("exact"). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "qkb_paths.h"

#define SLACK 64
static const double U32 = 0x1p-24, U16 = 0x1p-11;

typedef struct f_case {
  const qk_variant *v;
  int layer;
  size_t count;
  void *ws;
  bool ws_done;
} f_case;

typedef struct fpeer_case {
  int layer;
  bool f16, as_fc;
  size_t count, copy_bytes;
} fpeer_case;

static float *yout;  /* output arena (binary16 peers write there too) */
static float *ywide; /* binary16 peer outputs widened for the check */

static size_t weight_n(const qkb_layer *L) {
  if (L->kind == QKB_L_FC) return L->in_c * L->out_c;
  const size_t taps = L->kernel * L->kernel;
  if (L->kind == QKB_L_DW) return taps * L->out_c;
  return L->kind == QKB_L_CONV || L->kind == QKB_L_PW ? taps * L->in_c * L->out_c : 0;
}

/* Bytes of one cold copy: weights in the path's type, then float bias (dynamic: and scales). */
static size_t copy_bytes(const qkb_layer *L, qk_path p) {
  const size_t w = weight_n(L), o = L->out_c;
  return p == QK_PATH_F32 ? 4 * w + 4 * o : p == QK_PATH_F16W ? 2 * w + 4 * o : w + 8 * o;
}

/* Per iteration: weights (wsize bytes each) + inputs + output (asize bytes each). */
static double layer_bytes(const qkb_layer *L, double wsize, double asize) {
  const double in = (double)(L->in_h * L->in_w * L->in_c) * (L->kind == QKB_L_ADD ? 2 : 1);
  return wsize * (double)weight_n(L) + asize * (in + (double)qkb_netf_out_n(L));
}

static double layer_ops(const qkb_layer *L) {
  if (L->kind == QKB_L_ADD) return (double)qkb_netf_out_n(L);
  if (L->kind == QKB_L_GAP) return (double)(L->in_h * L->in_w * L->in_c);
  return 2.0 * (double)L->macs;
}

static double wsize_of(qk_path p) { return p == QK_PATH_F32 ? 4.0 : p == QK_PATH_F16W ? 2.0 : 1.0; }

static size_t rows_of(const qkb_layer *L) { return L->kind == QKB_L_FC ? L->in_h : L->out_h * L->out_w; }

/* What every row needs before timing: the layer, its float input(s) and its expectation. */
typedef struct prep {
  const qkb_net *net;
  const qkb_layer *L;
  const qkb_netf_layer *F;
  const float *x, *x2;
  const qkb_fexpect *e; /* f32 / f16w rows */
  const float *dref;    /* dynamic rows */
} prep;

static bool prepare(qkb_state *st, int layer, qk_path path, bool as_fc, prep *p) {
  char err[700];
  memset(p, 0, sizeof *p);
  bool ok = (p->net = qkb_net_get(err, sizeof err)) != NULL;
  if (ok) {
    p->L = &p->net->m->v[layer];
    ok = (p->F = qkb_netf_layer_get(p->net, layer, err, sizeof err)) &&
         (p->x = qkb_netf_tensor(p->net, p->L->in, err, sizeof err)) &&
         (p->x2 = p->L->kind == QKB_L_ADD ? qkb_netf_tensor(p->net, p->L->in2, err, sizeof err) : p->x);
  }
  if (ok && path == QK_PATH_DYNAMIC)
    ok = (p->dref = qkb_netf_dynamic_ref(p->net, layer, as_fc, err, sizeof err)) != NULL;
  else if (ok)
    ok = (p->e = qkb_netf_expect(p->net, layer, path == QK_PATH_F16W ? QKB_FW_F16W : QKB_FW_F32, err,
                                 sizeof err)) != NULL;
  if (!ok) qkb_skip_with_error(st, err);
  return ok;
}

static bool workspace(qkb_state *st, f_case *c, size_t wsize) {
  if (c->ws_done) return true;
  c->ws = wsize ? qkb_case_aligned((wsize + 63) / 64 * 64) : NULL;
  if (wsize && !c->ws) {
    qkb_skip_with_error(st, "out of memory for the workspace");
    return false;
  }
  c->ws_done = true;
  return true;
}

static qkb_rotation *rotation(qkb_state *st, f_case *c, size_t psize, void (*pack)(const void *, void *),
                              const void *ctx) {
  qkb_rotation *r = qkb_rotation_current(c);
  if (r) return r;
  char err[512];
  r = qkb_rotation_begin(c, c->count, err, sizeof err);
  if (!r || !qkb_pack_rotation(r, psize, pack, ctx, err, sizeof err)) {
    qkb_rotation_abort();
    qkb_skip_with_error(st, err);
    return NULL;
  }
  return r;
}

static void finish(qkb_state *st, const prep *p, qk_path path, const qkb_rotation *r, const float *y) {
  qkb_rate_counters(st, layer_ops(p->L), layer_bytes(p->L, wsize_of(path), 4.0));
  if (path == QK_PATH_DYNAMIC) {
    qkb_counter(st, "exact", memcmp(y, p->dref, qkb_netf_out_n(p->L) * sizeof *y) == 0, QKB_COUNTER_DEFAULT);
  } else {
    double worst;
    qkb_counter(st, "within_bound", qkb_fexpect_within(p->e, y, U32, 0, 0.0, &worst), QKB_COUNTER_DEFAULT);
    qkb_counter(st, "err_ratio", worst, QKB_COUNTER_DEFAULT);
  }
  char label[64];
  if (r)
    qkb_cold_label(r->count, r->bytes, label, sizeof label);
  else
    snprintf(label, sizeof label, "hot");
  qkb_set_label(st, label);
}

static const void *weights(const qkb_netf_layer *F, qk_path path) {
  return path == QK_PATH_F16W ? (const void *)F->w16 : (const void *)F->w32;
}

/* ---- FC: f32 / f16w, dynamic ---- */

typedef struct pack_ctx {
  const void *impl;
  const qkb_netf_layer *F;
  const void *w;
} pack_ctx;

static void pack_fc(const void *ctx, void *dst) {
  const pack_ctx *p = ctx;
  ((const qk_fc_float_impl *)p->impl)->pack(&p->F->fc, p->w, p->F->bias, dst);
}

static void bm_fc(qkb_state *st, void *user) {
  f_case *c = user;
  const qk_path path = c->v->path;
  prep p;
  if (!prepare(st, c->layer, path, true, &p)) return;
  const qk_fc_float_impl *impl = c->v->impl;
  const pack_ctx pc = {impl, p.F, weights(p.F, path)};
  qkb_rotation *r = rotation(st, c, impl->packed_size(p.F->fc.out_ch, p.F->fc.in_ch), pack_fc, &pc);
  if (!r) return;
  const size_t m = rows_of(p.L);
  const float *x = p.x;
  float *y = yout;
  QKB_TIME_ROTATED(st, r, impl->run(&p.F->fc, packed, m, x, y));
  finish(st, &p, path, r, y);
}

static void pack_fc_dyn(const void *ctx, void *dst) {
  const pack_ctx *p = ctx;
  ((const qk_fc_dynamic_impl *)p->impl)->pack(&p->F->dfc, p->w, p->F->bias, dst);
}

static void bm_fc_dyn(qkb_state *st, void *user) {
  f_case *c = user;
  prep p;
  if (!prepare(st, c->layer, QK_PATH_DYNAMIC, true, &p)) return;
  const qk_fc_dynamic_impl *impl = c->v->impl;
  const size_t m = rows_of(p.L);
  if (!workspace(st, c, impl->workspace_size(&p.F->dfc, m))) return;
  const pack_ctx pc = {impl, p.F, p.net->l[c->layer].w};
  qkb_rotation *r = rotation(st, c, impl->packed_size(p.F->dfc.out_ch, p.F->dfc.in_ch), pack_fc_dyn, &pc);
  if (!r) return;
  const float *x = p.x;
  float *y = yout;
  void *ws = c->ws;
  QKB_TIME_ROTATED(st, r, impl->run(&p.F->dfc, packed, m, x, y, ws));
  finish(st, &p, QK_PATH_DYNAMIC, r, y);
}

/* ---- Conv2D / DepthwiseConv2D: f32 / f16w, dynamic ---- */

static void pack_conv(const void *ctx, void *dst) {
  const pack_ctx *p = ctx;
  ((const qk_conv2d_float_impl *)p->impl)->pack(&p->F->conv, p->w, p->F->bias, dst);
}

static void bm_conv(qkb_state *st, void *user) {
  f_case *c = user;
  const qk_path path = c->v->path;
  prep p;
  if (!prepare(st, c->layer, path, false, &p)) return;
  const qk_conv2d_float_impl *impl = c->v->impl;
  if (!workspace(st, c, impl->workspace_size(&p.F->conv, &p.F->g))) return;
  const pack_ctx pc = {impl, p.F, weights(p.F, path)};
  qkb_rotation *r = rotation(st, c, impl->packed_size(&p.F->conv), pack_conv, &pc);
  if (!r) return;
  const float *x = p.x;
  float *y = yout;
  void *ws = c->ws;
  QKB_TIME_ROTATED(st, r, impl->run(&p.F->conv, &p.F->g, packed, x, y, ws));
  finish(st, &p, path, r, y);
}

static void pack_conv_dyn(const void *ctx, void *dst) {
  const pack_ctx *p = ctx;
  ((const qk_conv2d_dynamic_impl *)p->impl)->pack(&p->F->dconv, p->w, p->F->bias, dst);
}

static void bm_conv_dyn(qkb_state *st, void *user) {
  f_case *c = user;
  prep p;
  if (!prepare(st, c->layer, QK_PATH_DYNAMIC, false, &p)) return;
  const qk_conv2d_dynamic_impl *impl = c->v->impl;
  if (!workspace(st, c, impl->workspace_size(&p.F->dconv, &p.F->g))) return;
  const pack_ctx pc = {impl, p.F, p.net->l[c->layer].w};
  qkb_rotation *r = rotation(st, c, impl->packed_size(&p.F->dconv), pack_conv_dyn, &pc);
  if (!r) return;
  const float *x = p.x;
  float *y = yout;
  void *ws = c->ws;
  QKB_TIME_ROTATED(st, r, impl->run(&p.F->dconv, &p.F->g, packed, x, y, ws));
  finish(st, &p, QK_PATH_DYNAMIC, r, y);
}

/* ---- Add, AveragePool (f32) ---- */

static void bm_add(qkb_state *st, void *user) {
  const f_case *c = user;
  prep p;
  if (!prepare(st, c->layer, QK_PATH_F32, false, &p)) return;
  const qk_add_f32_impl *impl = c->v->impl;
  const size_t shape[4] = {1, p.L->in_h, p.L->in_w, p.L->in_c};
  const float *x1 = p.x, *x2 = p.x2;
  float *y = yout;
  while (qkb_keep_running(st)) impl->run(&p.F->add, shape, x1, shape, x2, y);
  finish(st, &p, QK_PATH_F32, NULL, y);
}

static void bm_pool(qkb_state *st, void *user) {
  const f_case *c = user;
  prep p;
  if (!prepare(st, c->layer, QK_PATH_F32, false, &p)) return;
  const qk_pool_f32_impl *impl = c->v->impl;
  const float *x = p.x;
  float *y = yout;
  while (qkb_keep_running(st)) impl->run(&p.F->pool, &p.F->g, x, y);
  finish(st, &p, QK_PATH_F32, NULL, y);
}

/* ---- XNNPACK peers ---- */

#if QKB_HAVE_XNNPACK
static void release_ops(qkb_rotation *r) {
  for (size_t i = 0; i < r->count; i++) qkb_peer_destroy(r->items[i]);
}
#endif

static void bm_peer(qkb_state *st, void *user) {
#if QKB_HAVE_XNNPACK
  fpeer_case *c = user;
  prep p;
  if (!prepare(st, c->layer, c->f16 ? QK_PATH_F16W : QK_PATH_F32, c->as_fc, &p)) return;
  char err[512];
  const void *x = p.x, *x2 = p.x2;
  if (c->f16) {
    x = qkb_netf_tensor16(p.net, p.L->in, err, sizeof err);
    x2 = x && p.L->kind == QKB_L_ADD ? qkb_netf_tensor16(p.net, p.L->in2, err, sizeof err) : x;
    if (!x || !x2) {
      qkb_skip_with_error(st, err);
      return;
    }
  }
  qkb_rotation *r = qkb_rotation_current(c);
  if (!r) {
    r = qkb_rotation_begin(c, c->count, err, sizeof err);
    bool ok = r != NULL;
    if (ok) r->release = release_ops;
    for (size_t i = 0; ok && i < c->count; i++)
      ok = (r->items[i] = c->as_fc ? qkb_xnnf_fc_create(p.net, c->layer, c->f16, x, yout, err, sizeof err)
                                   : qkb_xnnf_layer_create(p.net, c->layer, c->f16, x, x2, yout, err, sizeof err)) !=
           NULL;
    if (!ok) {
      qkb_rotation_abort();
      qkb_skip_with_error(st, err);
      return;
    }
    r->bytes = c->count * c->copy_bytes;
  }
  const size_t cnt = r->count;
  void *const *items = r->items;
  size_t i = r->next;
  while (qkb_keep_running(st)) {
    if (!qkb_peer_run(items[i], err, sizeof err)) {
      qkb_skip_with_error(st, err);
      break;
    }
    if (++i == cnt) i = 0;
  }
  r->next = i;
  if (qkb_error_occurred(st)) return;
  const double asize = c->f16 ? 2.0 : 4.0;
  qkb_rate_counters(st, layer_ops(p.L), layer_bytes(p.L, asize, asize));
  double worst;
  bool within;
  if (c->f16) {
    const uint16_t *h = (const uint16_t *)yout;
    for (size_t k = 0; k < p.e->n; k++) ywide[k] = qk_f16_to_f32(h[k]);
    /* x and the bias rounded to binary16 are two more roundings; binary16 underflow adds an
     * absolute error below 2^-25 per rounding that the relative model misses (4x margin). */
    within = qkb_fexpect_within(p.e, ywide, U16, 2, (double)(p.e->terms + 2) * 0x1p-23, &worst);
  } else {
    within = qkb_fexpect_within(p.e, yout, U32, 0, 0.0, &worst);
  }
  qkb_counter(st, "within_bound", within, QKB_COUNTER_DEFAULT);
  qkb_counter(st, "err_ratio", worst, QKB_COUNTER_DEFAULT);
  char label[64];
  qkb_cold_label(r->count, r->bytes, label, sizeof label);
  qkb_set_label(st, label);
#else
  (void)user;
  qkb_skip_with_error(st, "skipped: not built (XNNPACK not found at configure time)");
#endif
}

/* ---- registration ---- */

/* <op>_<path>/<variant>/label for every variant of (op, path); skipped rows for those that cannot
 * run here. */
static bool variant_rows(const qkb_reg *r, qk_op op, qk_path path, int layer, qkb_fn fn, size_t count) {
  const qkb_layer *L = &r->model->v[layer];
  char name[256], why[512];
  for (size_t vi = 0; vi < qk_variant_count(); vi++) {
    const qk_variant *v = qk_variant_at(vi);
    if (v->op != op || v->path != path) continue;
    snprintf(name, sizeof name, "%s_%s/%s/%s", qk_op_name(op), qk_path_name(path), v->name, L->label);
    if (qkb_variant_skip(v, why, sizeof why)) {
      if (!qkb_register_skip(name, why)) return false;
      continue;
    }
    f_case *c = qkb_case_alloc(sizeof *c);
    if (!c) return false;
    *c = (f_case){.v = v, .layer = layer, .count = count};
    if (!qkb_register_row(r, name, fn, c, r->layer_min_time)) return false;
  }
  return true;
}

static bool peer_row(const qkb_reg *r, const char *family, int layer, bool f16, bool as_fc, size_t count,
                     size_t per_copy, const char *f16_off) {
  if (!r->want_xnn) return true;
  const qkb_layer *L = &r->model->v[layer];
  char name[256];
  snprintf(name, sizeof name, "%s/%s/%s", family, qkb_xnnf_peer_name(as_fc ? QKB_L_FC : L->kind, f16), L->label);
  if (r->peer_off[0]) return qkb_register_skip(name, r->peer_off);
  if (f16 && f16_off) return qkb_register_skip(name, f16_off);
  fpeer_case *c = qkb_case_alloc(sizeof *c);
  if (!c) return false;
  *c = (fpeer_case){.layer = layer, .f16 = f16, .as_fc = as_fc, .count = count, .copy_bytes = per_copy};
  return qkb_register_row(r, name, bm_peer, c, r->layer_min_time);
}

/* The FC or conv rows of one layer on the three paths, with the f32 and f16 peers. */
static bool gemm_rows(const qkb_reg *r, int li, bool as_fc, const char *f16_off) {
  const qkb_layer *L = &r->model->v[li];
  const qk_op op = as_fc ? QK_OP_FC : QK_OP_CONV2D;
  const size_t extra = as_fc ? 0 : qkb_xnn_layer_overhead(L); /* XNNPACK's indirection buffer */
  const size_t c32 = qkb_copies_bytes(copy_bytes(L, QK_PATH_F32) + extra);
  const size_t c16 = qkb_copies_bytes(copy_bytes(L, QK_PATH_F16W) + extra);
  const size_t cdyn = qkb_copies_bytes(copy_bytes(L, QK_PATH_DYNAMIC));
  const char *fam32 = as_fc ? "fc_f32" : "conv2d_f32", *fam16 = as_fc ? "fc_f16w" : "conv2d_f16w";
  return variant_rows(r, op, QK_PATH_F32, li, as_fc ? bm_fc : bm_conv, c32) &&
         peer_row(r, fam32, li, false, as_fc, c32, copy_bytes(L, QK_PATH_F32), f16_off) &&
         variant_rows(r, op, QK_PATH_F16W, li, as_fc ? bm_fc : bm_conv, c16) &&
         peer_row(r, fam16, li, true, as_fc, c16, copy_bytes(L, QK_PATH_F16W) - 2 * L->out_c, f16_off) &&
         variant_rows(r, op, QK_PATH_DYNAMIC, li, as_fc ? bm_fc_dyn : bm_conv_dyn, cdyn);
}

bool qkb_register_float(const qkb_reg *r, char *err, size_t errlen) {
  const qkb_model *m = r->model;
  if (!yout) {
    yout = qkb_case_aligned((m->max_tensor + SLACK) * sizeof *yout);
    ywide = qkb_case_aligned((m->max_tensor + SLACK) * sizeof *ywide);
    if (!yout || !ywide) goto oom;
  }
  const char *f16_off = NULL;
#if QKB_HAVE_XNNPACK
  char f16_buf[300];
  if (r->want_xnn && !r->peer_off[0]) f16_off = qkb_xnnf_f16_unsupported(f16_buf, sizeof f16_buf);
#endif
  for (size_t li = 0; li < m->n; li++) {
    const qkb_layer *L = &m->v[li];
    if (L->first != (int)li) continue;
    const int i = (int)li;
    bool ok = true;
    switch (L->kind) {
      case QKB_L_CONV:
        ok = gemm_rows(r, i, false, f16_off);
        break;
      case QKB_L_PW:
        ok = gemm_rows(r, i, true, f16_off) && gemm_rows(r, i, false, f16_off);
        break;
      case QKB_L_FC:
        ok = gemm_rows(r, i, true, f16_off);
        break;
      case QKB_L_DW: {
        const size_t extra = qkb_xnn_layer_overhead(L);
        const size_t c32 = qkb_copies_bytes(copy_bytes(L, QK_PATH_F32) + extra);
        const size_t c16 = qkb_copies_bytes(copy_bytes(L, QK_PATH_F16W) + extra);
        ok = variant_rows(r, QK_OP_DWCONV2D, QK_PATH_F32, i, bm_conv, c32) &&
             peer_row(r, "dwconv2d_f32", i, false, false, c32, copy_bytes(L, QK_PATH_F32), f16_off) &&
             variant_rows(r, QK_OP_DWCONV2D, QK_PATH_F16W, i, bm_conv, c16) &&
             peer_row(r, "dwconv2d_f16w", i, true, false, c16, copy_bytes(L, QK_PATH_F16W) - 2 * L->out_c, f16_off);
        break;
      }
      case QKB_L_ADD:
        ok = variant_rows(r, QK_OP_ADD, QK_PATH_F32, i, bm_add, 1) &&
             peer_row(r, "add_f32", i, false, false, 1, 0, f16_off) && peer_row(r, "add_f32", i, true, false, 1, 0, f16_off);
        break;
      case QKB_L_GAP:
        ok = variant_rows(r, QK_OP_AVGPOOL, QK_PATH_F32, i, bm_pool, 1) &&
             peer_row(r, "avgpool_f32", i, false, false, 1, 0, f16_off) &&
             peer_row(r, "avgpool_f32", i, true, false, 1, 0, f16_off);
        break;
      case QKB_L_COUNT:
        break;
    }
    if (!ok) goto oom;
  }
  return true;
oom:
  snprintf(err, errlen, "cannot register the float benchmarks");
  return false;
}

void qkb_float_shutdown(void) {
  yout = ywide = NULL; /* case allocations */
  qkb_netf_shutdown();
}
