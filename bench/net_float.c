/* Float data of the network's layers for the per-op float rows and their XNNPACK peers, each piece
 * made on first use and kept: descriptors, binary16 weights, inputs, expected outputs. Inputs are
 * the int8 network's reference activations dequantized (the network input: its float image), so
 * each layer runs on a realistic activation without running a float chain first. Expected outputs
 * are computed in double with the magnitudes SPEC §14's bound needs; the dynamic-range rows are
 * checked bit for bit against qk_ref_fc_dynamic / qk_ref_conv2d_dynamic instead. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qkb_paths.h"

#define SLACK 64 /* elements past every tensor: XNNPACK may read XNN_EXTRA_BYTES beyond an input */

static struct {
  const qkb_net *net;
  qkb_netf_layer **l;      /* [n] */
  float **t32;             /* [n + 1], tensor id + 1 */
  uint16_t **t16;          /* [n + 1] */
  qkb_fexpect **e;         /* [n * QKB_FW_COUNT] */
  float **dref;            /* [n * 2]: as conv, as fc */
} fs;

static bool ready(const qkb_net *net, char *err, size_t errlen) {
  if (fs.net == net) return true;
  const size_t n = net->m->n;
  memset(&fs, 0, sizeof fs);
  fs.l = qkb_case_alloc(n * sizeof *fs.l);
  fs.t32 = qkb_case_alloc((n + 1) * sizeof *fs.t32);
  fs.t16 = qkb_case_alloc((n + 1) * sizeof *fs.t16);
  fs.e = qkb_case_alloc(n * QKB_FW_COUNT * sizeof *fs.e);
  fs.dref = qkb_case_alloc(n * 2 * sizeof *fs.dref);
  if (!fs.l || !fs.t32 || !fs.t16 || !fs.e || !fs.dref) {
    snprintf(err, errlen, "out of memory");
    return false;
  }
  fs.net = net;
  return true;
}

size_t qkb_netf_out_n(const qkb_layer *L) { return L->out_h * L->out_w * L->out_c; }

static bool has_weights(const qkb_layer *L) {
  return L->kind == QKB_L_CONV || L->kind == QKB_L_PW || L->kind == QKB_L_DW || L->kind == QKB_L_FC;
}

static bool build_layer(const qkb_net *net, int i, qkb_netf_layer *F, char *err, size_t errlen) {
  const qkb_layer *L = &net->m->v[i];
  F->act_min = L->relu6 ? 0.0f : -INFINITY, F->act_max = L->relu6 ? 6.0f : INFINITY;
  if (has_weights(L)) {
    if (!(F->w32 = qkb_f32_net_weights(net, i, &F->bias, err, errlen))) return false;
    F->w_n = net->l[i].w_bytes;
    F->w16 = qkb_case_aligned(F->w_n * sizeof *F->w16);
    F->w16f = qkb_case_aligned(F->w_n * sizeof *F->w16f);
    F->bias16 = qkb_case_aligned(L->out_c * sizeof *F->bias16);
    if (!F->w16 || !F->w16f || !F->bias16) return snprintf(err, errlen, "out of memory"), false;
    for (size_t t = 0; t < F->w_n; t++) F->w16[t] = qk_f32_to_f16(F->w32[t]), F->w16f[t] = qk_f16_to_f32(F->w16[t]);
    for (size_t o = 0; o < L->out_c; o++) F->bias16[o] = qk_f32_to_f16(F->bias[o]);
    F->fc = (qk_fc_f32_desc){.in_ch = L->in_c, .out_ch = L->out_c, .act_min = F->act_min, .act_max = F->act_max};
    F->dfc = (qk_fc_dynamic_desc){.in_ch = L->in_c, .out_ch = L->out_c, .act_min = F->act_min,
                                  .act_max = F->act_max, .w_scale = net->l[i].s_w, .asymmetric = false};
  }
  qk_status s = QK_OK;
  switch (L->kind) {
    case QKB_L_CONV:
    case QKB_L_PW:
    case QKB_L_DW:
      F->conv = (qk_conv2d_f32_desc){.batch = 1, .in_h = L->in_h, .in_w = L->in_w, .in_ch = L->in_c,
                                     .out_ch = L->out_c, .k_h = L->kernel, .k_w = L->kernel, .stride_h = L->stride,
                                     .stride_w = L->stride, .dilation_h = 1, .dilation_w = 1, .padding = QK_PAD_SAME,
                                     .groups = 1, .depth_multiplier = 1, .act_min = F->act_min,
                                     .act_max = F->act_max};
      F->dconv = (qk_conv2d_dynamic_desc){.conv = F->conv, .w_scale = net->l[i].s_w, .asymmetric = false};
      s = (L->kind == QKB_L_DW ? qk_dwconv2d_f32_check : qk_conv2d_f32_check)(&F->conv, &F->g);
      break;
    case QKB_L_ADD:
      F->add = (qk_add_f32_params){.act_min = F->act_min, .act_max = F->act_max};
      s = qk_add_f32_check(&F->add);
      break;
    case QKB_L_GAP:
      F->pool = (qk_pool_f32_desc){.batch = 1, .in_h = L->in_h, .in_w = L->in_w, .channels = L->in_c,
                                   .filter_h = L->in_h, .filter_w = L->in_w, .stride_h = 1, .stride_w = 1,
                                   .padding = QK_PAD_VALID, .act_min = F->act_min, .act_max = F->act_max};
      s = qk_pool_f32_check(&F->pool, &F->g);
      break;
    case QKB_L_FC:
      s = qk_fc_f32_check(&F->fc);
      break;
    case QKB_L_COUNT:
      break;
  }
  if (s != QK_OK) return snprintf(err, errlen, "%s: %s", L->name, qk_last_error()), false;
  return true;
}

