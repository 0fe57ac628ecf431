/* chain_f32/xnnpack/total: chain_f32's network (bench/chain_paths.c: f32 weights = int8 weight *
 * scale, real biases, ReLU6 as [0, 6]) as XNNPACK f32 operators, one per layer: convolution for
 * the stem and the 1x1 convs, depthwise convolution (groups = channels, XNN_FLAG_DEPTHWISE_CONVOLUTION
 * on the 1HWO filter), add, global average pooling and fully connected; created and set up once on
 * preallocated activation buffers, run back to back with xnn_run_operator on the calling thread
 * (NULL threadpool). The row reports how far its logits are from the qk_ref_* f32 chain's
 * (logits_max_diff, absolute; top1_agrees). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qkb_build.h"
#include "qkb_model.h"

#define NAME "chain_f32/xnnpack/total"

#if QKB_HAVE_XNNPACK
#include <xnnpack.h>

typedef struct xf_chain {
  bool tried, ok;
  char err[600];
  xnn_operator_t *ops;
  size_t nops;
  float **buf;
  int *slot_of;
  double ops_count, bytes, max_diff, top1;
  bool compared;
} xf_chain;

static xf_chain *chain;

static float *slot(const xf_chain *ch, int tensor) { return ch->buf[ch->slot_of[tensor + 1]]; }

static bool xfail(xf_chain *ch, const char *layer, const char *what, enum xnn_status st) {
  snprintf(ch->err, sizeof ch->err, "%s: %s: %s", layer, what, qkb_xnn_status_name(st));
  return false;
}

static bool build(xf_chain *ch, const qkb_net *net) {
  const qkb_model *m = net->m;
  if (!qkb_peers_init(ch->err, sizeof ch->err)) return false;
  ch->nops = m->n;
  ch->ops = calloc(m->n, sizeof *ch->ops);
  ch->slot_of = calloc(m->n + 1, sizeof *ch->slot_of);
  if (!ch->ops || !ch->slot_of) return snprintf(ch->err, sizeof ch->err, "out of memory"), false;
  const size_t nslots = qkb_model_slots(m, ch->slot_of);
  ch->buf = qkb_case_alloc(nslots * sizeof *ch->buf);
  if (!ch->buf) return snprintf(ch->err, sizeof ch->err, "out of memory"), false;
  for (size_t k = 0; k < nslots; k++) /* XNNPACK may read XNN_EXTRA_BYTES past an input */
    if (!(ch->buf[k] = qkb_case_aligned((m->max_tensor + 64) * sizeof(float))))
      return snprintf(ch->err, sizeof ch->err, "out of memory"), false;
  memcpy(slot(ch, -1), net->image, m->in_h * m->in_w * m->in_c * sizeof(float));
  for (size_t i = 0; i < m->n; i++) {
    const qkb_layer *L = &m->v[i];
    const float lo = L->relu6 ? 0.0f : -INFINITY, hi = L->relu6 ? 6.0f : INFINITY;
    const float *x = slot(ch, L->in);
    float *y = slot(ch, (int)i);
    const float *w = NULL, *bias = NULL;
    if (L->kind != QKB_L_ADD && L->kind != QKB_L_GAP &&
        !(w = qkb_f32_net_weights(net, (int)i, &bias, ch->err, sizeof ch->err)))
      return false;
    xnn_operator_t op = NULL;
    enum xnn_status st;
    switch (L->kind) {
      case QKB_L_CONV:
      case QKB_L_PW:
      case QKB_L_DW: {
        /* TFLite SAME padding: the extra row / column goes at the bottom / right. */
        const size_t k = L->kernel, s = L->stride;
        const size_t need_h = (L->out_h - 1) * s + k, need_w = (L->out_w - 1) * s + k;
        const size_t pad_h = need_h > L->in_h ? need_h - L->in_h : 0, pad_w = need_w > L->in_w ? need_w - L->in_w : 0;
        const bool dw = L->kind == QKB_L_DW;
        st = xnn_create_convolution2d_nhwc_f32((uint32_t)(pad_h / 2), (uint32_t)(pad_w - pad_w / 2),
                                               (uint32_t)(pad_h - pad_h / 2), (uint32_t)(pad_w / 2), (uint32_t)k,
                                               (uint32_t)k, (uint32_t)s, (uint32_t)s, 1, 1,
                                               dw ? (uint32_t)L->in_c : 1, dw ? 1 : L->in_c, dw ? 1 : L->out_c,
                                               L->in_c, L->out_c, w, bias, lo, hi,
                                               dw ? XNN_FLAG_DEPTHWISE_CONVOLUTION : 0, &op);
        if (st != xnn_status_success) return xfail(ch, L->name, "xnn_create_convolution2d_nhwc_f32", st);
        ch->ops[i] = op;
        st = xnn_setup_convolution2d_nhwc_f32(op, 1, L->in_h, L->in_w, x, y, NULL);
        if (st != xnn_status_success) return xfail(ch, L->name, "xnn_setup_convolution2d_nhwc_f32", st);
        break;
      }
      case QKB_L_ADD: {
        st = xnn_create_add_nd_f32(-INFINITY, INFINITY, 0, &op);
        if (st != xnn_status_success) return xfail(ch, L->name, "xnn_create_add_nd_f32", st);
        ch->ops[i] = op;
        const size_t shape[4] = {1, L->in_h, L->in_w, L->in_c};
        st = xnn_setup_add_nd_f32(op, 4, shape, 4, shape, x, slot(ch, L->in2), y, NULL);
        if (st != xnn_status_success) return xfail(ch, L->name, "xnn_setup_add_nd_f32", st);
        break;
      }
      case QKB_L_GAP:
        st = xnn_create_global_average_pooling_nwc_f32(L->in_c, L->in_c, L->in_c, -INFINITY, INFINITY, 0, &op);
        if (st != xnn_status_success) return xfail(ch, L->name, "xnn_create_global_average_pooling_nwc_f32", st);
        ch->ops[i] = op;
        st = xnn_setup_global_average_pooling_nwc_f32(op, 1, L->in_h * L->in_w, x, y, NULL);
        if (st != xnn_status_success) return xfail(ch, L->name, "xnn_setup_global_average_pooling_nwc_f32", st);
        break;
      case QKB_L_FC:
        st = xnn_create_fully_connected_nc_f32(L->in_c, L->out_c, L->in_c, L->out_c, w, bias, -INFINITY, INFINITY, 0,
                                               &op);
        if (st != xnn_status_success) return xfail(ch, L->name, "xnn_create_fully_connected_nc_f32", st);
        ch->ops[i] = op;
        st = xnn_setup_fully_connected_nc_f32(op, 1, x, y, NULL);
        if (st != xnn_status_success) return xfail(ch, L->name, "xnn_setup_fully_connected_nc_f32", st);
        break;
      case QKB_L_COUNT:
        break;
    }
    ch->ops_count += 2.0 * (double)L->macs;
    /* f32 weights + inputs + output */
    const double in = (double)(L->in_h * L->in_w * L->in_c), out = (double)(L->out_h * L->out_w * L->out_c);
    const double taps = (double)(L->kernel * L->kernel);
    double wn = 0;
    if (L->kind == QKB_L_CONV || L->kind == QKB_L_PW) wn = taps * (double)(L->in_c * L->out_c);
    if (L->kind == QKB_L_DW) wn = taps * (double)L->out_c;
    if (L->kind == QKB_L_FC) wn = (double)(L->in_c * L->out_c);
    ch->bytes += 4.0 * (wn + in * (L->kind == QKB_L_ADD ? 2 : 1) + out);
  }
  for (size_t i = 0; i < m->n; i++) {
    const enum xnn_status st = xnn_run_operator(ch->ops[i], NULL);
    if (st != xnn_status_success) return xfail(ch, m->v[i].name, "xnn_run_operator", st);
  }
  const float *ref = qkb_f32_net_logits(net);
  if (ref) {
    const size_t O = m->v[m->n - 1].out_c;
    const float *y = slot(ch, (int)m->n - 1);
    size_t top_r = 0, top_y = 0;
    for (size_t o = 0; o < O; o++) {
      const double d = fabs((double)y[o] - (double)ref[o]);
      ch->max_diff = d > ch->max_diff || d != d ? d : ch->max_diff;
      if (ref[o] > ref[top_r]) top_r = o;
      if (y[o] > y[top_y]) top_y = o;
    }
    ch->top1 = top_r == top_y;
    ch->compared = true;
  }
  return true;
}

