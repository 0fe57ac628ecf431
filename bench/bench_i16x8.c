/* Per-op rows of the 16x8 path on the network's real layers (bench/net_i16x8.c), every registered
 * I16X8 variant of each op, each distinct layer shape once (the JSON context counts its layers):
 *   fc_i16x8/<variant>/<label>        FC on each 1x1 conv as a GEMM (M = H*W, K = in_c, N = out_c)
 *                                     and on the classifier (1280 -> 1000, batch 1)
 *   conv2d_i16x8/<variant>/<label>    CONV2D on the stem and the 1x1 convs
 *   dwconv2d_i16x8/<variant>/<label>  DWCONV2D on the depthwise layers
 *   add_i16x8/<variant>/<label>       ADD (general scales, left_shift 15) on the residual adds
 *   addpot_i16x8/<variant>/<label>    ADD_POT (TFLite's power-of-two-scale int16 Add) on the same
 *                                     tensors, each scale taken as its nearest power of two
 *   quantize_i16x8/..., dequantize_i16x8/...  the network input and the logits
 * Packed weights rotate over cold copies like the int8 rows (one count per shape for every
 * variant); after timing each row compares its output with the 16x8 reference ("exact"). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "qkb_paths.h"

#define SLACK 64

typedef struct i16_case {
  const qk_variant *v;
  int layer;
  size_t count;
  void *ws;
  bool ws_done;
  /* addpot: parameters and reference output, made on first use */
  bool pot_tried;
  qk_add_i16_pot_params pot;
  int16_t *pot_ref;
  char pot_err[256];
} i16_case;

static int16_t *yout; /* output arena: int16 outputs and the float logits */

static const qkb_net16 *net16_or_skip(qkb_state *st, const qkb_net **net) {
  char err[700];
  const qkb_net16 *n = qkb_net16_get(err, sizeof err);
  *net = n ? qkb_net_get(err, sizeof err) : NULL;
  if (!n || !*net) {
    qkb_skip_with_error(st, err);
    return NULL;
  }
  return n;
}

static size_t weight_bytes(const qkb_layer *L) {
  if (L->kind == QKB_L_FC) return L->in_c * L->out_c;
  const size_t taps = L->kernel * L->kernel;
  return L->kind == QKB_L_DW ? taps * L->out_c : taps * L->in_c * L->out_c;
}

/* int8 weights, int16 input and output */
static double layer_bytes(const qkb_layer *L) {
  return (double)weight_bytes(L) + 2.0 * (double)(L->in_h * L->in_w * L->in_c + L->out_h * L->out_w * L->out_c);
}

static void finish(qkb_state *st, const qkb_layer *L, const qkb_rotation *r, bool exact) {
  qkb_rate_counters(st, 2.0 * (double)L->macs, layer_bytes(L));
  qkb_counter(st, "exact", exact, QKB_COUNTER_DEFAULT);
  char label[64];
  qkb_cold_label(r->count, r->bytes, label, sizeof label);
  qkb_set_label(st, label);
}

/* ---- FC ---- */

typedef struct fc_pack {
  const qk_fc_i16x8_impl *impl;
  const qkb_net16_layer *S;
  const int8_t *w;
} fc_pack;

static void pack_fc(const void *ctx, void *dst) {
  const fc_pack *p = ctx;
  p->impl->pack(&p->S->fc, p->w, p->S->bias, dst);
}

