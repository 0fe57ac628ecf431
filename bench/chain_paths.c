/* Whole-network chains on the other numeric paths, over the same synthetic network as chain_int8
 * (bench/net.c: its int8 weights, per-channel weight scales and calibration):
 *
 *   chain_i16x8/<cap>/total    int16 activations (zero point 0, scale from the int8 layer's real
 *       range / 32767), the int8 per-channel weights, int64 biases (the int8 bias rescaled to the
 *       int16 input scale), ReLU6 as the clamp [0, q(6)]; convs through qk_conv2d_i16x8_create /
 *       qk_dwconv2d_i16x8_create / run, residual adds through qk_add_i16 (left_shift 15), the FC
 *       through qk_fc_i16x8_create / run. There is no 16x8 average pool op: the global average pool
 *       is a plain C reduction inside the chain (TFLite's rounding: half away from zero). Checked
 *       layer by layer against the qk_ref_*_i16x8 reference before timing (exact).
 *   chain_f32/<cap>/total      float32 weights (int8 weight * its scale) and activations.
 *   chain_f16w/<cap>/total     the same weights rounded to binary16 (FC and convs on the f16w path;
 *       add and pool have no f16w variants and run on the f32 path).
 *   chain_dynamic/<cap>/total  the int8 weights with per-channel scales: stem, 1x1 convs, depthwise
 *       convs and the FC on the dynamic path (activations quantized per image / row at run time;
 *       the depthwise ones asymmetrically, as TFLite's hybrid depthwise always does); add and pool
 *       in f32.
 *   chain_f32 / chain_dynamic/<cap>/layerNN_<kind>  one layer of that chain alone (only at the
 *       highest cap that runs here), its inputs produced by running the chain up to it first.
 *
 * The float chains dispatch each op's variant with qk_dispatch(op, path) under qk_set_isa_cap(cap)
 * and call its impl directly: weights packed once, one preallocated workspace. Before timing, the
 * same chain is run through the qk_ref_* float kernels and the row reports how far the logits are
 * (logits_max_diff, absolute; top1_agrees). Nothing is allocated in the timed loop.
 *
 * Why the dynamic chain's logits differ from the all-qk_ref chain by far more than the f32 chain's:
 * its f32 layers (add, pool) sum in another order than qk_ref's, which moves an
 * activation by an ulp; the next dynamic layer quantizes its input to int8 at run time, where an
 * ulp can move a value across a rounding boundary (or the row's max, hence every q), a whole
 * quantization step, and the network amplifies that. The dynamic kernels themselves are exact, so
 * the row also runs two mixed chains and reports them: qk_ref dynamic layers on this cap's f32
 * kernels must equal this chain bit for bit (exact_same_f32 = 1), and this cap's dynamic layers on
 * qk_ref f32 kernels must equal the all-qk_ref chain bit for bit (exact_ref_f32 = 1). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qkb_model.h"

#define SLACK 64

typedef enum cpath { P_I16X8 = 0, P_F32, P_F16W, P_DYN, P_COUNT } cpath;
static const char *const path_family[P_COUNT] = {"chain_i16x8", "chain_f32", "chain_f16w", "chain_dynamic"};

/* ---- data shared by every cap of a path, derived once from the int8 network ------------------ */

typedef struct i16_layer {
  float s_out;
  int32_t act_min, act_max;
  qk_conv2d_int8_desc conv; /* zero points 0, int16 clamp */
  qk_fc_i16x8_desc fc;
  qk_add_int8_params add;
  int64_t *bias;
  int32_t *mult, *shift;
  int16_t *ref; /* reference output */
  size_t out_n;
} i16_layer;

typedef struct f_layer {
  float *w32;    /* f32 weights (conv OHWI, dw 1HWO, fc [out][in]) */
  uint16_t *w16; /* binary16 of w32 */
  float *w16f;   /* w16 widened (the f16w reference) */
  float *bias;   /* real bias */
  size_t w_n;
} f_layer;

static struct {
  bool i16_tried, i16_ok, f_tried, f_ok;
  char i16_err[600], f_err[600];
  i16_layer *l16;
  int16_t *image16;
  float s_image16;
  f_layer *lf;
  const float *f32_ref; /* logits of the qk_ref_* f32 chain */
} sh;

static const qkb_net *net_or_skip(qkb_state *st) {
  char err[512];
  const qkb_net *net = qkb_net_get(err, sizeof err);
  if (!net) qkb_skip_with_error(st, err);
  return net;
}

static float s16_of(int id) { return id < 0 ? sh.s_image16 : sh.l16[id].s_out; }

static void gap16(const int16_t *x, size_t hw, size_t c, int32_t lo, int32_t hi, int32_t *acc, int16_t *y) {
  memset(acc, 0, c * sizeof *acc);
  for (size_t p = 0; p < hw; p++)
    for (size_t k = 0; k < c; k++) acc[k] += x[p * c + k];
  const int32_t n = (int32_t)hw;
  for (size_t k = 0; k < c; k++) {
    int32_t a = acc[k] > 0 ? (acc[k] + n / 2) / n : (acc[k] - n / 2) / n;
    y[k] = (int16_t)(a < lo ? lo : a > hi ? hi : a);
  }
}

