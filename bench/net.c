/* A synthetic int8 network over the model graph, built once (lazily) from the seed.
 *
 * Weights are random int8, symmetric per output channel (each channel reaching +-127); the float
 * scales are then chosen the way batch-norm folding and calibration leave a trained network:
 * a layer's input is the previous layer's real (reference) output, each channel's weight scale
 * makes its pre-activation standard deviation 0.5..1.5, its bias centres it (ReLU6 layers a little
 * positive), and the output scale and zero point come from the observed 0.1% / 99.9% range of the
 * layer's real outputs (ReLU6 applied), so activations spread over int8 without saturating. The
 * classifier is per-tensor (TFLite's default for fully connected). Running the network through
 * the reference kernels gives every layer's expected output, kept for the per-op benchmarks'
 * inputs and the chains' exactness check. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qkb_model.h"

#define SLACK 64         /* XNNPACK reads up to XNN_EXTRA_BYTES past an input */
#define SAMPLE_PIXELS 256 /* output pixels sampled for calibration */

static struct {
  const qkb_model *m;
  uint64_t seed;
  qkb_net *net;
  bool tried;
  char err[512];
} g;

static bool fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return false;
}

static uint64_t splitmix(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static double uniform(uint64_t *s, double lo, double hi) {
  return lo + (hi - lo) * (double)(splitmix(s) >> 11) * 0x1.0p-53;
}

static int cmp_float(const void *a, const void *b) {
  const float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

void qkb_net_configure(const qkb_model *m, uint64_t seed) {
  g.m = m;
  g.seed = seed;
}

const int8_t *qkb_net_tensor(const qkb_net *n, int id) { return id < 0 ? n->qimage : n->l[id].out; }

static float tensor_scale(const qkb_net *n, int id) { return id < 0 ? n->s_image : n->l[id].s_out; }
static int32_t tensor_zp(const qkb_net *n, int id) { return id < 0 ? n->zp_image : n->l[id].zp_out; }

/* Output scale and zero point from the 0.1% / 99.9% quantiles of the real outputs (sorted here). */
static bool choose_output(float *real, size_t cnt, qkb_net_layer *N, char *err, size_t errlen, const char *name) {
  qsort(real, cnt, sizeof *real, cmp_float);
  float lo = real[(size_t)(0.001 * (double)(cnt - 1))], hi = real[(size_t)(0.999 * (double)(cnt - 1))];
  if (hi - lo < 1e-3f) hi = lo + 1.0f;
  if (qk_choose_asymmetric(lo, hi, -128, 127, &N->s_out, &N->zp_out) != QK_OK)
    return fail(err, errlen, "%s: output range [%g, %g]: %s", name, lo, hi, qk_last_error());
  return true;
}

/* Outputs on the clamp; for ReLU6 layers only the top (the bottom is real 0, not saturation). */
static void count_saturated(qkb_net_layer *N, bool relu6, int32_t lo, int32_t hi, size_t n) {
  size_t c = 0;
  for (size_t i = 0; i < n; i++) c += (!relu6 && N->out[i] == lo) || N->out[i] == hi;
  N->saturated = n ? (double)c / (double)n : 0.0;
}

/* Conv, pointwise, depthwise and fc: weights, calibrated scales, the reference output. */
static bool build_weighted(qkb_net *n, int i, uint64_t *rng, char *err, size_t errlen) {
  const qkb_layer *L = &n->m->v[i];
  qkb_net_layer *N = &n->l[i];
  const bool dw = L->kind == QKB_L_DW, fc = L->kind == QKB_L_FC;
  const size_t C = L->in_c, O = L->out_c, k = fc ? 1 : L->kernel, taps = k * k, K = dw ? taps : taps * C;
  const int8_t *x = qkb_net_tensor(n, L->in);
  N->w_bytes = O * K;
  N->w = malloc(O * K);
  N->bias = malloc(O * sizeof *N->bias);
  N->s_w = malloc(O * sizeof *N->s_w);
  N->mult = calloc(O, sizeof *N->mult);
  N->shift = calloc(O, sizeof *N->shift);
  if (!N->w || !N->bias || !N->s_w || !N->mult || !N->shift) return fail(err, errlen, "%s: out of memory", L->name);
  for (size_t o = 0; o < O; o++) {
    for (size_t j = 0; j < K; j++) N->w[dw ? j * O + o : o * K + j] = (int8_t)((int)(splitmix(rng) % 255) - 127);
    const size_t j = splitmix(rng) % K;
    N->w[dw ? j * O + o : o * K + j] = (splitmix(rng) & 1) ? 127 : -127;
  }
  qk_conv2d_geom geom = {.out_h = 1, .out_w = 1};
  if (!fc) {
    N->conv = (qk_conv2d_int8_desc){
        .batch = 1, .in_h = L->in_h, .in_w = L->in_w, .in_ch = C, .out_ch = O, .k_h = k, .k_w = k,
        .stride_h = L->stride, .stride_w = L->stride, .dilation_h = 1, .dilation_w = 1,
        .padding = QK_PAD_SAME, .groups = 1, .depth_multiplier = 1, .input_zp = N->zp_in,
        .rounding = QK_ROUND_DOUBLE, .act_min = -128, .act_max = 127, .multiplier = N->mult, .shift = N->shift};
    if ((dw ? qk_dwconv2d_int8_check : qk_conv2d_int8_check)(&N->conv, &geom) != QK_OK)
      return fail(err, errlen, "%s: %s", L->name, qk_last_error());
  }
  /* Accumulators (no bias) on evenly spaced output pixels. */
  const size_t P = geom.out_h * geom.out_w, S = P < SAMPLE_PIXELS ? P : SAMPLE_PIXELS;
  int64_t *acc = malloc(S * O * sizeof *acc);
  float *real = malloc(S * O * sizeof *real);
  double *mean = calloc(O, sizeof *mean), *sd = calloc(O, sizeof *sd);
  if (!acc || !real || !mean || !sd) {
    free(acc), free(real), free(mean), free(sd);
    return fail(err, errlen, "%s: out of memory", L->name);
  }
  for (size_t s = 0; s < S; s++) {
    const size_t p = s * P / S, oy = p / geom.out_w, ox = p % geom.out_w;
    for (size_t o = 0; o < O; o++) {
      int64_t a = 0;
      for (size_t ky = 0; ky < k; ky++)
        for (size_t kx = 0; kx < k; kx++) {
          const long iy = (long)(oy * L->stride + ky) - (long)geom.pad_top;
          const long ix = (long)(ox * L->stride + kx) - (long)geom.pad_left;
          if (iy < 0 || ix < 0 || iy >= (long)L->in_h || ix >= (long)L->in_w) continue;
          const int8_t *px = x + ((size_t)iy * L->in_w + (size_t)ix) * C;
          if (dw)
            a += (int64_t)(px[o] - N->zp_in) * N->w[(ky * k + kx) * O + o];
          else
            for (size_t c = 0; c < C; c++) a += (int64_t)(px[c] - N->zp_in) * N->w[o * K + (ky * k + kx) * C + c];
        }
      acc[s * O + o] = a;
    }
  }
  /* Per-channel statistics; with few pixels (fc) one set over the whole layer. */
  const bool per_channel = S >= 16 && !fc;
  double lm = 0, l2 = 0;
  for (size_t t = 0; t < S * O; t++) lm += (double)acc[t], l2 += (double)acc[t] * (double)acc[t];
  lm /= (double)(S * O);
  const double lsd = sqrt(fmax(l2 / (double)(S * O) - lm * lm, 1.0));
  for (size_t o = 0; o < O; o++) {
    if (!per_channel) {
      mean[o] = lm, sd[o] = lsd;
      continue;
    }
    double s1 = 0, s2 = 0;
    for (size_t s = 0; s < S; s++) s1 += (double)acc[s * O + o], s2 += (double)acc[s * O + o] * (double)acc[s * O + o];
    mean[o] = s1 / (double)S;
    sd[o] = sqrt(fmax(s2 / (double)S - mean[o] * mean[o], 1.0));
  }
  const double gain_fc = uniform(rng, 2.0, 3.0); /* logits spread wider */
  for (size_t o = 0; o < O; o++) {
    const double gain = fc ? gain_fc : uniform(rng, 0.5, 1.5);
    const double shift = L->relu6 ? uniform(rng, -0.5, 1.0) : uniform(rng, -0.5, 0.5);
    N->s_w[o] = (float)(gain / ((double)N->s_in * (fc ? lsd : sd[o])));
    if (fc && o) N->s_w[o] = N->s_w[0];
    N->bias[o] = (int32_t)lround(fmax(fmin(-mean[o] + shift * sd[o], 1e9), -1e9));
  }
  for (size_t t = 0; t < S * O; t++) {
    const size_t o = t % O;
    double r = (double)N->s_in * N->s_w[o] * (double)(acc[t] + N->bias[o]);
    if (L->relu6) r = fmin(fmax(r, 0.0), 6.0);
    real[t] = (float)r;
  }
  bool ok = choose_output(real, S * O, N, err, errlen, L->name);
  free(acc), free(real), free(mean), free(sd);
  if (!ok) return false;
  int32_t lo = -128, hi = 127;
  qk_status st = qk_activation_range(L->relu6 ? QK_ACT_RELU6 : QK_ACT_NONE, N->s_out, N->zp_out, -128, 127, &lo, &hi);
  if (st == QK_OK && fc) {
    int32_t m1;
    int sh;
    st = qk_multiplier_per_tensor_fc(N->s_in, N->s_w[0], N->s_out, QK_ROUND_DOUBLE, &m1, &sh);
    for (size_t o = 0; st == QK_OK && o < O; o++) N->mult[o] = m1, N->shift[o] = sh;
  } else if (st == QK_OK) {
    st = qk_multipliers_per_channel(N->s_in, N->s_w, O, N->s_out, QK_ROUND_DOUBLE, N->mult, N->shift);
  }
  if (st != QK_OK) return fail(err, errlen, "%s: quantization: %s", L->name, qk_last_error());
  N->out_bytes = geom.out_h * geom.out_w * O;
  N->out = calloc(1, N->out_bytes + SLACK);
  if (!N->out) return fail(err, errlen, "%s: out of memory", L->name);
  if (fc) {
    N->fc = (qk_fc_int8_desc){.in_ch = C, .out_ch = O, .input_zp = N->zp_in, .output_zp = N->zp_out, .act_min = lo,
                              .act_max = hi, .rounding = QK_ROUND_DOUBLE, .multiplier = N->mult, .shift = N->shift};
    if (qk_fc_int8_check(&N->fc) != QK_OK) return fail(err, errlen, "%s: %s", L->name, qk_last_error());
    qk_ref_fc_int8(&N->fc, N->w, N->bias, 1, x, N->out);
  } else {
    N->conv.output_zp = N->zp_out, N->conv.act_min = lo, N->conv.act_max = hi;
    if ((dw ? qk_dwconv2d_int8_check : qk_conv2d_int8_check)(&N->conv, &geom) != QK_OK)
      return fail(err, errlen, "%s: %s", L->name, qk_last_error());
    (dw ? qk_ref_dwconv2d_int8 : qk_ref_conv2d_int8)(&N->conv, &geom, x, N->w, N->bias, N->out);
  }
  count_saturated(N, L->relu6, lo, hi, N->out_bytes);
  return true;
}

static bool build_add(qkb_net *n, int i, char *err, size_t errlen) {
  const qkb_layer *L = &n->m->v[i];
  qkb_net_layer *N = &n->l[i];
  const size_t cnt = L->in_h * L->in_w * L->in_c;
  const int8_t *x1 = qkb_net_tensor(n, L->in), *x2 = qkb_net_tensor(n, L->in2);
  float *real = malloc(cnt * sizeof *real);
  N->out_bytes = cnt;
  N->out = calloc(1, cnt + SLACK);
  if (!real || !N->out) {
    free(real);
    return fail(err, errlen, "%s: out of memory", L->name);
  }
  for (size_t t = 0; t < cnt; t++)
    real[t] = N->s_in * (float)(x1[t] - N->zp_in) + N->s_in2 * (float)(x2[t] - N->zp_in2);
  bool ok = choose_output(real, cnt, N, err, errlen, L->name);
  free(real);
  if (!ok) return false;
  if (qk_add_derive(N->s_in, N->s_in2, N->s_out, 20, QK_ROUND_DOUBLE, &N->add) != QK_OK)
    return fail(err, errlen, "%s: %s", L->name, qk_last_error());
  N->add.input1_zp = N->zp_in, N->add.input2_zp = N->zp_in2, N->add.output_zp = N->zp_out;
  N->add.act_min = -128, N->add.act_max = 127;
  if (qk_add_int8_check(&N->add) != QK_OK) return fail(err, errlen, "%s: %s", L->name, qk_last_error());
  const size_t shape[4] = {1, L->in_h, L->in_w, L->in_c};
  qk_ref_add_int8(&N->add, shape, x1, shape, x2, N->out);
  count_saturated(N, false, -128, 127, cnt);
  return true;
}

static bool build_gap(qkb_net *n, int i, char *err, size_t errlen) {
  const qkb_layer *L = &n->m->v[i];
  qkb_net_layer *N = &n->l[i];
  N->s_out = N->s_in, N->zp_out = N->zp_in; /* the average of raw codes keeps scale and zero point */
  N->pool = (qk_pool_int8_desc){.batch = 1, .in_h = L->in_h, .in_w = L->in_w, .channels = L->in_c,
                                .filter_h = L->in_h, .filter_w = L->in_w, .stride_h = 1, .stride_w = 1,
                                .padding = QK_PAD_VALID, .act_min = -128, .act_max = 127};
  qk_conv2d_geom geom;
  if (qk_pool_int8_check(&N->pool, &geom) != QK_OK) return fail(err, errlen, "%s: %s", L->name, qk_last_error());
  N->out_bytes = L->in_c;
  N->out = calloc(1, L->in_c + SLACK);
  if (!N->out) return fail(err, errlen, "%s: out of memory", L->name);
  qk_ref_avgpool_int8(&N->pool, &geom, qkb_net_tensor(n, L->in), N->out);
  count_saturated(N, false, -128, 127, L->in_c);
  return true;
}

static void net_free(qkb_net *n) {
  if (!n) return;
  if (n->l)
    for (size_t i = 0; i < n->m->n; i++) {
      qkb_net_layer *N = &n->l[i];
      free(N->w), free(N->bias), free(N->s_w), free(N->mult), free(N->shift), free(N->out);
    }
  free(n->l), free(n->image), free(n->qimage), free(n->logits);
  free(n);
}

static qkb_net *build(char *err, size_t errlen) {
  const qkb_model *m = g.m;
  if (!m) {
    fail(err, errlen, "no model configured");
    return NULL;
  }
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  qkb_net *n = calloc(1, sizeof *n);
  const size_t in_n = m->in_h * m->in_w * m->in_c;
  if (n) {
    n->m = m;
    n->l = calloc(m->n, sizeof *n->l);
    n->image = malloc(in_n * sizeof *n->image);
    n->qimage = calloc(1, in_n + SLACK);
    n->logits = malloc(m->v[m->n - 1].out_c * sizeof *n->logits);
  }
  if (!n || !n->l || !n->image || !n->qimage || !n->logits) {
    net_free(n);
    fail(err, errlen, "out of memory for the network");
    return NULL;
  }
  uint64_t rng = g.seed ^ 0x6d6e7632636861ull; /* "mnv2cha" */
  /* A smooth synthetic image in [-1, 1] with some noise, quantized as TFLite's input layer. */
  for (size_t y = 0; y < m->in_h; y++)
    for (size_t x = 0; x < m->in_w; x++)
      for (size_t c = 0; c < m->in_c; c++) {
        double v = 0.6 * sin(0.05 * (double)x + 0.07 * (double)y + (double)c) +
                   0.3 * cos(0.11 * (double)y - 0.03 * (double)x * (double)(c + 1)) + uniform(&rng, -0.15, 0.15);
        n->image[(y * m->in_w + x) * m->in_c + c] = (float)fmin(fmax(v, -1.0), 1.0);
      }
  bool ok = qk_choose_asymmetric(-1.0f, 1.0f, -128, 127, &n->s_image, &n->zp_image) == QK_OK &&
            qk_ref_quantize(n->image, in_n, n->s_image, n->zp_image, QK_Q_INT8, n->qimage) == QK_OK;
  if (!ok) fail(err, errlen, "input quantization: %s", qk_last_error());
  for (size_t i = 0; ok && i < m->n; i++) {
    const qkb_layer *L = &m->v[i];
    qkb_net_layer *N = &n->l[i];
    N->s_in = tensor_scale(n, L->in), N->zp_in = tensor_zp(n, L->in);
    if (L->kind == QKB_L_ADD) N->s_in2 = tensor_scale(n, L->in2), N->zp_in2 = tensor_zp(n, L->in2);
    if (L->kind == QKB_L_ADD)
      ok = build_add(n, (int)i, err, errlen);
    else if (L->kind == QKB_L_GAP)
      ok = build_gap(n, (int)i, err, errlen);
    else
      ok = build_weighted(n, (int)i, &rng, err, errlen);
  }
  if (ok) {
    const qkb_net_layer *F = &n->l[m->n - 1];
    ok = qk_ref_dequantize(F->out, F->out_bytes, QK_Q_INT8, F->s_out, F->zp_out, n->logits) == QK_OK;
    if (!ok) fail(err, errlen, "logits: %s", qk_last_error());
  }
  if (!ok) {
    net_free(n);
    return NULL;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  n->build_seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
  return n;
}

const qkb_net *qkb_net_get(char *err, size_t errlen) {
  if (!g.tried) {
    g.tried = true;
    g.net = build(g.err, sizeof g.err);
  }
  if (!g.net) fail(err, errlen, "synthetic network: %s", g.err);
  return g.net;
}

void qkb_net_shutdown(void) {
  net_free(g.net);
  g.net = NULL;
  g.tried = false;
}
