/* chain_int8/xnnpack/total: the same network as XNNPACK operators, one per layer (qc8 convolution
 * for the stem and the 1x1 convs, qc8 depthwise convolution, qs8 add, qs8 global average pooling,
 * qs8 fully connected), created and set up once on the chain's activation buffers and run back to
 * back with xnn_run_operator on the calling thread. XNNPACK requantizes in float, so its
 * activations are close to but not bit-equal with TFLite's: the row reports how far its logits are
 * from the reference network's (logits_max_diff, in int8 steps; top1_agrees).
 * chain_int8/xnnpack/layerNN_<kind>: one operator alone, its inputs holding the reference values. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qkb_build.h"
#include "qkb_model.h"

typedef struct xnn_chain {
  bool tried, ok;
  char err[600];
  void **ops;
  size_t nops;
  qkb_slots slots;
  double ops_count, bytes, max_diff, top1;
} xnn_chain;

typedef struct xchain_case {
  xnn_chain *ch;
  int layer;
} xchain_case;

static xnn_chain *chain;

#if QKB_HAVE_XNNPACK
static bool build(xnn_chain *ch, const qkb_net *net) {
  const qkb_model *m = net->m;
  ch->ops = calloc(m->n, sizeof *ch->ops);
  ch->nops = m->n;
  if (!ch->ops || !qkb_slots_init(&ch->slots, net)) {
    snprintf(ch->err, sizeof ch->err, "out of memory for the XNNPACK chain");
    return false;
  }
  char err[512];
  for (size_t i = 0; i < m->n; i++) {
    const qkb_layer *L = &m->v[i];
    const int8_t *x2 = L->kind == QKB_L_ADD ? qkb_slot(&ch->slots, L->in2) : NULL;
    ch->ops[i] = qkb_xnn_layer_create(net, (int)i, qkb_slot(&ch->slots, L->in), x2, qkb_slot(&ch->slots, (int)i), err,
                                      sizeof err);
    if (!ch->ops[i]) {
      snprintf(ch->err, sizeof ch->err, "%s: %s", L->name, err);
      return false;
    }
    ch->ops_count += 2.0 * (double)L->macs;
    ch->bytes += qkb_layer_bytes(L);
  }
  for (size_t i = 0; i < m->n; i++)
    if (!qkb_peer_run(ch->ops[i], err, sizeof err)) {
      snprintf(ch->err, sizeof ch->err, "%s: %s", m->v[i].name, err);
      return false;
    }
  /* How close XNNPACK's logits are to the reference network's. */
  const qkb_net_layer *F = &net->l[m->n - 1];
  const int8_t *y = qkb_slot(&ch->slots, (int)m->n - 1);
  size_t best_x = 0, best_r = 0;
  for (size_t t = 0; t < F->out_bytes; t++) {
    const double d = abs(y[t] - F->out[t]);
    if (d > ch->max_diff) ch->max_diff = d;
    if (y[t] > y[best_x]) best_x = t;
    if (F->out[t] > F->out[best_r]) best_r = t;
  }
  ch->top1 = best_x == best_r;
  return true;
}

static bool enter(qkb_state *st, xnn_chain *ch, const qkb_net **netp) {
  char err[512];
  const qkb_net *net = qkb_net_get(err, sizeof err);
  if (!net) {
    qkb_skip_with_error(st, err);
    return false;
  }
  if (!ch->tried) {
    ch->tried = true;
    ch->ok = build(ch, net);
  }
  if (!ch->ok) {
    qkb_skip_with_error(st, ch->err);
    return false;
  }
  *netp = net;
  return true;
}

static void bm_total(qkb_state *st, void *user) {
  xnn_chain *ch = ((const xchain_case *)user)->ch;
  const qkb_net *net;
  if (!enter(st, ch, &net)) return;
  char err[512];
  void *const *ops = ch->ops;
  const size_t n = ch->nops;
  bool ok = true;
  while (ok && qkb_keep_running(st))
    for (size_t i = 0; i < n; i++) ok &= qkb_peer_run(ops[i], err, sizeof err);
  if (!ok) {
    qkb_skip_with_error(st, err);
    return;
  }
  qkb_rate_counters(st, ch->ops_count, ch->bytes);
  qkb_counter(st, "layers", (double)n, QKB_COUNTER_DEFAULT);
  qkb_counter(st, "logits_max_diff", ch->max_diff, QKB_COUNTER_DEFAULT);
  qkb_counter(st, "top1_agrees", ch->top1, QKB_COUNTER_DEFAULT);
  qkb_set_label(st, "XNNPACK " QKB_XNNPACK_VERSION);
}

static void bm_layer(qkb_state *st, void *user) {
  const xchain_case *c = user;
  xnn_chain *ch = c->ch;
  const qkb_net *net;
  if (!enter(st, ch, &net)) return;
  qkb_slots_stage(&ch->slots, net, c->layer);
  char err[512];
  void *op = ch->ops[c->layer];
  bool ok = true;
  while (ok && qkb_keep_running(st)) ok = qkb_peer_run(op, err, sizeof err);
  if (!ok) {
    qkb_skip_with_error(st, err);
    return;
  }
  const qkb_layer *L = &net->m->v[c->layer];
  qkb_rate_counters(st, qkb_layer_ops(L), qkb_layer_bytes(L));
  qkb_set_label(st, qkb_xnn_peer_name(L->kind));
}
#endif

bool qkb_register_xnnpack_chain(const qkb_reg *r, char *err, size_t errlen) {
  if (!r->want_xnn) return true;
  if (r->peer_off[0]) return qkb_register_skip("chain_int8/xnnpack/total", r->peer_off);
#if QKB_HAVE_XNNPACK
  const qkb_model *m = r->model;
  chain = calloc(1, sizeof *chain);
  xchain_case *t = qkb_case_alloc(sizeof *t);
  if (!chain || !t) goto oom;
  *t = (xchain_case){.ch = chain, .layer = -1};
  if (!qkb_register_row(r, "chain_int8/xnnpack/total", bm_total, t, 0)) goto oom;
  for (size_t i = 0; r->chain_layers && i < m->n; i++) {
    xchain_case *c = qkb_case_alloc(sizeof *c);
    if (!c) goto oom;
    *c = (xchain_case){.ch = chain, .layer = (int)i};
    char name[256];
    snprintf(name, sizeof name, "chain_int8/xnnpack/%s", m->v[i].name);
    if (!qkb_register_row(r, name, bm_layer, c, r->layer_min_time)) goto oom;
  }
  return true;
oom:
  snprintf(err, errlen, "cannot register the XNNPACK chain benchmarks");
  return false;
#else
  (void)err, (void)errlen;
  return qkb_register_skip("chain_int8/xnnpack/total", "skipped: not built (XNNPACK not found at configure time)");
#endif
}

void qkb_xnnpack_chain_shutdown(void) {
  if (!chain) return;
#if QKB_HAVE_XNNPACK
  for (size_t i = 0; chain->ops && i < chain->nops; i++) qkb_peer_destroy(chain->ops[i]);
#endif
  free(chain->ops);
  qkb_slots_free(&chain->slots);
  free(chain);
  chain = NULL;
}
