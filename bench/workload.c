/* One shape's data and quantization, made once from a fixed seed.
 *
 * Realism: activations are int8 over the whole range with an asymmetric zero point; weights are
 * symmetric per channel (every row reaches +-127, as SymmetricPerChannelQuantization produces);
 * scales are of the size MobileNet-class models have (input ~6/255, weights ~0.003-0.006); the
 * output scale and zero point are chosen the way calibration chooses them, from the observed
 * range of the layer's real-valued outputs on a sample of rows, so the requantized outputs spread
 * over int8 instead of sitting on the clamp. Per-channel multipliers and shifts come from
 * qk_multipliers_per_channel, the library's own TFLite-exact derivation. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qkb_internal.h"

#define X_SLACK 64 /* XNNPACK reads up to XNN_EXTRA_BYTES (16) past its input */

static uint64_t splitmix(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static double uniform01(uint64_t *s) { return (double)(splitmix(s) >> 11) * 0x1.0p-53; }

static uint64_t fnv1a(const char *str) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (; *str; str++) h = (h ^ (unsigned char)*str) * 0x100000001b3ull;
  return h;
}

static void *fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void *fail(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return NULL;
}

static int cmp_float(const void *a, const void *b) {
  const float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

void qkb_workload_destroy(qkb_workload *wl) {
  if (!wl) return;
  free(wl->x);
  free(wl->y);
  free(wl->w);
  free(wl->bias);
  free(wl->s_w);
  free(wl->multiplier);
  free(wl->shift);
  free(wl);
}

qkb_workload *qkb_workload_create(const qkb_shape *s, uint64_t seed, char *err, size_t errlen) {
  const size_t M = s->m, K = s->k, N = s->n;
  size_t mk, mn, nk;
  if (!M || !K || !N || __builtin_mul_overflow(M, K, &mk) || __builtin_mul_overflow(M, N, &mn) ||
      __builtin_mul_overflow(N, K, &nk) || mk > ((size_t)1 << 34) || mn > ((size_t)1 << 34) ||
      nk > ((size_t)1 << 34))
    return fail(err, errlen, "%s: shape too large", s->label);
  qkb_workload *wl = calloc(1, sizeof *wl);
  if (!wl) return fail(err, errlen, "%s: out of memory", s->label);
  wl->shape = s;
  wl->x = malloc(mk + X_SLACK);
  wl->y = malloc(mn);
  wl->w = malloc(nk);
  wl->bias = malloc(N * sizeof(int32_t));
  wl->s_w = malloc(N * sizeof(float));
  wl->multiplier = malloc(N * sizeof(int32_t));
  wl->shift = malloc(N * sizeof(int32_t));
  const size_t rows = M < 32 ? M : 32; /* sampled rows for the output range */
  int64_t *acc = malloc(rows * N * sizeof(int64_t));
  float *real = malloc(rows * N * sizeof(float));
  if (!wl->x || !wl->y || !wl->w || !wl->bias || !wl->s_w || !wl->multiplier || !wl->shift || !acc || !real) {
    free(acc);
    free(real);
    qkb_workload_destroy(wl);
    return fail(err, errlen, "%s: out of memory", s->label);
  }

  uint64_t r = seed ^ fnv1a(s->label);
  for (size_t i = 0; i < mk; i++) wl->x[i] = (int8_t)(splitmix(&r) & 0xff);
  memset(wl->x + mk, 0, X_SLACK);
  memset(wl->y, 0, mn);
  for (size_t o = 0; o < N; o++) {
    int8_t *row = wl->w + o * K;
    for (size_t d = 0; d < K; d++) row[d] = (int8_t)((int)(splitmix(&r) % 255) - 127);
    row[splitmix(&r) % K] = (splitmix(&r) & 1) ? 127 : -127;
    wl->s_w[o] = (float)(0.003 * (1.0 + uniform01(&r))); /* 0.003 .. 0.006 */
  }
  wl->s_in = 6.0f / 255.0f;                               /* a ReLU6 activation's scale */
  const int32_t zp_in = (int32_t)(splitmix(&r) % 64) - 128; /* -128 .. -65 */

  /* Accumulators (no bias) on evenly spaced sample rows; the bias then shifts each channel by up
   * to half the accumulators' standard deviation, like trained biases do. */
  double sum = 0, sum2 = 0;
  for (size_t i = 0; i < rows; i++) {
    const int8_t *xr = wl->x + (i * (M / rows)) * K;
    for (size_t o = 0; o < N; o++) {
      const int8_t *wr = wl->w + o * K;
      int64_t a = 0;
      for (size_t d = 0; d < K; d++) a += (int64_t)(xr[d] - zp_in) * wr[d];
      acc[i * N + o] = a;
      sum += (double)a;
      sum2 += (double)a * (double)a;
    }
  }
  const double cnt = (double)(rows * N);
  const double mean = sum / cnt, sd = sqrt(fmax(sum2 / cnt - mean * mean, 1.0));
  for (size_t o = 0; o < N; o++) {
    const double b = (uniform01(&r) - 0.5) * sd;
    wl->bias[o] = (int32_t)fmax(fmin(b, 1e9), -1e9);
  }
  for (size_t i = 0; i < rows; i++)
    for (size_t o = 0; o < N; o++)
      real[i * N + o] = (float)((double)wl->s_in * wl->s_w[o] * (double)(acc[i * N + o] + wl->bias[o]));
  qsort(real, rows * N, sizeof *real, cmp_float);
  const size_t total = rows * N;
  const float lo = real[(size_t)(0.001 * (double)(total - 1))];
  const float hi = real[(size_t)(0.999 * (double)(total - 1))];
  free(acc);
  free(real);

  int32_t zp_out = 0;
  qk_status st = qk_choose_asymmetric(lo, hi, -128, 127, &wl->s_out, &zp_out);
  if (st == QK_OK)
    st = qk_multipliers_per_channel(wl->s_in, wl->s_w, N, wl->s_out, QK_ROUND_DOUBLE, wl->multiplier,
                                    wl->shift);
  if (st != QK_OK) {
    fail(err, errlen, "%s: quantization parameters: %s", s->label, qk_last_error());
    qkb_workload_destroy(wl);
    return NULL;
  }
  double sw = 0;
  for (size_t o = 0; o < N; o++) sw += wl->s_w[o];
  wl->s_w_tensor = (float)(sw / (double)N);

  wl->desc = (qk_fc_int8_desc){
      .in_ch = K,
      .out_ch = N,
      .input_zp = zp_in,
      .output_zp = zp_out,
      .act_min = -128,
      .act_max = 127,
      .rounding = QK_ROUND_DOUBLE,
      .multiplier = wl->multiplier,
      .shift = wl->shift,
  };
  if (qk_fc_int8_check(&wl->desc) != QK_OK) {
    fail(err, errlen, "%s: descriptor rejected: %s", s->label, qk_last_error());
    qkb_workload_destroy(wl);
    return NULL;
  }
  return wl;
}

double qkb_clamped_fraction(const qkb_workload *wl) {
  const size_t n = wl->shape->m * wl->shape->n;
  size_t c = 0;
  for (size_t i = 0; i < n; i++) c += wl->y[i] == wl->desc.act_min || wl->y[i] == wl->desc.act_max;
  return n ? (double)c / (double)n : 0.0;
}
