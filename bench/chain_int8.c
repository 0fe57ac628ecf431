/* chain_int8/<cap>/total: the whole network back to back through the library's runtime entry
 * points (qk_conv2d_int8_create / qk_dwconv2d_int8_create / qk_conv2d_int8_run, qk_add_int8,
 * qk_avgpool_int8, qk_fc_int8_create / run) with qk_set_isa_cap(<cap>), one row per ISA built;
 * chain_int8/<cap>/layerNN_<kind>: one layer of that chain alone, on the chain's buffers, its
 * inputs holding the reference activations. Repeating one layer keeps its weights and buffers in
 * L2; in the chain they are evicted by the other layers' weights, so the per-layer rows sum to less
 * than the total (measured in-process: about 6% on an idle core, more when other processes share
 * the core and its L2). Operators and activation buffers are made once per
 * cap, on first use, outside the timing; the timed loop allocates nothing. Before timing, the
 * chain is run layer by layer and every output is compared with the reference network's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qkb_model.h"

#define SLACK 64

typedef struct qk_chain {
  qk_isa cap;
  bool tried, ok;
  char err[600];
  char label[600];
  qk_conv2d_int8_op **conv; /* per layer, NULL if not a conv */
  size_t nconv;
  qk_fc_int8_op *fc;
  qkb_slots slots;
  double ops, bytes;
} qk_chain;

typedef struct chain_case {
  qk_chain *ch;
  int layer; /* -1: the total */
} chain_case;

static qk_chain *chains[QK_ISA_COUNT];

/* ---- shared chain plumbing -------------------------------------------------------------------- */

bool qkb_slots_init(qkb_slots *s, const qkb_net *net) {
  const qkb_model *m = net->m;
  memset(s, 0, sizeof *s);
  s->slot_of = calloc(m->n + 1, sizeof *s->slot_of);
  if (!s->slot_of || !(s->n = qkb_model_slots(m, s->slot_of)) || !(s->p = calloc(s->n, sizeof *s->p))) {
    qkb_slots_free(s);
    return false;
  }
  const size_t bytes = (m->max_tensor + SLACK + 63) / 64 * 64;
  for (size_t k = 0; k < s->n; k++) {
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes) != 0) {
      qkb_slots_free(s);
      return false;
    }
    memset(p, 0, bytes);
    s->p[k] = p;
  }
  memcpy(qkb_slot(s, -1), net->qimage, m->in_h * m->in_w * m->in_c);
  return true;
}

void qkb_slots_free(qkb_slots *s) {
  for (size_t k = 0; s->p && k < s->n; k++) free(s->p[k]);
  free(s->p);
  free(s->slot_of);
  memset(s, 0, sizeof *s);
}

static size_t tensor_bytes(const qkb_net *net, int id) {
  const qkb_model *m = net->m;
  return id < 0 ? m->in_h * m->in_w * m->in_c : net->l[id].out_bytes;
}

void qkb_slots_stage(const qkb_slots *s, const qkb_net *net, int i) {
  const qkb_layer *L = &net->m->v[i];
  memcpy(qkb_slot(s, L->in), qkb_net_tensor(net, L->in), tensor_bytes(net, L->in));
  if (L->kind == QKB_L_ADD) memcpy(qkb_slot(s, L->in2), qkb_net_tensor(net, L->in2), tensor_bytes(net, L->in2));
}

double qkb_layer_ops(const qkb_layer *L) {
  if (L->kind == QKB_L_ADD) return (double)(L->out_h * L->out_w * L->out_c);
  if (L->kind == QKB_L_GAP) return (double)(L->in_h * L->in_w * L->in_c);
  return 2.0 * (double)L->macs;
}

double qkb_layer_bytes(const qkb_layer *L) {
  const size_t in = L->in_h * L->in_w * L->in_c, out = L->out_h * L->out_w * L->out_c, taps = L->kernel * L->kernel;
  size_t w = 0;
  if (L->kind == QKB_L_CONV || L->kind == QKB_L_PW) w = taps * L->in_c * L->out_c;
  if (L->kind == QKB_L_DW) w = taps * L->out_c;
  if (L->kind == QKB_L_FC) w = L->in_c * L->out_c;
  return (double)(w + in * (L->kind == QKB_L_ADD ? 2 : 1) + out);
}

const char *qkb_chain_describe(void) {
  return "chain_int8/<cap>/total runs every layer of the table back to back through qk_conv2d_int8_run, "
         "qk_add_int8, qk_avgpool_int8 and qk_fc_int8_run with qk_set_isa_cap(<cap>) (operators created "
         "under that cap), checked layer by layer against the reference network before timing; "
         "chain_int8/xnnpack/total runs the same network as XNNPACK operators (qc8 conv and depthwise, "
         "qs8 add, global average pooling, fully connected); layerNN_<kind> rows time one layer alone "
         "on the chain's buffers, its weights and activations warm in L2, so their sum is below the total, "
         "where the 3.5 MB of weights (more than L2) come from L3 on every pass. ops = 2*MACs of the table; "
         "weights hot as in an inference loop";
}