const qkb_netf_layer *qkb_netf_layer_get(const qkb_net *net, int layer, char *err, size_t errlen) {
  if (!ready(net, err, errlen)) return NULL;
  if (fs.l[layer]) return fs.l[layer];
  qkb_netf_layer *F = qkb_case_alloc(sizeof *F);
  if (!F) return snprintf(err, errlen, "out of memory"), NULL;
  if (!build_layer(net, layer, F, err, errlen)) return NULL;
  return fs.l[layer] = F;
}

static size_t tensor_n(const qkb_model *m, int id) {
  return id < 0 ? m->in_h * m->in_w * m->in_c : qkb_netf_out_n(&m->v[id]);
}

const float *qkb_netf_tensor(const qkb_net *net, int id, char *err, size_t errlen) {
  if (!ready(net, err, errlen)) return NULL;
  if (fs.t32[id + 1]) return fs.t32[id + 1];
  const size_t n = tensor_n(net->m, id);
  float *t = qkb_case_aligned((n + SLACK) * sizeof *t);
  if (!t) return snprintf(err, errlen, "out of memory"), NULL;
  if (id < 0) {
    memcpy(t, net->image, n * sizeof *t);
  } else {
    const qkb_net_layer *N = &net->l[id];
    if (qk_ref_dequantize(N->out, n, QK_Q_INT8, N->s_out, N->zp_out, t) != QK_OK)
      return snprintf(err, errlen, "%s: dequantize: %s", net->m->v[id].name, qk_last_error()), NULL;
  }
  return fs.t32[id + 1] = t;
}

const uint16_t *qkb_netf_tensor16(const qkb_net *net, int id, char *err, size_t errlen) {
  const float *x = qkb_netf_tensor(net, id, err, errlen);
  if (!x) return NULL;
  if (fs.t16[id + 1]) return fs.t16[id + 1];
  const size_t n = tensor_n(net->m, id);
  uint16_t *t = qkb_case_aligned((n + SLACK) * sizeof *t);
  if (!t) return snprintf(err, errlen, "out of memory"), NULL;
  for (size_t k = 0; k < n; k++) t[k] = qk_f32_to_f16(x[k]);
  return fs.t16[id + 1] = t;
}