static void bm_total(qkb_state *st, void *user) {
  xf_chain *ch = user;
  char err[512];
  const qkb_net *net = qkb_net_get(err, sizeof err);
  if (!net) {
    qkb_skip_with_error(st, err);
    return;
  }
  if (!ch->tried) {
    ch->tried = true;
    ch->ok = build(ch, net);
  }
  if (!ch->ok) {
    qkb_skip_with_error(st, ch->err);
    return;
  }
  xnn_operator_t *const ops = ch->ops;
  const size_t n = ch->nops;
  unsigned bad = 0;
  while (qkb_keep_running(st))
    for (size_t i = 0; i < n; i++) bad |= (unsigned)xnn_run_operator(ops[i], NULL);
  if (bad) {
    qkb_skip_with_error(st, "xnn_run_operator failed during timing");
    return;
  }
  qkb_rate_counters(st, ch->ops_count, ch->bytes);
  qkb_counter(st, "layers", (double)n, QKB_COUNTER_DEFAULT);
  char label[256];
  if (ch->compared) {
    qkb_counter(st, "logits_max_diff", ch->max_diff, QKB_COUNTER_DEFAULT);
    qkb_counter(st, "top1_agrees", ch->top1, QKB_COUNTER_DEFAULT);
    snprintf(label, sizeof label, "logits max|d| %.3g vs qk_ref; XNNPACK %s f32", ch->max_diff, QKB_XNNPACK_VERSION);
  } else {
    snprintf(label, sizeof label, "not compared (no chain_f32/scalar); XNNPACK %s f32", QKB_XNNPACK_VERSION);
  }
  qkb_set_label(st, label);
}
#endif

bool qkb_register_xnnpack_chain_f32(const qkb_reg *r, char *err, size_t errlen) {
  if (!r->want_xnn) return true;
  if (r->peer_off[0]) return qkb_register_skip(NAME, r->peer_off);
#if QKB_HAVE_XNNPACK
  chain = calloc(1, sizeof *chain);
  if (!chain || !qkb_register_row(r, NAME, bm_total, chain, 0)) {
    snprintf(err, errlen, "cannot register the XNNPACK f32 chain benchmark");
    return false;
  }
  return true;
#else
  (void)err, (void)errlen;
  return qkb_register_skip(NAME, "skipped: not built (XNNPACK not found at configure time)");
#endif
}

void qkb_xnnpack_chain_f32_shutdown(void) {
#if QKB_HAVE_XNNPACK
  if (!chain) return;
  for (size_t i = 0; chain->ops && i < chain->nops; i++)
    if (chain->ops[i]) xnn_delete_operator(chain->ops[i]);
  free(chain->ops);
  free(chain->slot_of);
  free(chain);
  chain = NULL;
#endif
}