static void bm_fc(qkb_state *st, void *user) {
  i16_case *c = user;
  const qkb_net *net;
  const qkb_net16 *n = net16_or_skip(st, &net);
  if (!n) return;
  const qkb_layer *L = &net->m->v[c->layer];
  const qkb_net16_layer *S = &n->l[c->layer];
  const qk_fc_i16x8_impl *impl = c->v->impl;
  char err[512];
  qkb_rotation *r = qkb_rotation_current(c);
  if (!r) {
    const fc_pack p = {impl, S, net->l[c->layer].w};
    r = qkb_rotation_begin(c, c->count, err, sizeof err);
    if (!r || !qkb_pack_rotation(r, impl->packed_size(S->fc.out_ch, S->fc.in_ch), pack_fc, &p, err, sizeof err)) {
      qkb_rotation_abort();
      qkb_skip_with_error(st, err);
      return;
    }
  }
  const size_t m = L->kind == QKB_L_FC ? L->in_h : L->out_h * L->out_w;
  const int16_t *x = qkb_net16_tensor(n, L->in);
  int16_t *y = yout;
  QKB_TIME_ROTATED(st, r, impl->run(&S->fc, packed, m, x, y));
  finish(st, L, r, memcmp(y, S->out, S->out_n * sizeof *y) == 0);
}

/* ---- Conv2D / DepthwiseConv2D ---- */

typedef struct conv_pack {
  const qk_conv2d_i16x8_impl *impl;
  const qkb_net16_layer *S;
  const int8_t *w;
} conv_pack;

static void pack_conv(const void *ctx, void *dst) {
  const conv_pack *p = ctx;
  p->impl->pack(&p->S->conv, p->w, p->S->bias, dst);
}

static void bm_conv(qkb_state *st, void *user) {
  i16_case *c = user;
  const qkb_net *net;
  const qkb_net16 *n = net16_or_skip(st, &net);
  if (!n) return;
  const qkb_layer *L = &net->m->v[c->layer];
  const qkb_net16_layer *S = &n->l[c->layer];
  const qk_conv2d_i16x8_impl *impl = c->v->impl;
  qk_conv2d_geom g;
  if ((L->kind == QKB_L_DW ? qk_dwconv2d_i16x8_check : qk_conv2d_i16x8_check)(&S->conv, &g, S->bias) != QK_OK) {
    qkb_skip_with_error(st, qk_last_error());
    return;
  }
  if (!c->ws_done) {
    const size_t wsize = impl->workspace_size(&S->conv, &g);
    c->ws = wsize ? qkb_case_aligned((wsize + 63) / 64 * 64) : NULL;
    if (wsize && !c->ws) {
      qkb_skip_with_error(st, "out of memory for the workspace");
      return;
    }
    c->ws_done = true;
  }
  char err[512];
  qkb_rotation *r = qkb_rotation_current(c);
  if (!r) {
    const conv_pack p = {impl, S, net->l[c->layer].w};
    r = qkb_rotation_begin(c, c->count, err, sizeof err);
    if (!r || !qkb_pack_rotation(r, impl->packed_size(&S->conv), pack_conv, &p, err, sizeof err)) {
      qkb_rotation_abort();
      qkb_skip_with_error(st, err);
      return;
    }
  }
  const int16_t *x = qkb_net16_tensor(n, L->in);
  int16_t *y = yout;
  void *ws = c->ws;
  QKB_TIME_ROTATED(st, r, impl->run(&S->conv, &g, packed, x, y, ws));
  finish(st, L, r, memcmp(y, S->out, S->out_n * sizeof *y) == 0);
}

/* ---- Add (general scales) and the power-of-two-scale Add ---- */

static void add_counters(qkb_state *st, double n, bool exact) {
  qkb_rate_counters(st, n, 6.0 * n);
  qkb_counter(st, "exact", exact, QKB_COUNTER_DEFAULT);
  qkb_set_label(st, "hot");
}

static void bm_add(qkb_state *st, void *user) {
  const i16_case *c = user;
  const qkb_net *net;
  const qkb_net16 *n = net16_or_skip(st, &net);
  if (!n) return;
  const qkb_layer *L = &net->m->v[c->layer];
  const qkb_net16_layer *S = &n->l[c->layer];
  const qk_add_i16_impl *impl = c->v->impl;
  const size_t shape[4] = {1, L->in_h, L->in_w, L->in_c};
  const int16_t *x1 = qkb_net16_tensor(n, L->in), *x2 = qkb_net16_tensor(n, L->in2);
  int16_t *y = yout;
  while (qkb_keep_running(st)) impl->run(&S->add, shape, x1, shape, x2, y);
  add_counters(st, (double)S->out_n, memcmp(y, S->out, S->out_n * sizeof *y) == 0);
}

