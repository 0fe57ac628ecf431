/* The synthetic network on the 16x8 path, for the per-op 16x8 rows: the int8 network's weights
 * with int16 activations, every tensor computed by the 16x8 reference kernels. The derivation is
 * the one chain_i16x8 states (bench/chain_paths.c, qkb_chain_paths_describe), so a per-op row
 * times the same layer, on the same data, that the chain runs. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "qkb_paths.h"

#define SLACK 64

static struct {
  bool tried;
  char err[600];
  qkb_net16 *net;
} st;

static float scale_of(const qkb_net16 *n, int id) { return id < 0 ? n->s_image : n->l[id].s_out; }

/* TFLite's average pool rounding: half away from zero. */
static void gap16(const int16_t *x, size_t hw, size_t c, int32_t lo, int32_t hi, int32_t *acc, int16_t *y) {
  memset(acc, 0, c * sizeof *acc);
  for (size_t p = 0; p < hw; p++)
    for (size_t k = 0; k < c; k++) acc[k] += x[p * c + k];
  const int32_t n = (int32_t)hw;
  for (size_t k = 0; k < c; k++) {
    const int32_t a = acc[k] > 0 ? (acc[k] + n / 2) / n : (acc[k] - n / 2) / n;
    y[k] = (int16_t)(a < lo ? lo : a > hi ? hi : a);
  }
}

static bool weighted(const qkb_net *net, qkb_net16 *n, size_t i, char *err, size_t errlen) {
  const qkb_layer *L = &net->m->v[i];
  const qkb_net_layer *N = &net->l[i];
  qkb_net16_layer *S = &n->l[i];
  const float s_in = scale_of(n, L->in);
  const int16_t *x = qkb_net16_tensor(n, L->in);
  const size_t O = L->out_c;
  S->bias = qkb_case_alloc(O * sizeof *S->bias);
  S->mult = qkb_case_alloc(O * sizeof *S->mult);
  S->shift = qkb_case_alloc(O * sizeof *S->shift);
  if (!S->bias || !S->mult || !S->shift) return snprintf(err, errlen, "out of memory"), false;
  const double rescale = (double)N->s_in / (double)s_in; /* the int8 bias is in s_in8 * s_w units */
  for (size_t o = 0; o < O; o++) {
    const double b = nearbyint((double)N->bias[o] * rescale), bmax = (double)QK_I16X8_BIAS_MAX;
    S->bias[o] = (int64_t)fmin(fmax(b, -bmax), bmax);
  }
  if (qk_multipliers_per_channel(s_in, N->s_w, O, S->s_out, QK_ROUND_DOUBLE, S->mult, S->shift) != QK_OK)
    return snprintf(err, errlen, "%s: multipliers: %s", L->name, qk_last_error()), false;
  S->fc = (qk_fc_i16x8_desc){.in_ch = L->in_c, .out_ch = O, .act_min = S->act_min, .act_max = S->act_max,
                             .multiplier = S->mult, .shift = S->shift};
  qk_status s;
  if (L->kind == QKB_L_FC) {
    s = qk_fc_i16x8_check(&S->fc, S->bias);
    if (s == QK_OK) qk_ref_fc_i16x8(&S->fc, N->w, S->bias, 1, x, S->out);
  } else {
    qk_conv2d_geom g;
    S->conv = N->conv;
    S->conv.input_zp = S->conv.output_zp = 0;
    S->conv.act_min = S->act_min, S->conv.act_max = S->act_max;
    S->conv.multiplier = S->mult, S->conv.shift = S->shift;
    const bool dw = L->kind == QKB_L_DW;
    s = (dw ? qk_dwconv2d_i16x8_check : qk_conv2d_i16x8_check)(&S->conv, &g, S->bias);
    if (s == QK_OK) (dw ? qk_ref_dwconv2d_i16x8 : qk_ref_conv2d_i16x8)(&S->conv, &g, x, N->w, S->bias, S->out);
  }
  if (s != QK_OK) return snprintf(err, errlen, "%s: %s", L->name, qk_last_error()), false;
  return true;
}