static bool i16_build(const qkb_net *net, char *err, size_t errlen) {
  const qkb_model *m = net->m;
  const size_t in_n = m->in_h * m->in_w * m->in_c;
  sh.l16 = qkb_case_alloc(m->n * sizeof *sh.l16);
  sh.image16 = qkb_case_aligned((in_n + SLACK) * sizeof(int16_t));
  int32_t *acc = qkb_case_alloc(m->max_tensor * sizeof *acc);
  if (!sh.l16 || !sh.image16 || !acc) return snprintf(err, errlen, "out of memory"), false;
  sh.s_image16 = 1.0f / 32767.0f; /* the image is in [-1, 1] */
  if (qk_ref_quantize(net->image, in_n, sh.s_image16, 0, QK_Q_INT16, sh.image16) != QK_OK)
    return snprintf(err, errlen, "input: %s", qk_last_error()), false;
  for (size_t i = 0; i < m->n; i++) {
    const qkb_layer *L = &m->v[i];
    const qkb_net_layer *N = &net->l[i];
    i16_layer *S = &sh.l16[i];
    const float s_in = s16_of(L->in);
    const int16_t *x = L->in < 0 ? sh.image16 : sh.l16[L->in].ref;
    S->out_n = L->out_h * L->out_w * L->out_c;
    S->ref = qkb_case_aligned((S->out_n + SLACK) * sizeof(int16_t));
    if (!S->ref) return snprintf(err, errlen, "out of memory"), false;
    if (L->kind == QKB_L_GAP) {
      S->s_out = s_in, S->act_min = -32768, S->act_max = 32767;
      gap16(x, L->in_h * L->in_w, L->in_c, S->act_min, S->act_max, acc, S->ref);
      continue;
    }
    /* The int8 layer's real output range, spread over int16. */
    const double lo = (double)N->s_out * (-128 - N->zp_out), hi = (double)N->s_out * (127 - N->zp_out);
    S->s_out = (float)(fmax(fabs(lo), fabs(hi)) / 32767.0);
    if (qk_activation_range(L->relu6 ? QK_ACT_RELU6 : QK_ACT_NONE, S->s_out, 0, -32768, 32767, &S->act_min,
                            &S->act_max) != QK_OK)
      return snprintf(err, errlen, "%s: activation range: %s", L->name, qk_last_error()), false;
    if (L->kind == QKB_L_ADD) {
      const size_t shape[4] = {1, L->in_h, L->in_w, L->in_c};
      if (qk_add_derive(s_in, s16_of(L->in2), S->s_out, 15, QK_ROUND_DOUBLE, &S->add) != QK_OK)
        return snprintf(err, errlen, "%s: %s", L->name, qk_last_error()), false;
      S->add.input1_zp = S->add.input2_zp = S->add.output_zp = 0;
      S->add.act_min = S->act_min, S->add.act_max = S->act_max;
      if (qk_add_i16_check(&S->add) != QK_OK) return snprintf(err, errlen, "%s: %s", L->name, qk_last_error()), false;
      qk_ref_add_i16(&S->add, shape, x, shape, sh.l16[L->in2].ref, S->ref);
      continue;
    }
    const size_t O = L->out_c;
    S->bias = qkb_case_alloc(O * sizeof *S->bias);
    S->mult = qkb_case_alloc(O * sizeof *S->mult);
    S->shift = qkb_case_alloc(O * sizeof *S->shift);
    if (!S->bias || !S->mult || !S->shift) return snprintf(err, errlen, "out of memory"), false;
    const double rescale = (double)N->s_in / (double)s_in; /* int8 bias is in s_in8 * s_w units */
    for (size_t o = 0; o < O; o++) {
      double b = nearbyint((double)N->bias[o] * rescale), bmax = (double)QK_I16X8_BIAS_MAX;
      S->bias[o] = (int64_t)fmin(fmax(b, -bmax), bmax);
    }
    if (qk_multipliers_per_channel(s_in, N->s_w, O, S->s_out, QK_ROUND_DOUBLE, S->mult, S->shift) != QK_OK)
      return snprintf(err, errlen, "%s: multipliers: %s", L->name, qk_last_error()), false;
    qk_status st;
    if (L->kind == QKB_L_FC) {
      S->fc = (qk_fc_i16x8_desc){.in_ch = L->in_c, .out_ch = O, .act_min = S->act_min, .act_max = S->act_max,
                                 .multiplier = S->mult, .shift = S->shift};
      st = qk_fc_i16x8_check(&S->fc, S->bias);
      if (st == QK_OK) qk_ref_fc_i16x8(&S->fc, N->w, S->bias, 1, x, S->ref);
    } else {
      qk_conv2d_geom g;
      S->conv = N->conv;
      S->conv.input_zp = S->conv.output_zp = 0;
      S->conv.act_min = S->act_min, S->conv.act_max = S->act_max;
      S->conv.multiplier = S->mult, S->conv.shift = S->shift;
      const bool dw = L->kind == QKB_L_DW;
      st = (dw ? qk_dwconv2d_i16x8_check : qk_conv2d_i16x8_check)(&S->conv, &g, S->bias);
      if (st == QK_OK) (dw ? qk_ref_dwconv2d_i16x8 : qk_ref_conv2d_i16x8)(&S->conv, &g, x, N->w, S->bias, S->ref);
    }
    if (st != QK_OK) return snprintf(err, errlen, "%s: %s", L->name, qk_last_error()), false;
  }
  return true;
}