/* The nearest power of two: the residual add's tensors read as Q-format fixed point. */
static float pow2_near(float s) { return ldexpf(1.0f, (int)lrint(log2((double)s))); }

static bool pot_setup(i16_case *c, const qkb_net *net, const qkb_net16 *n) {
  const qkb_layer *L = &net->m->v[c->layer];
  const float s1 = pow2_near(L->in < 0 ? n->s_image : n->l[L->in].s_out),
              s2 = pow2_near(L->in2 < 0 ? n->s_image : n->l[L->in2].s_out);
  if (qk_add_i16_pot_derive(s1, 0, s2, 0, s1 > s2 ? s1 : s2, 0, QK_ACT_NONE, &c->pot) != QK_OK) {
    snprintf(c->pot_err, sizeof c->pot_err, "%s: %s", L->name, qk_last_error());
    return false;
  }
  const size_t cnt = n->l[c->layer].out_n;
  if (!(c->pot_ref = qkb_case_aligned((cnt + SLACK) * sizeof *c->pot_ref))) {
    snprintf(c->pot_err, sizeof c->pot_err, "out of memory");
    return false;
  }
  qk_ref_add_i16_pot(&c->pot, cnt, qkb_net16_tensor(n, L->in), qkb_net16_tensor(n, L->in2), c->pot_ref);
  return true;
}

static void bm_addpot(qkb_state *st, void *user) {
  i16_case *c = user;
  const qkb_net *net;
  const qkb_net16 *n = net16_or_skip(st, &net);
  if (!n) return;
  if (!c->pot_tried) {
    c->pot_tried = true;
    if (!pot_setup(c, net, n)) c->pot_ref = NULL;
  }
  if (!c->pot_ref) {
    qkb_skip_with_error(st, c->pot_err);
    return;
  }
  const qkb_layer *L = &net->m->v[c->layer];
  const qk_add_i16_pot_impl *impl = c->v->impl;
  const size_t cnt = n->l[c->layer].out_n;
  const int16_t *x1 = qkb_net16_tensor(n, L->in), *x2 = qkb_net16_tensor(n, L->in2);
  int16_t *y = yout;
  while (qkb_keep_running(st)) impl->run(&c->pot, cnt, x1, x2, y);
  add_counters(st, (double)cnt, memcmp(y, c->pot_ref, cnt * sizeof *y) == 0);
}

/* ---- quantize (network input) / dequantize (logits) ---- */

static void bm_quantize(qkb_state *st, void *user) {
  const i16_case *c = user;
  const qkb_net *net;
  const qkb_net16 *n = net16_or_skip(st, &net);
  if (!n) return;
  const qk_quantize_impl *impl = c->v->impl;
  const size_t cnt = net->m->in_h * net->m->in_w * net->m->in_c;
  int16_t *y = yout;
  while (qkb_keep_running(st)) impl->run(net->image, cnt, n->s_image, 0, QK_Q_INT16, y);
  qkb_rate_counters(st, (double)cnt, 6.0 * (double)cnt);
  qkb_counter(st, "exact", memcmp(y, n->image, cnt * sizeof *y) == 0, QKB_COUNTER_DEFAULT);
  qkb_set_label(st, "hot");
}

static void bm_dequantize(qkb_state *st, void *user) {
  const i16_case *c = user;
  const qkb_net *net;
  const qkb_net16 *n = net16_or_skip(st, &net);
  if (!n) return;
  const qk_dequantize_impl *impl = c->v->impl;
  const qkb_net16_layer *F = &n->l[net->m->n - 1];
  float *y = (float *)yout;
  while (qkb_keep_running(st)) impl->run(F->out, F->out_n, QK_Q_INT16, F->s_out, 0, y);
  qkb_rate_counters(st, (double)F->out_n, 6.0 * (double)F->out_n);
  qkb_counter(st, "exact", memcmp(y, n->logits, F->out_n * sizeof *y) == 0, QKB_COUNTER_DEFAULT);
  qkb_set_label(st, "hot");
}