static qkb_net16 *build(const qkb_net *net, char *err, size_t errlen) {
  const qkb_model *m = net->m;
  const size_t in_n = m->in_h * m->in_w * m->in_c;
  qkb_net16 *n = qkb_case_alloc(sizeof *n);
  int32_t *acc = n ? qkb_case_alloc(m->max_tensor * sizeof *acc) : NULL;
  if (n) {
    n->l = qkb_case_alloc(m->n * sizeof *n->l);
    n->image = qkb_case_aligned((in_n + SLACK) * sizeof(int16_t));
    n->logits = qkb_case_alloc(m->v[m->n - 1].out_c * sizeof *n->logits);
  }
  if (!n || !acc || !n->l || !n->image || !n->logits) return snprintf(err, errlen, "out of memory"), NULL;
  n->s_image = 1.0f / 32767.0f; /* the image is in [-1, 1] */
  if (qk_ref_quantize(net->image, in_n, n->s_image, 0, QK_Q_INT16, n->image) != QK_OK)
    return snprintf(err, errlen, "input: %s", qk_last_error()), NULL;
  for (size_t i = 0; i < m->n; i++) {
    const qkb_layer *L = &m->v[i];
    const qkb_net_layer *N = &net->l[i];
    qkb_net16_layer *S = &n->l[i];
    const float s_in = scale_of(n, L->in);
    S->out_n = L->out_h * L->out_w * L->out_c;
    S->out = qkb_case_aligned((S->out_n + SLACK) * sizeof(int16_t));
    if (!S->out) return snprintf(err, errlen, "out of memory"), NULL;
    if (L->kind == QKB_L_GAP) {
      S->s_out = s_in, S->act_min = -32768, S->act_max = 32767;
      gap16(qkb_net16_tensor(n, L->in), L->in_h * L->in_w, L->in_c, S->act_min, S->act_max, acc, S->out);
      continue;
    }
    /* The int8 layer's real output range, spread over int16. */
    const double lo = (double)N->s_out * (-128 - N->zp_out), hi = (double)N->s_out * (127 - N->zp_out);
    S->s_out = (float)(fmax(fabs(lo), fabs(hi)) / 32767.0);
    if (qk_activation_range(L->relu6 ? QK_ACT_RELU6 : QK_ACT_NONE, S->s_out, 0, -32768, 32767, &S->act_min,
                            &S->act_max) != QK_OK)
      return snprintf(err, errlen, "%s: activation range: %s", L->name, qk_last_error()), NULL;
    if (L->kind == QKB_L_ADD) {
      const size_t shape[4] = {1, L->in_h, L->in_w, L->in_c};
      if (qk_add_derive(s_in, scale_of(n, L->in2), S->s_out, 15, QK_ROUND_DOUBLE, &S->add) != QK_OK)
        return snprintf(err, errlen, "%s: %s", L->name, qk_last_error()), NULL;
      S->add.input1_zp = S->add.input2_zp = S->add.output_zp = 0;
      S->add.act_min = S->act_min, S->add.act_max = S->act_max;
      if (qk_add_i16_check(&S->add) != QK_OK) return snprintf(err, errlen, "%s: %s", L->name, qk_last_error()), NULL;
      qk_ref_add_i16(&S->add, shape, qkb_net16_tensor(n, L->in), shape, qkb_net16_tensor(n, L->in2), S->out);
      continue;
    }
    if (!weighted(net, n, i, err, errlen)) return NULL;
  }
  const qkb_net16_layer *F = &n->l[m->n - 1];
  if (qk_ref_dequantize(F->out, F->out_n, QK_Q_INT16, F->s_out, 0, n->logits) != QK_OK)
    return snprintf(err, errlen, "logits: %s", qk_last_error()), NULL;
  return n;
}

const qkb_net16 *qkb_net16_get(char *err, size_t errlen) {
  if (!st.tried) {
    st.tried = true;
    const qkb_net *net = qkb_net_get(st.err, sizeof st.err);
    if (net) st.net = build(net, st.err, sizeof st.err);
  }
  if (!st.net) snprintf(err, errlen, "16x8 network: %s", st.err);
  return st.net;
}

void qkb_net16_shutdown(void) { memset(&st, 0, sizeof st); /* case allocations, freed by qkb_cases_free */ }