static bool f_build(const qkb_net *net, char *err, size_t errlen) {
  const qkb_model *m = net->m;
  sh.lf = qkb_case_alloc(m->n * sizeof *sh.lf);
  if (!sh.lf) return snprintf(err, errlen, "out of memory"), false;
  for (size_t i = 0; i < m->n; i++) {
    const qkb_layer *L = &m->v[i];
    const qkb_net_layer *N = &net->l[i];
    f_layer *F = &sh.lf[i];
    if (L->kind == QKB_L_ADD || L->kind == QKB_L_GAP) continue;
    const size_t O = L->out_c, n = N->w_bytes, K = n / O;
    const bool dw = L->kind == QKB_L_DW;
    F->w_n = n;
    F->w32 = qkb_case_aligned(n * sizeof *F->w32);
    F->w16 = qkb_case_aligned(n * sizeof *F->w16);
    F->w16f = qkb_case_aligned(n * sizeof *F->w16f);
    F->bias = qkb_case_aligned(O * sizeof *F->bias);
    if (!F->w32 || !F->w16 || !F->w16f || !F->bias) return snprintf(err, errlen, "out of memory"), false;
    for (size_t t = 0; t < n; t++) {
      const size_t o = dw ? t % O : t / K;
      F->w32[t] = N->s_w[o] * (float)N->w[t];
      F->w16[t] = qk_f32_to_f16(F->w32[t]);
      F->w16f[t] = qk_f16_to_f32(F->w16[t]);
    }
    for (size_t o = 0; o < O; o++) F->bias[o] = (float)((double)N->s_in * N->s_w[o] * (double)N->bias[o]);
  }
  return true;
}

static bool shared_build(cpath p, const qkb_net *net) {
  bool *tried = p == P_I16X8 ? &sh.i16_tried : &sh.f_tried, *ok = p == P_I16X8 ? &sh.i16_ok : &sh.f_ok;
  char *err = p == P_I16X8 ? sh.i16_err : sh.f_err;
  if (!*tried) {
    *tried = true;
    *ok = p == P_I16X8 ? i16_build(net, err, sizeof sh.i16_err) : f_build(net, err, sizeof sh.f_err);
  }
  return *ok;
}

static bool shared_ready(qkb_state *st, cpath p, const qkb_net *net) {
  if (shared_build(p, net)) return true;
  qkb_skip_with_error(st, p == P_I16X8 ? sh.i16_err : sh.f_err);
  return false;
}

/* ---- one chain per (path, cap) ---------------------------------------------------------------- */

typedef struct p_layer {
  qk_conv2d_i16x8_op *c16;
  const qk_variant *v;
  void *packed;
  qk_conv2d_f32_desc fd;
  qk_conv2d_dynamic_desc dd;
  qk_fc_f32_desc ffc;
  qk_fc_dynamic_desc dfc;
  qk_conv2d_geom g;
  qk_add_f32_params fadd;
  qk_pool_f32_desc fpool;
  bool dyn; /* this layer runs on the dynamic path */
} p_layer;

typedef struct p_chain {
  cpath path;
  qk_isa cap;
  bool tried, ok;
  char err[600], label[600];
  p_layer *l;
  size_t n;
  qk_fc_i16x8_op *fc16;
  void **buf; /* activation slots */
  int *slot_of;
  void *ws;
  int32_t *acc;
  double ops, bytes, max_diff, top1;
  bool same_f32, ref_f32; /* dynamic: the mixed chains' logits are bit-identical (see the top) */
} p_chain;

typedef struct p_case {
  p_chain *ch;
  int layer; /* -1: the total */
} p_case;

static p_chain *chains[P_COUNT][QK_ISA_COUNT];

static void *slot(const p_chain *ch, int tensor) { return ch->buf[ch->slot_of[tensor + 1]]; }

static const char *short_name(const char *v) {
  if (!v) return "-";
  const char *u = strchr(v, '_');
  u = u ? strchr(u + 1, '_') : NULL;
  return u ? u + 1 : v;
}

static qk_status run16(const p_chain *ch, const qkb_net *net, size_t i) {
  const qkb_layer *L = &net->m->v[i];
  const i16_layer *S = &sh.l16[i];
  const int16_t *x = slot(ch, L->in);
  int16_t *y = slot(ch, (int)i);
  switch (L->kind) {
    case QKB_L_CONV:
    case QKB_L_PW:
    case QKB_L_DW:
      return qk_conv2d_i16x8_run(ch->l[i].c16, x, y);
    case QKB_L_ADD: {
      const size_t shape[4] = {1, L->in_h, L->in_w, L->in_c};
      return qk_add_i16(&S->add, shape, x, shape, slot(ch, L->in2), y);
    }
    case QKB_L_GAP:
      gap16(x, L->in_h * L->in_w, L->in_c, S->act_min, S->act_max, ch->acc, y);
      return QK_OK;
    case QKB_L_FC:
      return qk_fc_i16x8_run(ch->fc16, 1, x, y);
    case QKB_L_COUNT:
      break;
  }
  return QK_ERR_PARAM;
}

