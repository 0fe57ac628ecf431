/* conv2d_int8 and dwconv2d_int8 rows: every registered CONV2D variant on the stem and the
 * pointwise layers, every DWCONV2D variant on the depthwise layers (each distinct shape once), and
 * the XNNPACK qc8 convolution peers on the same layers. Each row runs the layer of the synthetic
 * network on its real input activation and weights; packed weights rotate over cold copies like
 * the fc_int8 rows. The output is compared with the reference's after timing ("exact" counter). */
#include <stdio.h>
#include <string.h>

#include "qkb_build.h"
#include "qkb_model.h"

typedef struct conv_case {
  int layer;
  const qk_variant *v;
  size_t count;
  void *ws;
  bool ws_done;
} conv_case;

static bool is_dw(const qkb_layer *L) { return L->kind == QKB_L_DW; }

static size_t weight_bytes(const qkb_layer *L) {
  const size_t taps = L->kernel * L->kernel;
  return is_dw(L) ? taps * L->out_c : taps * L->in_c * L->out_c;
}

static double layer_bytes(const qkb_layer *L) {
  return (double)(weight_bytes(L) + L->in_h * L->in_w * L->in_c + L->out_h * L->out_w * L->out_c);
}

/* count copies of the variant's packed weights in the rotation arena. */
static bool pack_copies(const qk_conv2d_int8_impl *impl, const qkb_net_layer *N, qkb_rotation *r, char *err,
                        size_t errlen) {
  const size_t psize = impl->packed_size(&N->conv);
  if (!psize) {
    snprintf(err, errlen, "packed_size is 0");
    return false;
  }
  size_t stride = (psize + 63) / 64 * 64;
  if (stride % 4096 == 0) stride += 64;
  char *base = qkb_arena(stride * r->count, err, errlen);
  if (!base) return false;
  for (size_t i = 0; i < r->count; i++) r->items[i] = base + i * stride;
  impl->pack(&N->conv, N->w, N->bias, r->items[0]);
  if (r->count > 1) {
    impl->pack(&N->conv, N->w, N->bias, r->items[1]);
    const bool relocatable = memcmp(r->items[0], r->items[1], psize) == 0;
    for (size_t i = 2; i < r->count; i++) {
      if (relocatable)
        memcpy(r->items[i], r->items[0], psize);
      else
        impl->pack(&N->conv, N->w, N->bias, r->items[i]);
    }
  }
  r->bytes = psize * r->count;
  r->next = 0;
  return true;
}

static void bm_variant(qkb_state *st, void *user) {
  conv_case *c = user;
  char err[512];
  const qkb_net *net = qkb_net_get(err, sizeof err);
  if (!net) {
    qkb_skip_with_error(st, err);
    return;
  }
  const qkb_layer *L = &net->m->v[c->layer];
  const qkb_net_layer *N = &net->l[c->layer];
  const qk_conv2d_int8_impl *impl = c->v->impl;
  qk_conv2d_geom g;
  if ((is_dw(L) ? qk_dwconv2d_int8_check : qk_conv2d_int8_check)(&N->conv, &g) != QK_OK) {
    qkb_skip_with_error(st, qk_last_error());
    return;
  }
  if (!c->ws_done) {
    const size_t wsize = impl->workspace_size(&N->conv, &g);
    c->ws = wsize ? qkb_case_aligned((wsize + 63) / 64 * 64) : NULL;
    if (wsize && !c->ws) {
      qkb_skip_with_error(st, "out of memory for the workspace");
      return;
    }
    c->ws_done = true;
  }
  qkb_rotation *r = qkb_rotation_current(c);
  if (!r) {
    r = qkb_rotation_begin(c, c->count, err, sizeof err);
    if (!r || !pack_copies(impl, N, r, err, sizeof err)) {
      qkb_rotation_abort();
      qkb_skip_with_error(st, err);
      return;
    }
  }
  const int8_t *x = qkb_net_tensor(net, L->in);
  int8_t *y = qkb_scratch();
  void *ws = c->ws;
  void *const *items = r->items;
  const size_t n = r->count;
  size_t i = r->next;
  while (qkb_keep_running(st)) {
    impl->run(&N->conv, &g, items[i], x, y, ws);
    if (++i == n) i = 0;
  }
  r->next = i;
  qkb_rate_counters(st, 2.0 * (double)L->macs, layer_bytes(L));
  qkb_counter(st, "exact", memcmp(y, N->out, N->out_bytes) == 0, QKB_COUNTER_DEFAULT);
  qkb_counter(st, "saturated", N->saturated, QKB_COUNTER_DEFAULT);
  char label[64];
  qkb_cold_label(r->count, r->bytes, label, sizeof label);
  qkb_set_label(st, label);
}

static void *make_peer(const qkb_net *net, const qkb_peer_case *c, char *err, size_t errlen) {
#if QKB_HAVE_XNNPACK
  return qkb_xnn_layer_create(net, c->layer, qkb_net_tensor(net, net->m->v[c->layer].in), NULL, qkb_scratch(), err,
                              errlen);
#else
  (void)net, (void)c, (void)err, (void)errlen;
  return NULL;
#endif
}

bool qkb_register_conv(const qkb_reg *r, char *err, size_t errlen) {
  const qkb_model *m = r->model;
  if (!qkb_scratch_reserve(m->max_tensor)) {
    snprintf(err, errlen, "out of memory for the output arena");
    return false;
  }
  for (size_t li = 0; li < m->n; li++) {
    const qkb_layer *L = &m->v[li];
    if (L->first != (int)li || (L->kind != QKB_L_CONV && L->kind != QKB_L_PW && L->kind != QKB_L_DW)) continue;
    const qk_op op = is_dw(L) ? QK_OP_DWCONV2D : QK_OP_CONV2D;
    const char *family = is_dw(L) ? "dwconv2d_int8" : "conv2d_int8";
    /* One rotation count per shape, for every variant and the peer: raw weights plus 12 bytes of
     * bias and requantization per channel, plus XNNPACK's indirection buffer where it builds one. */
    const size_t count = qkb_copies_bytes(weight_bytes(L) + 12 * L->out_c + qkb_xnn_layer_overhead(L));
    char name[256], why[512];
    for (size_t vi = 0; vi < qk_variant_count(); vi++) {
      const qk_variant *v = qk_variant_at(vi);
      if (v->op != op || v->path != QK_PATH_INT8) continue;
      snprintf(name, sizeof name, "%s/%s/%s", family, v->name, L->label);
      if (qkb_variant_skip(v, why, sizeof why)) {
        if (!qkb_register_skip(name, why)) goto oom;
        continue;
      }
      conv_case *c = qkb_case_alloc(sizeof *c);
      if (!c) goto oom;
      *c = (conv_case){.layer = (int)li, .v = v, .count = count};
      if (!qkb_register_row(r, name, bm_variant, c, 0)) goto oom;
    }
    qkb_peer_case *p = qkb_case_alloc(sizeof *p);
    if (!p) goto oom;
    *p = (qkb_peer_case){.make = make_peer, .layer = (int)li, .count = count,
                         .copy_bytes = weight_bytes(L) + 12 * L->out_c, .ops = 2.0 * (double)L->macs,
                         .bytes = layer_bytes(L)};
    snprintf(name, sizeof name, "%s/%s/%s", family, qkb_xnn_peer_name(L->kind), L->label);
    if (!qkb_register_peer(r, name, p)) goto oom;
  }
  return true;
oom:
  snprintf(err, errlen, "cannot register the conv benchmarks");
  return false;
}