/* ---- the library chain ------------------------------------------------------------------------ */

static qk_status run_layer(const qk_chain *ch, const qkb_net *net, size_t i) {
  const qkb_layer *L = &net->m->v[i];
  const qkb_net_layer *N = &net->l[i];
  const int8_t *x = qkb_slot(&ch->slots, L->in);
  int8_t *y = qkb_slot(&ch->slots, (int)i);
  switch (L->kind) {
    case QKB_L_CONV:
    case QKB_L_PW:
    case QKB_L_DW:
      return qk_conv2d_int8_run(ch->conv[i], x, y);
    case QKB_L_ADD: {
      const size_t shape[4] = {1, L->in_h, L->in_w, L->in_c};
      return qk_add_int8(&N->add, shape, x, shape, qkb_slot(&ch->slots, L->in2), y);
    }
    case QKB_L_GAP:
      return qk_avgpool_int8(&N->pool, x, y);
    case QKB_L_FC:
      return qk_fc_int8_run(ch->fc, 1, x, y);
    case QKB_L_COUNT:
      break;
  }
  return QK_ERR_PARAM;
}

static const char *short_name(const char *v) {
  return v && !strncmp(v, "qk_int8_", 8) ? v + 8 : v ? v : "?";
}

static bool chain_build(qk_chain *ch, const qkb_net *net) {
  const qkb_model *m = net->m;
  ch->conv = calloc(m->n, sizeof *ch->conv);
  ch->nconv = m->n;
  if (!ch->conv || !qkb_slots_init(&ch->slots, net)) {
    snprintf(ch->err, sizeof ch->err, "out of memory for the chain");
    return false;
  }
  const char *used[QKB_L_COUNT] = {0};
  for (size_t i = 0; i < m->n; i++) {
    const qkb_layer *L = &m->v[i];
    const qkb_net_layer *N = &net->l[i];
    qk_status st = QK_OK;
    if (L->kind == QKB_L_CONV || L->kind == QKB_L_PW) {
      st = qk_conv2d_int8_create(&N->conv, N->w, N->bias, &ch->conv[i]);
      if (!st) used[L->kind] = qk_conv2d_int8_variant(ch->conv[i]);
    } else if (L->kind == QKB_L_DW) {
      st = qk_dwconv2d_int8_create(&N->conv, N->w, N->bias, &ch->conv[i]);
      if (!st) used[L->kind] = qk_conv2d_int8_variant(ch->conv[i]);
    } else if (L->kind == QKB_L_FC) {
      st = ch->fc ? QK_ERR_PARAM : qk_fc_int8_create(&N->fc, N->w, N->bias, &ch->fc);
      if (!st) used[L->kind] = qk_fc_int8_variant(ch->fc);
    } else {
      const qk_variant *v = qk_dispatch(L->kind == QKB_L_ADD ? QK_OP_ADD : QK_OP_AVGPOOL, QK_PATH_INT8);
      if (!v) st = QK_ERR_UNSUPPORTED;
      else used[L->kind] = v->name;
    }
    if (st) {
      snprintf(ch->err, sizeof ch->err, "%s: create: %s", L->name, qk_last_error());
      return false;
    }
    ch->ops += 2.0 * (double)L->macs;
    ch->bytes += qkb_layer_bytes(L);
  }
  /* Exactness: every layer's output against the reference network's. */
  for (size_t i = 0; i < m->n; i++) {
    const qkb_layer *L = &m->v[i];
    if (run_layer(ch, net, i) != QK_OK) {
      snprintf(ch->err, sizeof ch->err, "%s: run: %s", L->name, qk_last_error());
      return false;
    }
    const int8_t *y = qkb_slot(&ch->slots, (int)i), *want = net->l[i].out;
    for (size_t t = 0; t < net->l[i].out_bytes; t++)
      if (y[t] != want[t]) {
        snprintf(ch->err, sizeof ch->err,
                 "%s (%s) differs from the reference at byte %zu: %d, expected %d (cap %s); not timed", L->name,
                 used[L->kind], t, y[t], want[t], qk_isa_name(ch->cap));
        return false;
      }
  }
  snprintf(ch->label, sizeof ch->label, "exact; conv=%s pw=%s dw=%s add=%s gap=%s fc=%s", short_name(used[QKB_L_CONV]),
           short_name(used[QKB_L_PW]), short_name(used[QKB_L_DW]), short_name(used[QKB_L_ADD]),
           short_name(used[QKB_L_GAP]), short_name(used[QKB_L_FC]));
  return true;
}