static const float *ref_weights(cpath p, const f_layer *F) { return p == P_F16W ? F->w16f : F->w32; }

/* Which layers of a float chain run the qk_ref_* kernel instead of the dispatched impl. */
typedef enum ref_mode { REF_NONE, REF_ALL, REF_DYN, REF_F32 } ref_mode;

/* One float layer: the dispatched impl, or the qk_ref_* kernel as mode says for its kind. */
static qk_status runf(const p_chain *ch, const qkb_net *net, size_t i, ref_mode mode) {
  const qkb_layer *L = &net->m->v[i];
  const p_layer *P = &ch->l[i];
  const bool ref = mode == REF_ALL || (mode == REF_DYN && P->dyn) || (mode == REF_F32 && !P->dyn);
  const f_layer *F = &sh.lf[i];
  const float *x = slot(ch, L->in);
  float *y = slot(ch, (int)i);
  switch (L->kind) {
    case QKB_L_CONV:
    case QKB_L_PW:
      if (P->dyn) {
        if (ref) return qk_ref_conv2d_dynamic(&P->dd, &P->g, net->l[i].w, F->bias, x, y);
        ((const qk_conv2d_dynamic_impl *)P->v->impl)->run(&P->dd, &P->g, P->packed, x, y, ch->ws);
      } else {
        if (ref) qk_ref_conv2d_f32(&P->fd, &P->g, x, ref_weights(ch->path, F), F->bias, y);
        else ((const qk_conv2d_float_impl *)P->v->impl)->run(&P->fd, &P->g, P->packed, x, y, ch->ws);
      }
      return QK_OK;
    case QKB_L_DW:
      if (P->dyn) {
        if (ref) return qk_ref_dwconv2d_dynamic(&P->dd, &P->g, net->l[i].w, F->bias, x, y);
        ((const qk_conv2d_dynamic_impl *)P->v->impl)->run(&P->dd, &P->g, P->packed, x, y, ch->ws);
        return QK_OK;
      }
      if (ref) qk_ref_dwconv2d_f32(&P->fd, &P->g, x, ref_weights(ch->path, F), F->bias, y);
      else ((const qk_conv2d_float_impl *)P->v->impl)->run(&P->fd, &P->g, P->packed, x, y, ch->ws);
      return QK_OK;
    case QKB_L_ADD: {
      const size_t shape[4] = {1, L->in_h, L->in_w, L->in_c};
      const float *x2 = slot(ch, L->in2);
      if (ref) qk_ref_add_f32(&P->fadd, shape, x, shape, x2, y);
      else ((const qk_add_f32_impl *)P->v->impl)->run(&P->fadd, shape, x, shape, x2, y);
      return QK_OK;
    }
    case QKB_L_GAP:
      if (ref) qk_ref_avgpool_f32(&P->fpool, &P->g, x, y);
      else ((const qk_pool_f32_impl *)P->v->impl)->run(&P->fpool, &P->g, x, y);
      return QK_OK;
    case QKB_L_FC:
      if (P->dyn) {
        if (ref) return qk_ref_fc_dynamic(&P->dfc, net->l[i].w, F->bias, 1, x, y);
        ((const qk_fc_dynamic_impl *)P->v->impl)->run(&P->dfc, P->packed, 1, x, y, ch->ws);
      } else {
        if (ref) qk_ref_fc_f32(&P->ffc, ref_weights(ch->path, F), F->bias, 1, x, y);
        else ((const qk_fc_float_impl *)P->v->impl)->run(&P->ffc, P->packed, 1, x, y);
      }
      return QK_OK;
    case QKB_L_COUNT:
      break;
  }
  return QK_ERR_PARAM;
}

static qk_status run_layer(const p_chain *ch, const qkb_net *net, size_t i) {
  return ch->path == P_I16X8 ? run16(ch, net, i) : runf(ch, net, i, REF_NONE);
}

/* Bytes per iteration: weights + inputs + output in this path's element sizes. */
static double layer_bytes(cpath p, const qkb_layer *L) {
  const double in = (double)(L->in_h * L->in_w * L->in_c), out = (double)(L->out_h * L->out_w * L->out_c);
  const double taps = (double)(L->kernel * L->kernel), act = p == P_I16X8 ? 2.0 : 4.0;
  double w = 0, ws = p == P_F32 ? 4.0 : p == P_F16W ? 2.0 : 1.0;
  if (L->kind == QKB_L_CONV || L->kind == QKB_L_PW) w = taps * (double)(L->in_c * L->out_c);
  if (L->kind == QKB_L_DW) w = taps * (double)L->out_c;
  if (L->kind == QKB_L_FC) w = (double)(L->in_c * L->out_c);
  return w * ws + act * (in * (L->kind == QKB_L_ADD ? 2 : 1) + out);
}

static bool fail(p_chain *ch, const char *layer, const char *what) {
  snprintf(ch->err, sizeof ch->err, "%s: %s: %s (cap %s)", layer, what, qk_last_error(), qk_isa_name(ch->cap));
  return false;
}