static double clampd(double v, float lo, float hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Conv (OHWI), depthwise (1HWO, multiplier 1) and fc ([out][in], one pixel) in double. */
static size_t expect_weighted(const qkb_layer *L, const qkb_netf_layer *F, const float *w, const float *x,
                              qkb_fexpect *e) {
  const bool dw = L->kind == QKB_L_DW, fc = L->kind == QKB_L_FC;
  const size_t k = fc ? 1 : L->kernel, s = fc ? 1 : L->stride, C = L->in_c, O = L->out_c;
  const size_t H = fc ? 1 : L->in_h, W = fc ? 1 : L->in_w, pt = fc ? 0 : F->g.pad_top, pl = fc ? 0 : F->g.pad_left;
  size_t at = 0;
  for (size_t oy = 0; oy < L->out_h; oy++)
    for (size_t ox = 0; ox < L->out_w; ox++)
      for (size_t o = 0; o < O; o++, at++) {
        double sum = 0, mag = 0;
        for (size_t ky = 0; ky < k; ky++)
          for (size_t kx = 0; kx < k; kx++) {
            const long iy = (long)(oy * s + ky) - (long)pt, ix = (long)(ox * s + kx) - (long)pl;
            if (iy < 0 || iy >= (long)H || ix < 0 || ix >= (long)W) continue;
            const float *xp = x + ((size_t)iy * W + (size_t)ix) * C;
            if (dw) {
              const double p = (double)xp[o] * (double)w[(ky * k + kx) * O + o];
              sum += p, mag += fabs(p);
            } else {
              const float *wp = w + ((o * k + ky) * k + kx) * C;
              for (size_t c = 0; c < C; c++) {
                const double p = (double)xp[c] * (double)wp[c];
                sum += p, mag += fabs(p);
              }
            }
          }
        sum += (double)F->bias[o], mag += fabs((double)F->bias[o]);
        e->exact[at] = clampd(sum, F->act_min, F->act_max), e->mag[at] = mag;
      }
  return (dw ? k * k : k * k * C) + 1;
}

const qkb_fexpect *qkb_netf_expect(const qkb_net *net, int layer, qkb_fw fw, char *err, size_t errlen) {
  const qkb_layer *L = &net->m->v[layer];
  const qkb_netf_layer *F = qkb_netf_layer_get(net, layer, err, errlen);
  if (!F) return NULL;
  if (!has_weights(L)) fw = QKB_FW_F32; /* add and pooling have no weights */
  qkb_fexpect **slot = &fs.e[(size_t)layer * QKB_FW_COUNT + fw];
  if (*slot) return *slot;
  const float *x = qkb_netf_tensor(net, L->in, err, errlen);
  const float *x2 = L->kind == QKB_L_ADD ? qkb_netf_tensor(net, L->in2, err, errlen) : x;
  if (!x || !x2) return NULL;
  qkb_fexpect *e = qkb_case_alloc(sizeof *e);
  const size_t n = qkb_netf_out_n(L);
  if (e) e->exact = qkb_case_aligned(n * sizeof *e->exact), e->mag = qkb_case_aligned(n * sizeof *e->mag);
  if (!e || !e->exact || !e->mag) return snprintf(err, errlen, "out of memory"), NULL;
  e->n = n;
  if (has_weights(L)) {
    e->terms = expect_weighted(L, F, fw == QKB_FW_F16W ? F->w16f : F->w32, x, e);
  } else if (L->kind == QKB_L_ADD) {
    for (size_t t = 0; t < n; t++) {
      e->exact[t] = clampd((double)x[t] + (double)x2[t], F->act_min, F->act_max);
      e->mag[t] = fabs((double)x[t]) + fabs((double)x2[t]);
    }
    e->terms = 1;
  } else { /* global average pool */
    const size_t hw = L->in_h * L->in_w, C = L->in_c;
    for (size_t c = 0; c < C; c++) {
      double sum = 0, mag = 0;
      for (size_t p = 0; p < hw; p++) sum += x[p * C + c], mag += fabs((double)x[p * C + c]);
      e->exact[c] = clampd(sum / (double)hw, F->act_min, F->act_max), e->mag[c] = mag / (double)hw;
    }
    e->terms = hw + 1; /* the division is one more rounding */
  }
  return *slot = e;
}

const float *qkb_netf_dynamic_ref(const qkb_net *net, int layer, bool as_fc, char *err, size_t errlen) {
  const qkb_layer *L = &net->m->v[layer];
  const qkb_netf_layer *F = qkb_netf_layer_get(net, layer, err, errlen);
  const float *x = F ? qkb_netf_tensor(net, L->in, err, errlen) : NULL;
  if (!x) return NULL;
  float **slot = &fs.dref[(size_t)layer * 2 + as_fc];
  if (*slot) return *slot;
  float *y = qkb_case_aligned((qkb_netf_out_n(L) + SLACK) * sizeof *y);
  if (!y) return snprintf(err, errlen, "out of memory"), NULL;
  const int8_t *w = net->l[layer].w;
  const qk_status s = as_fc ? qk_ref_fc_dynamic(&F->dfc, w, F->bias, L->kind == QKB_L_FC ? L->in_h : L->out_h * L->out_w,
                                                x, y)
                            : qk_ref_conv2d_dynamic(&F->dconv, &F->g, w, F->bias, x, y);
  if (s != QK_OK) return snprintf(err, errlen, "%s: dynamic reference: %s", L->name, qk_last_error()), NULL;
  return *slot = y;
}

bool qkb_fexpect_within(const qkb_fexpect *e, const float *y, double u, size_t extra, double eta, double *worst) {
  const double tu = (double)(e->terms + extra) * u, gamma = tu < 1.0 ? tu / (1.0 - tu) : INFINITY;
  bool ok = true;
  *worst = 0;
  for (size_t i = 0; i < e->n; i++) {
    const double bound = gamma * e->mag[i] + u * fabs(e->exact[i]) + eta;
    const double err = fabs((double)y[i] - e->exact[i]);
    const double ratio = bound > 0 ? err / bound : (err > 0 ? INFINITY : 0.0);
    if (ratio > *worst || ratio != ratio) *worst = ratio;
    if (!(err <= bound)) ok = false;
  }
  return ok;
}

void qkb_netf_shutdown(void) { memset(&fs, 0, sizeof fs); /* case allocations, freed by qkb_cases_free */ }
