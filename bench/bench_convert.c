/* quantize_int8 and dequantize_int8 rows at the network's boundaries: every registered QUANTIZE
 * variant on the float input image (224x224x3 -> int8 with the input's scale and zero point),
 * every DEQUANTIZE variant on the int8 logits, and the XNNPACK f32 <-> qs8 convert peers.
 * ops_per_second counts one op per element. */
#include <stdio.h>
#include <string.h>

#include "qkb_build.h"
#include "qkb_model.h"

static size_t input_n(const qkb_model *m) { return m->in_h * m->in_w * m->in_c; }

static void bm_quantize(qkb_state *st, void *user) {
  const qkb_simple_case *c = user;
  char err[512];
  const qkb_net *net = qkb_net_get(err, sizeof err);
  if (!net) {
    qkb_skip_with_error(st, err);
    return;
  }
  const qk_quantize_impl *impl = c->v->impl;
  const size_t n = input_n(net->m);
  const float *x = net->image;
  int8_t *y = qkb_scratch();
  while (qkb_keep_running(st)) impl->run(x, n, net->s_image, net->zp_image, QK_Q_INT8, y);
  qkb_rate_counters(st, (double)n, 5.0 * (double)n);
  qkb_counter(st, "exact", memcmp(y, net->qimage, n) == 0, QKB_COUNTER_DEFAULT);
  qkb_set_label(st, "hot");
}

static void bm_dequantize(qkb_state *st, void *user) {
  const qkb_simple_case *c = user;
  char err[512];
  const qkb_net *net = qkb_net_get(err, sizeof err);
  if (!net) {
    qkb_skip_with_error(st, err);
    return;
  }
  const qk_dequantize_impl *impl = c->v->impl;
  const qkb_net_layer *F = &net->l[net->m->n - 1];
  const size_t n = F->out_bytes;
  float *y = qkb_scratch();
  while (qkb_keep_running(st)) impl->run(F->out, n, QK_Q_INT8, F->s_out, F->zp_out, y);
  qkb_rate_counters(st, (double)n, 5.0 * (double)n);
  qkb_counter(st, "exact", memcmp(y, net->logits, n * sizeof *y) == 0, QKB_COUNTER_DEFAULT);
  qkb_set_label(st, "hot");
}

static void *make_quantize(const qkb_net *net, const qkb_peer_case *c, char *err, size_t errlen) {
  (void)c;
#if QKB_HAVE_XNNPACK
  return qkb_xnn_quantize_create(input_n(net->m), net->s_image, net->zp_image, net->image, qkb_scratch(), err, errlen);
#else
  (void)net, (void)err, (void)errlen;
  return NULL;
#endif
}

static void *make_dequantize(const qkb_net *net, const qkb_peer_case *c, char *err, size_t errlen) {
  (void)c;
#if QKB_HAVE_XNNPACK
  const qkb_net_layer *F = &net->l[net->m->n - 1];
  return qkb_xnn_dequantize_create(F->out_bytes, F->s_out, F->zp_out, F->out, qkb_scratch(), err, errlen);
#else
  (void)net, (void)err, (void)errlen;
  return NULL;
#endif
}

bool qkb_register_convert(const qkb_reg *r, char *err, size_t errlen) {
  const qkb_model *m = r->model;
  const size_t n_in = input_n(m), n_out = m->v[m->n - 1].out_c;
  const size_t need = n_out * sizeof(float) > m->max_tensor ? n_out * sizeof(float) : m->max_tensor;
  if (!qkb_scratch_reserve(need)) {
    snprintf(err, errlen, "out of memory for the output arena");
    return false;
  }
  char name[256];
  qkb_peer_case *q = qkb_case_alloc(sizeof *q), *d = qkb_case_alloc(sizeof *d);
  if (!q || !d) goto oom;
  *q = (qkb_peer_case){.make = make_quantize, .layer = -1, .count = 1, .ops = (double)n_in, .bytes = 5.0 * (double)n_in};
  *d = (qkb_peer_case){.make = make_dequantize, .layer = -1, .count = 1, .ops = (double)n_out,
                       .bytes = 5.0 * (double)n_out};
  if (!qkb_register_variants(r, QK_OP_QUANTIZE, "quantize_int8", m->input_label, bm_quantize, -1)) goto oom;
  snprintf(name, sizeof name, "quantize_int8/xnnpack_f32_qs8/%s", m->input_label);
  if (!qkb_register_peer(r, name, q)) goto oom;
  if (!qkb_register_variants(r, QK_OP_DEQUANTIZE, "dequantize_int8", m->logits_label, bm_dequantize, -1)) goto oom;
  snprintf(name, sizeof name, "dequantize_int8/xnnpack_qs8_f32/%s", m->logits_label);
  if (!qkb_register_peer(r, name, d)) goto oom;
  return true;
oom:
  snprintf(err, errlen, "cannot register the convert benchmarks");
  return false;
}