static bool build_i16(p_chain *ch, const qkb_net *net) {
  const qkb_model *m = net->m;
  const char *used[QKB_L_COUNT] = {0};
  used[QKB_L_GAP] = "plain C";
  for (size_t i = 0; i < m->n; i++) {
    const qkb_layer *L = &m->v[i];
    const i16_layer *S = &sh.l16[i];
    const int8_t *w = net->l[i].w;
    qk_status st = QK_OK;
    if (L->kind == QKB_L_CONV || L->kind == QKB_L_PW || L->kind == QKB_L_DW) {
      st = (L->kind == QKB_L_DW ? qk_dwconv2d_i16x8_create : qk_conv2d_i16x8_create)(&S->conv, w, S->bias,
                                                                                       &ch->l[i].c16);
      if (!st) used[L->kind] = qk_conv2d_i16x8_variant(ch->l[i].c16);
    } else if (L->kind == QKB_L_FC) {
      st = ch->fc16 ? QK_ERR_PARAM : qk_fc_i16x8_create(&S->fc, w, S->bias, &ch->fc16);
      if (!st) used[L->kind] = qk_fc_i16x8_variant(ch->fc16);
    } else if (L->kind == QKB_L_ADD) {
      const qk_variant *v = qk_dispatch(QK_OP_ADD, QK_PATH_I16X8);
      if (!v) st = QK_ERR_UNSUPPORTED;
      else used[L->kind] = v->name;
    }
    if (st) return fail(ch, L->name, "create");
  }
  memcpy(slot(ch, -1), sh.image16, m->in_h * m->in_w * m->in_c * sizeof(int16_t));
  for (size_t i = 0; i < m->n; i++) {
    const qkb_layer *L = &m->v[i];
    if (run16(ch, net, i) != QK_OK) return fail(ch, L->name, "run");
    const int16_t *y = slot(ch, (int)i), *want = sh.l16[i].ref;
    for (size_t t = 0; t < sh.l16[i].out_n; t++)
      if (y[t] != want[t]) {
        snprintf(ch->err, sizeof ch->err, "%s (%s) differs from the 16x8 reference at %zu: %d, expected %d (cap %s)",
                 L->name, used[L->kind] ? used[L->kind] : "?", t, y[t], want[t], qk_isa_name(ch->cap));
        return false;
      }
  }
  snprintf(ch->label, sizeof ch->label, "exact; conv=%s pw=%s dw=%s add=%s gap=%s fc=%s", short_name(used[QKB_L_CONV]),
           short_name(used[QKB_L_PW]), short_name(used[QKB_L_DW]), short_name(used[QKB_L_ADD]), used[QKB_L_GAP],
           short_name(used[QKB_L_FC]));
  return true;
}

/* The float chain from the network's image; logits copied to out unless NULL. */
static bool run_chain(p_chain *ch, const qkb_net *net, ref_mode mode, float *out) {
  const qkb_model *m = net->m;
  memcpy(slot(ch, -1), net->image, m->in_h * m->in_w * m->in_c * sizeof(float));
  for (size_t i = 0; i < m->n; i++)
    if (runf(ch, net, i, mode) != QK_OK) return fail(ch, m->v[i].name, mode == REF_NONE ? "run" : "reference");
  if (out) memcpy(out, slot(ch, (int)m->n - 1), m->v[m->n - 1].out_c * sizeof *out);
  return true;
}