/* Builds the chain of this cap on first use; the cap stays set for the caller's timing. */
static bool chain_enter(qkb_state *st, qk_chain *ch, const qkb_net **netp) {
  char err[512];
  const qkb_net *net = qkb_net_get(err, sizeof err);
  if (!net) {
    qkb_skip_with_error(st, err);
    return false;
  }
  qk_set_isa_cap(ch->cap);
  if (!ch->tried) {
    ch->tried = true;
    ch->ok = chain_build(ch, net);
  }
  if (!ch->ok) {
    qk_set_isa_cap(QK_ISA_COUNT);
    qkb_skip_with_error(st, ch->err);
    return false;
  }
  *netp = net;
  return true;
}

static void bm_total(qkb_state *st, void *user) {
  const chain_case *c = user;
  qk_chain *ch = c->ch;
  const qkb_net *net;
  if (!chain_enter(st, ch, &net)) return;
  const size_t n = net->m->n;
  unsigned bad = 0;
  while (qkb_keep_running(st))
    for (size_t i = 0; i < n; i++) bad |= (unsigned)run_layer(ch, net, i);
  qk_set_isa_cap(QK_ISA_COUNT);
  if (bad) {
    qkb_skip_with_error(st, "a layer failed during timing");
    return;
  }
  qkb_rate_counters(st, ch->ops, ch->bytes);
  qkb_counter(st, "layers", (double)n, QKB_COUNTER_DEFAULT);
  qkb_counter(st, "exact", 1.0, QKB_COUNTER_DEFAULT);
  qkb_set_label(st, ch->label);
}

static void bm_layer(qkb_state *st, void *user) {
  const chain_case *c = user;
  qk_chain *ch = c->ch;
  const qkb_net *net;
  if (!chain_enter(st, ch, &net)) return;
  const size_t i = (size_t)c->layer;
  qkb_slots_stage(&ch->slots, net, c->layer);
  unsigned bad = 0;
  while (qkb_keep_running(st)) bad |= (unsigned)run_layer(ch, net, i);
  qk_set_isa_cap(QK_ISA_COUNT);
  if (bad) {
    qkb_skip_with_error(st, "the layer failed during timing");
    return;
  }
  const qkb_layer *L = &net->m->v[i];
  qkb_rate_counters(st, qkb_layer_ops(L), qkb_layer_bytes(L));
  const char *v = L->kind == QKB_L_FC ? qk_fc_int8_variant(ch->fc)
                  : ch->conv[i]       ? qk_conv2d_int8_variant(ch->conv[i])
                                      : "";
  qkb_set_label(st, short_name(v));
}

bool qkb_register_chain(const qkb_reg *r, char *err, size_t errlen) {
  const qkb_model *m = r->model;
  char name[256], why[256];
  for (int isa = 0; isa < QK_ISA_COUNT; isa++) {
    if (!qk_isa_built((qk_isa)isa)) continue;
    const char *cap = qk_isa_name((qk_isa)isa);
    snprintf(name, sizeof name, "chain_int8/%s/total", cap);
    why[0] = 0;
    if (!qk_isa_supported((qk_isa)isa))
      snprintf(why, sizeof why, "skipped: CPU lacks %s", cap);
    else if (isa > (int)qk_isa_cap())
      snprintf(why, sizeof why, "skipped: above the QK_ISA cap (%s)", qk_isa_name(qk_isa_cap()));
    if (why[0]) {
      if (!qkb_register_skip(name, why)) goto oom;
      continue;
    }
    qk_chain *ch = chains[isa] = calloc(1, sizeof *ch);
    chain_case *t = qkb_case_alloc(sizeof *t);
    if (!ch || !t) goto oom;
    ch->cap = (qk_isa)isa;
    *t = (chain_case){.ch = ch, .layer = -1};
    if (!qkb_register_row(r, name, bm_total, t, 0)) goto oom;
    if (!r->chain_layers) continue;
    for (size_t i = 0; i < m->n; i++) {
      chain_case *c = qkb_case_alloc(sizeof *c);
      if (!c) goto oom;
      *c = (chain_case){.ch = ch, .layer = (int)i};
      snprintf(name, sizeof name, "chain_int8/%s/%s", cap, m->v[i].name);
      if (!qkb_register_row(r, name, bm_layer, c, r->layer_min_time)) goto oom;
    }
  }
  return true;
oom:
  snprintf(err, errlen, "cannot register the chain benchmarks");
  return false;
}

void qkb_chain_shutdown(void) {
  for (int isa = 0; isa < QK_ISA_COUNT; isa++) {
    qk_chain *ch = chains[isa];
    if (!ch) continue;
    for (size_t i = 0; ch->conv && i < ch->nconv; i++) qk_conv2d_int8_destroy(ch->conv[i]);
    free(ch->conv);
    qk_fc_int8_destroy(ch->fc);
    qkb_slots_free(&ch->slots);
    free(ch);
    chains[isa] = NULL;
  }
}
