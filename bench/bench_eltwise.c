/* add_int8 rows: every registered ADD variant on each distinct residual add of the network (both
 * inputs are the real activations: the projection's output and the block's input), and the
 * XNNPACK qs8 add peer. ops_per_second counts one op per output element. */
#include <stdio.h>
#include <string.h>

#include "qkb_build.h"
#include "qkb_model.h"

static void bm_add(qkb_state *st, void *user) {
  const qkb_simple_case *c = user;
  char err[512];
  const qkb_net *net = qkb_net_get(err, sizeof err);
  if (!net) {
    qkb_skip_with_error(st, err);
    return;
  }
  const qkb_layer *L = &net->m->v[c->layer];
  const qkb_net_layer *N = &net->l[c->layer];
  const qk_add_int8_impl *impl = c->v->impl;
  const size_t shape[4] = {1, L->in_h, L->in_w, L->in_c};
  const int8_t *x1 = qkb_net_tensor(net, L->in), *x2 = qkb_net_tensor(net, L->in2);
  int8_t *y = qkb_scratch();
  while (qkb_keep_running(st)) impl->run(&N->add, shape, x1, shape, x2, y);
  const double n = (double)N->out_bytes;
  qkb_rate_counters(st, n, 3.0 * n);
  qkb_counter(st, "exact", memcmp(y, N->out, N->out_bytes) == 0, QKB_COUNTER_DEFAULT);
  qkb_set_label(st, "hot");
}

static void *make_peer(const qkb_net *net, const qkb_peer_case *c, char *err, size_t errlen) {
#if QKB_HAVE_XNNPACK
  const qkb_layer *L = &net->m->v[c->layer];
  return qkb_xnn_layer_create(net, c->layer, qkb_net_tensor(net, L->in), qkb_net_tensor(net, L->in2), qkb_scratch(),
                              err, errlen);
#else
  (void)net, (void)c, (void)err, (void)errlen;
  return NULL;
#endif
}

bool qkb_register_eltwise(const qkb_reg *r, char *err, size_t errlen) {
  const qkb_model *m = r->model;
  if (!qkb_scratch_reserve(m->max_tensor)) {
    snprintf(err, errlen, "out of memory for the output arena");
    return false;
  }
  for (size_t li = 0; li < m->n; li++) {
    const qkb_layer *L = &m->v[li];
    if (L->first != (int)li || L->kind != QKB_L_ADD) continue;
    if (!qkb_register_variants(r, QK_OP_ADD, "add_int8", L->label, bm_add, (int)li)) goto oom;
    qkb_peer_case *p = qkb_case_alloc(sizeof *p);
    if (!p) goto oom;
    const double n = (double)(L->in_h * L->in_w * L->in_c);
    *p = (qkb_peer_case){.make = make_peer, .layer = (int)li, .count = 1, .ops = n, .bytes = 3.0 * n};
    char name[256];
    snprintf(name, sizeof name, "add_int8/%s/%s", qkb_xnn_peer_name(L->kind), L->label);
    if (!qkb_register_peer(r, name, p)) goto oom;
  }
  return true;
oom:
  snprintf(err, errlen, "cannot register the add benchmarks");
  return false;
}