static bool build_float(p_chain *ch, const qkb_net *net) {
  const qkb_model *m = net->m;
  const qk_path wpath = ch->path == P_F16W ? QK_PATH_F16W : QK_PATH_F32;
  const char *used[QKB_L_COUNT] = {0};
  size_t ws = 0;
  for (size_t i = 0; i < m->n; i++) {
    const qkb_layer *L = &m->v[i];
    const f_layer *F = &sh.lf[i];
    p_layer *P = &ch->l[i];
    const float amin = L->relu6 ? 0.0f : -INFINITY, amax = L->relu6 ? 6.0f : INFINITY;
    const void *w = ch->path == P_F16W ? (const void *)F->w16 : (const void *)F->w32;
    switch (L->kind) {
      case QKB_L_CONV:
      case QKB_L_PW:
      case QKB_L_DW: {
        const bool dw = L->kind == QKB_L_DW;
        P->fd = (qk_conv2d_f32_desc){.batch = 1, .in_h = L->in_h, .in_w = L->in_w, .in_ch = L->in_c,
                                     .out_ch = L->out_c, .k_h = L->kernel, .k_w = L->kernel, .stride_h = L->stride,
                                     .stride_w = L->stride, .dilation_h = 1, .dilation_w = 1,
                                     .padding = QK_PAD_SAME, .groups = 1, .depth_multiplier = 1,
                                     .act_min = amin, .act_max = amax};
        P->dyn = ch->path == P_DYN;
        if (P->dyn) {
          P->dd = (qk_conv2d_dynamic_desc){.conv = P->fd, .w_scale = net->l[i].s_w, .asymmetric = dw};
          if ((dw ? qk_dwconv2d_dynamic_check : qk_conv2d_dynamic_check)(&P->dd, &P->g) != QK_OK)
            return fail(ch, L->name, "check");
          if (!(P->v = qk_dispatch(dw ? QK_OP_DWCONV2D : QK_OP_CONV2D, QK_PATH_DYNAMIC)))
            return fail(ch, L->name, "dispatch");
          const qk_conv2d_dynamic_impl *im = P->v->impl;
          if (!(P->packed = qkb_case_aligned(im->packed_size(&P->dd)))) return fail(ch, L->name, "out of memory");
          im->pack(&P->dd, net->l[i].w, F->bias, P->packed);
          const size_t s = im->workspace_size(&P->dd, &P->g);
          ws = s > ws ? s : ws;
        } else {
          if ((dw ? qk_dwconv2d_f32_check : qk_conv2d_f32_check)(&P->fd, &P->g) != QK_OK)
            return fail(ch, L->name, "check");
          if (!(P->v = qk_dispatch(dw ? QK_OP_DWCONV2D : QK_OP_CONV2D, wpath))) return fail(ch, L->name, "dispatch");
          const qk_conv2d_float_impl *im = P->v->impl;
          if (!(P->packed = qkb_case_aligned(im->packed_size(&P->fd)))) return fail(ch, L->name, "out of memory");
          im->pack(&P->fd, w, F->bias, P->packed);
          const size_t s = im->workspace_size(&P->fd, &P->g);
          ws = s > ws ? s : ws;
        }
        break;
      }
      case QKB_L_ADD:
        P->fadd = (qk_add_f32_params){.act_min = -INFINITY, .act_max = INFINITY};
        if (qk_add_f32_check(&P->fadd) != QK_OK) return fail(ch, L->name, "check");
        if (!(P->v = qk_dispatch(QK_OP_ADD, QK_PATH_F32))) return fail(ch, L->name, "dispatch");
        break;
      case QKB_L_GAP:
        P->fpool = (qk_pool_f32_desc){.batch = 1, .in_h = L->in_h, .in_w = L->in_w, .channels = L->in_c,
                                      .filter_h = L->in_h, .filter_w = L->in_w, .stride_h = 1, .stride_w = 1,
                                      .padding = QK_PAD_VALID, .act_min = -INFINITY, .act_max = INFINITY};
        if (qk_pool_f32_check(&P->fpool, &P->g) != QK_OK) return fail(ch, L->name, "check");
        if (!(P->v = qk_dispatch(QK_OP_AVGPOOL, QK_PATH_F32))) return fail(ch, L->name, "dispatch");
        break;
      case QKB_L_FC:
        P->dyn = ch->path == P_DYN;
        if (P->dyn) {
          P->dfc = (qk_fc_dynamic_desc){.in_ch = L->in_c, .out_ch = L->out_c, .act_min = -INFINITY,
                                        .act_max = INFINITY, .w_scale = net->l[i].s_w, .asymmetric = false};
          if (qk_fc_dynamic_check(&P->dfc) != QK_OK) return fail(ch, L->name, "check");
          if (!(P->v = qk_dispatch(QK_OP_FC, QK_PATH_DYNAMIC))) return fail(ch, L->name, "dispatch");
          const qk_fc_dynamic_impl *im = P->v->impl;
          if (!(P->packed = qkb_case_aligned(im->packed_size(L->out_c, L->in_c))))
            return fail(ch, L->name, "out of memory");
          im->pack(&P->dfc, net->l[i].w, F->bias, P->packed);
          const size_t s = im->workspace_size(&P->dfc, 1);
          ws = s > ws ? s : ws;
        } else {
          P->ffc = (qk_fc_f32_desc){.in_ch = L->in_c, .out_ch = L->out_c, .act_min = -INFINITY, .act_max = INFINITY};
          if (qk_fc_f32_check(&P->ffc) != QK_OK) return fail(ch, L->name, "check");
          if (!(P->v = qk_dispatch(QK_OP_FC, wpath))) return fail(ch, L->name, "dispatch");
          const qk_fc_float_impl *im = P->v->impl;
          if (!(P->packed = qkb_case_aligned(im->packed_size(L->out_c, L->in_c))))
            return fail(ch, L->name, "out of memory");
          im->pack(&P->ffc, w, F->bias, P->packed);
        }
        break;
      case QKB_L_COUNT:
        break;
    }
    if (!used[L->kind]) used[L->kind] = P->v->name;
  }
  if (ws && !(ch->ws = qkb_case_aligned(ws))) return fail(ch, "workspace", "out of memory");
  /* The reference chain, then (dynamic) the two mixed ones, then the dispatched one; compare the
   * logits. */
  const size_t nl = m->n - 1, O = m->v[nl].out_c;
  float *ref = qkb_case_alloc(O * sizeof *ref), *mixed = qkb_case_alloc(2 * O * sizeof *mixed);
  if (!ref || !mixed) return fail(ch, "logits", "out of memory");
  if (!run_chain(ch, net, REF_ALL, ref)) return false;
  if (ch->path == P_DYN && !(run_chain(ch, net, REF_DYN, mixed) && run_chain(ch, net, REF_F32, mixed + O)))
    return false;
  if (!run_chain(ch, net, REF_NONE, NULL)) return false;
  const float *y = slot(ch, (int)nl);
  size_t top_r = 0, top_y = 0;
  double d = 0;
  for (size_t o = 0; o < O; o++) {
    d = fmax(d, fabs((double)y[o] - (double)ref[o]));
    if (!(fabs((double)y[o] - (double)ref[o]) <= 1e30)) d = INFINITY; /* NaN */
    if (ref[o] > ref[top_r]) top_r = o;
    if (y[o] > y[top_y]) top_y = o;
  }
  ch->max_diff = d, ch->top1 = top_r == top_y;
  if (ch->path == P_F32 && !sh.f32_ref) sh.f32_ref = ref;
  char why[320] = "";
  if (ch->path == P_DYN) {
    ch->same_f32 = memcmp(mixed, y, O * sizeof *y) == 0;
    ch->ref_f32 = memcmp(mixed + O, ref, O * sizeof *ref) == 0;
    snprintf(why, sizeof why, "%s; dynamic layers %s: logits bit-identical %s with qk_ref dynamic on these f32 "
             "kernels, %s with these dynamic kernels on qk_ref f32;",
             d > 0 ? " (the f32 add/gap summation order, amplified by run-time int8 quantization)" : "",
             ch->same_f32 && ch->ref_f32 ? "exact" : "NOT EXACT", ch->same_f32 ? "yes" : "NO",
             ch->ref_f32 ? "yes" : "NO");
  }
  snprintf(ch->label, sizeof ch->label, "logits max|d| %.3g vs qk_ref%s conv=%s pw=%s dw=%s add=%s gap=%s fc=%s", d,
           why[0] ? why : ";", short_name(used[QKB_L_CONV]), short_name(used[QKB_L_PW]), short_name(used[QKB_L_DW]),
           short_name(used[QKB_L_ADD]), short_name(used[QKB_L_GAP]), short_name(used[QKB_L_FC]));
  return true;
}