/* ---- registration ---- */

/* family/<variant>/label for every I16X8 variant of op; skipped rows for those that cannot run. */
static bool add_rows(const qkb_reg *r, qk_op op, const char *family, const char *label, qkb_fn fn, int layer,
                     size_t count) {
  char name[256], why[512];
  for (size_t vi = 0; vi < qk_variant_count(); vi++) {
    const qk_variant *v = qk_variant_at(vi);
    if (v->op != op || v->path != QK_PATH_I16X8) continue;
    snprintf(name, sizeof name, "%s/%s/%s", family, v->name, label);
    if (qkb_variant_skip(v, why, sizeof why)) {
      if (!qkb_register_skip(name, why)) return false;
      continue;
    }
    i16_case *c = qkb_case_alloc(sizeof *c);
    if (!c) return false;
    *c = (i16_case){.v = v, .layer = layer, .count = count};
    if (!qkb_register_row(r, name, fn, c, r->layer_min_time)) return false;
  }
  return true;
}

bool qkb_register_i16x8(const qkb_reg *r, char *err, size_t errlen) {
  const qkb_model *m = r->model;
  const size_t in_n = m->in_h * m->in_w * m->in_c;
  const size_t elems = m->max_tensor > in_n ? m->max_tensor : in_n;
  if (!yout && !(yout = qkb_case_aligned(elems * sizeof(float) + SLACK))) goto oom;
  for (size_t li = 0; li < m->n; li++) {
    const qkb_layer *L = &m->v[li];
    if (L->first != (int)li) continue;
    /* Rotation: int8 weights, then int64 bias and 8 bytes of requantization per channel. */
    const size_t count = qkb_copies_bytes(weight_bytes(L) + 16 * L->out_c);
    bool ok = true;
    switch (L->kind) {
      case QKB_L_CONV:
        ok = add_rows(r, QK_OP_CONV2D, "conv2d_i16x8", L->label, bm_conv, (int)li, count);
        break;
      case QKB_L_PW:
        ok = add_rows(r, QK_OP_FC, "fc_i16x8", L->label, bm_fc, (int)li, count) &&
             add_rows(r, QK_OP_CONV2D, "conv2d_i16x8", L->label, bm_conv, (int)li, count);
        break;
      case QKB_L_DW:
        ok = add_rows(r, QK_OP_DWCONV2D, "dwconv2d_i16x8", L->label, bm_conv, (int)li, count);
        break;
      case QKB_L_ADD:
        ok = add_rows(r, QK_OP_ADD, "add_i16x8", L->label, bm_add, (int)li, 1) &&
             add_rows(r, QK_OP_ADD_POT, "addpot_i16x8", L->label, bm_addpot, (int)li, 1);
        break;
      case QKB_L_FC:
        ok = add_rows(r, QK_OP_FC, "fc_i16x8", L->label, bm_fc, (int)li, count);
        break;
      case QKB_L_GAP: /* no 16x8 pooling op */
      case QKB_L_COUNT:
        break;
    }
    if (!ok) goto oom;
  }
  if (!add_rows(r, QK_OP_QUANTIZE, "quantize_i16x8", m->input_label, bm_quantize, -1, 1) ||
      !add_rows(r, QK_OP_DEQUANTIZE, "dequantize_i16x8", m->logits_label, bm_dequantize, -1, 1))
    goto oom;
  return true;
oom:
  snprintf(err, errlen, "cannot register the 16x8 benchmarks");
  return false;
}

void qkb_i16x8_shutdown(void) {
  yout = NULL; /* a case allocation */
  qkb_net16_shutdown();
}