static bool chain_build(p_chain *ch, const qkb_net *net) {
  const qkb_model *m = net->m;
  const size_t elem = ch->path == P_I16X8 ? 2 : 4;
  ch->n = m->n;
  ch->l = calloc(m->n, sizeof *ch->l);
  ch->slot_of = calloc(m->n + 1, sizeof *ch->slot_of);
  ch->acc = qkb_case_alloc(m->max_tensor * sizeof *ch->acc);
  if (!ch->l || !ch->slot_of || !ch->acc) return fail(ch, "chain", "out of memory");
  const size_t nslots = qkb_model_slots(m, ch->slot_of);
  ch->buf = qkb_case_alloc(nslots * sizeof *ch->buf);
  if (!ch->buf) return fail(ch, "chain", "out of memory");
  for (size_t k = 0; k < nslots; k++)
    if (!(ch->buf[k] = qkb_case_aligned((m->max_tensor + SLACK) * elem))) return fail(ch, "chain", "out of memory");
  for (size_t i = 0; i < m->n; i++) {
    ch->ops += 2.0 * (double)m->v[i].macs;
    ch->bytes += layer_bytes(ch->path, &m->v[i]);
  }
  return ch->path == P_I16X8 ? build_i16(ch, net) : build_float(ch, net);
}

/* Builds the chain on first use and leaves the cap set; false (row skipped, cap reset) on error. */
static bool chain_enter(qkb_state *st, p_chain *ch, const qkb_net **netp) {
  const qkb_net *net = *netp = net_or_skip(st);
  if (!net || !shared_ready(st, ch->path, net)) return false;
  qk_set_isa_cap(ch->cap);
  if (!ch->tried) {
    ch->tried = true;
    ch->ok = chain_build(ch, net);
  }
  if (!ch->ok) {
    qk_set_isa_cap(QK_ISA_COUNT);
    qkb_skip_with_error(st, ch->err);
  }
  return ch->ok;
}

static void bm_total(qkb_state *st, void *user) {
  p_chain *ch = ((const p_case *)user)->ch;
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
  if (ch->path == P_I16X8) {
    qkb_counter(st, "exact", 1.0, QKB_COUNTER_DEFAULT);
  } else {
    qkb_counter(st, "logits_max_diff", ch->max_diff, QKB_COUNTER_DEFAULT);
    qkb_counter(st, "top1_agrees", ch->top1, QKB_COUNTER_DEFAULT);
  }
  if (ch->path == P_DYN) {
    qkb_counter(st, "exact_same_f32", ch->same_f32, QKB_COUNTER_DEFAULT);
    qkb_counter(st, "exact_ref_f32", ch->ref_f32, QKB_COUNTER_DEFAULT);
  }
  qkb_set_label(st, ch->label);
}

/* One layer alone: the chain runs up to it once (its inputs are then the chain's own), then the
 * layer is timed on those buffers; no layer writes a tensor that a later one still reads. */
static void bm_layer(qkb_state *st, void *user) {
  const p_case *c = user;
  p_chain *ch = c->ch;
  const qkb_net *net;
  if (!chain_enter(st, ch, &net)) return;
  const size_t i = (size_t)c->layer;
  unsigned bad = 0;
  for (size_t k = 0; k < i; k++) bad |= (unsigned)run_layer(ch, net, k);
  while (qkb_keep_running(st)) bad |= (unsigned)run_layer(ch, net, i);
  qk_set_isa_cap(QK_ISA_COUNT);
  if (bad) {
    qkb_skip_with_error(st, "the layer failed during timing");
    return;
  }
  const qkb_layer *L = &net->m->v[i];
  qkb_rate_counters(st, 2.0 * (double)L->macs, layer_bytes(ch->path, L));
  qkb_set_label(st, short_name(ch->l[i].v ? ch->l[i].v->name : NULL));
}

bool qkb_register_chain_paths(const qkb_reg *r, char *err, size_t errlen) {
  char name[256], why[256];
  int top = -1; /* the highest cap that runs here: the only one with per-layer rows */
  for (int isa = 0; isa < QK_ISA_COUNT; isa++)
    if (qk_isa_built((qk_isa)isa) && qk_isa_supported((qk_isa)isa) && isa <= (int)qk_isa_cap()) top = isa;
  for (int p = 0; p < P_COUNT; p++)
    for (int isa = 0; isa < QK_ISA_COUNT; isa++) {
      if (!qk_isa_built((qk_isa)isa)) continue;
      const char *cap = qk_isa_name((qk_isa)isa);
      snprintf(name, sizeof name, "%s/%s/total", path_family[p], cap);
      why[0] = 0;
      if (!qk_isa_supported((qk_isa)isa))
        snprintf(why, sizeof why, "skipped: CPU lacks %s", cap);
      else if (isa > (int)qk_isa_cap())
        snprintf(why, sizeof why, "skipped: above the QK_ISA cap (%s)", qk_isa_name(qk_isa_cap()));
      if (why[0]) {
        if (!qkb_register_skip(name, why)) goto oom;
        continue;
      }
      p_chain *ch = chains[p][isa] = calloc(1, sizeof *ch);
      p_case *t = qkb_case_alloc(sizeof *t);
      if (!ch || !t) goto oom;
      ch->path = (cpath)p, ch->cap = (qk_isa)isa;
      *t = (p_case){.ch = ch, .layer = -1};
      if (!qkb_register_row(r, name, bm_total, t, 0)) goto oom;
      if (!r->chain_layers || isa != top || (p != P_F32 && p != P_DYN)) continue;
      for (size_t i = 0; i < r->model->n; i++) {
        p_case *c = qkb_case_alloc(sizeof *c);
        if (!c) goto oom;
        *c = (p_case){.ch = ch, .layer = (int)i};
        snprintf(name, sizeof name, "%s/%s/%s", path_family[p], cap, r->model->v[i].name);
        if (!qkb_register_row(r, name, bm_layer, c, r->layer_min_time)) goto oom;
      }
    }
  return true;
oom:
  snprintf(err, errlen, "cannot register the chain_i16x8 / float chain benchmarks");
  return false;
}

const float *qkb_f32_net_weights(const qkb_net *net, int layer, const float **bias, char *err, size_t errlen) {
  if (!shared_build(P_F32, net)) {
    snprintf(err, errlen, "%s", sh.f_err);
    return NULL;
  }
  *bias = sh.lf[layer].bias;
  return sh.lf[layer].w32;
}

const float *qkb_f32_net_logits(const qkb_net *net) {
  p_chain *ch = chains[P_F32][QK_ISA_SCALAR];
  if (!sh.f32_ref && ch && !ch->tried && shared_build(P_F32, net)) {
    qk_set_isa_cap(QK_ISA_SCALAR);
    ch->tried = true;
    ch->ok = chain_build(ch, net);
    qk_set_isa_cap(QK_ISA_COUNT);
  }
  return sh.f32_ref;
}

const char *qkb_chain_paths_describe(void) {
  return "chain_i16x8/<cap>/total: the same network on the 16x8 path (int16 activations, zero point 0, scales "
         "from the int8 layer's real range over int16; int8 per-channel weights; int64 bias; ReLU6 as [0, q(6)]) "
         "through qk_conv2d_i16x8 / qk_dwconv2d_i16x8 / qk_add_i16 / qk_fc_i16x8, global average pool as a "
         "plain C reduction (no 16x8 avgpool op), exact against the 16x8 reference; chain_f32 / chain_f16w / "
         "chain_dynamic/<cap>/total: the network in float (weights = int8 * scale; f16w: binary16 weights; "
         "dynamic: int8 weights on the dynamic FC / conv / depthwise, add / pool in f32) through the dispatched "
         "impls (packed once, preallocated workspace), logits compared with the qk_ref_* float chain (dynamic: "
         "also with the two mixed chains, qk_ref dynamic layers on this cap's f32 kernels and this cap's dynamic "
         "layers on qk_ref f32 kernels, which must be bit-identical: exact_same_f32, exact_ref_f32); "
         "chain_f32 / chain_dynamic/<cap>/layerNN_<kind> (highest cap that runs only): one layer alone, its "
         "inputs from running the chain up to it";
}

void qkb_chain_paths_shutdown(void) {
  for (int p = 0; p < P_COUNT; p++)
    for (int isa = 0; isa < QK_ISA_COUNT; isa++) {
      p_chain *ch = chains[p][isa];
      if (!ch) continue;
      for (size_t i = 0; ch->l && i < ch->n; i++) qk_conv2d_i16x8_destroy(ch->l[i].c16);
      qk_fc_i16x8_destroy(ch->fc16);
      free(ch->l);
      free(ch->slot_of);
      free(ch);
      chains[p][isa] = NULL;
    }
  memset(&sh, 0, sizeof sh); /* the arrays are case allocations, freed by qkb_cases_free */
}
