/* Materializes one int8 FC case from (seed, index), runs the variant on guarded buffers and
 * compares with the reference bit for bit. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fc_int8_cases.h"

static const char *mult_name[] = {"spread", "all-shifts", "ties", "saturate"};
static const char *data_name[] = {"random", "extreme", "small", "all-min"};

static int8_t draw_int8(qkc_rng *g, fc_data d) {
  static const int8_t extremes[] = {-128, -127, -1, 0, 1, 126, 127};
  switch (d) {
    case FC_DATA_EXTREME: return extremes[qkc_next(g) % 7];
    case FC_DATA_SMALL: return (int8_t)qkc_range(g, -3, 3);
    case FC_DATA_ALL_MIN: return -128;
    default: return (int8_t)qkc_range(g, -128, 127);
  }
}

static void fill_requant(qkc_rng *g, const fc_case *c, int32_t *m, int32_t *sh) {
  const double rms_x = c->data == FC_DATA_SMALL ? 2.0 + fabs((double)c->zp_in) : 74.0 + fabs((double)c->zp_in) * 0.7;
  const double rms_w = c->data == FC_DATA_SMALL ? 2.0 : 74.0;
  for (size_t o = 0; o < c->N; o++) {
    switch (c->mult) {
      case FC_MULT_SPREAD: {
        const double jitter = 0.5 + 1.0 * (double)(qkc_next(g) >> 11) / 9007199254740992.0;
        const double real = 30.0 * jitter / (rms_w * rms_x * sqrt((double)c->K));
        int s;
        qk_quantize_multiplier(real, c->rounding, &m[o], &s);
        sh[o] = s < QK_SHIFT_MIN ? QK_SHIFT_MIN : s;
        break;
      }
      case FC_MULT_ALL_SHIFTS: {
        sh[o] = QK_SHIFT_MIN + (int32_t)(o % (QK_SHIFT_MAX - QK_SHIFT_MIN + 1));
        const int32_t pick[] = {0, INT32_C(1) << 30, INT32_MAX, (INT32_C(1) << 30) + 1,
                                qkc_range(g, INT32_C(1) << 30, INT32_MAX)};
        m[o] = pick[(o / 62 + o) % 5];
        break;
      }
      case FC_MULT_TIES:
        m[o] = INT32_C(1) << 30;
        sh[o] = qkc_range(g, -3, 1);
        break;
      case FC_MULT_SATURATE:
        m[o] = qkc_range(g, INT32_C(1) << 30, INT32_MAX);
        sh[o] = qkc_range(g, 2, QK_SHIFT_MAX);
        break;
    }
  }
}

bool fc_int8_run_case(const qk_variant *v, const fc_case *c0, uint64_t seed, size_t index,
                      qkc_report *r) {
  qkc_rng g = {seed ^ (UINT64_C(0xD1B54A32D192ED03) * (index + 1))};
  fc_case c = *c0;
  if (c.random_shape) {
    c.M = (size_t)qkc_range(&g, 1, 40);
    c.N = (size_t)qkc_range(&g, 1, (int32_t)c.max_n);
    c.K = (size_t)qkc_range(&g, 1, 300);
    c.rounding = (qk_rounding)qkc_range(&g, 0, 1);
    if (qkc_next(&g) % 4 == 0) c.mult = FC_MULT_ALL_SHIFTS;
    if (qkc_next(&g) % 4 == 0) c.data = FC_DATA_EXTREME;
    if (qkc_next(&g) % 4 == 0) c.bias = FC_BIAS_NONE;
  }
  if (c.zp_in == FC_RANDOM_ZP) c.zp_in = qkc_range(&g, -128, 127);
  /* Random output zero points stay off the type's ends so spread cases are not half clamped;
   * the ends have their own adversarial cases. */
  if (c.zp_out == FC_RANDOM_ZP) c.zp_out = qkc_range(&g, -96, 95);
  if (c.act_min == FC_RANDOM_ZP) c.act_min = c.act_max = qkc_range(&g, -128, 127);
  if (c.act_min == FC_CLAMP_RELU) c.act_min = c.zp_out;

  const size_t M = c.M, N = c.N, K = c.K;
  int8_t *w = qkc_guard_alloc(N * K, 1), *x = qkc_guard_alloc(M * K, 1), *y = qkc_guard_alloc(M * N, 1);
  int32_t *bias = c.bias == FC_BIAS_NONE ? NULL : qkc_guard_alloc(N * sizeof(int32_t), 4);
  int32_t *mult = malloc(N * sizeof *mult), *shift = malloc(N * sizeof *shift);
  int8_t *yref = malloc(M * N), *wcopy = malloc(N * K), *xcopy = malloc(M * K);
  const qk_fc_int8_impl *impl = v->impl;
  const size_t psize = (impl->packed_size(N, K) + 63) & ~(size_t)63;
  void *packed = qkc_guard_alloc(psize, 64);
  if (!w || !x || !y || (c.bias != FC_BIAS_NONE && !bias) || !mult || !shift || !yref || !wcopy ||
      !xcopy || !packed) {
    snprintf(r->first_failure, sizeof r->first_failure, "%s case %zu: out of memory", v->name, index);
    r->cases++, r->failed++;
    return false;
  }
  for (size_t i = 0; i < N * K; i++) w[i] = draw_int8(&g, c.data);
  for (size_t i = 0; i < M * K; i++) x[i] = draw_int8(&g, c.data);
  const int32_t bias_span = (int32_t)fmin(74.0 * 100.0 * sqrt((double)K), 1e9);
  static const int32_t bias_extremes[] = {INT32_MIN, INT32_MAX, -1, 0, 1};
  for (size_t o = 0; bias && o < N; o++)
    bias[o] = c.bias == FC_BIAS_EXTREME ? bias_extremes[qkc_next(&g) % 5] : qkc_range(&g, -bias_span, bias_span);
  fill_requant(&g, &c, mult, shift);
  memcpy(wcopy, w, N * K);
  memcpy(xcopy, x, M * K);

  const qk_fc_int8_desc d = {.in_ch = K, .out_ch = N, .input_zp = c.zp_in, .output_zp = c.zp_out,
                             .act_min = c.act_min, .act_max = c.act_max, .rounding = c.rounding,
                             .multiplier = mult, .shift = shift};
  bool ok = qk_fc_int8_check(&d) == QK_OK;
  char why[160] = "";
  if (!ok) snprintf(why, sizeof why, "generator produced an invalid descriptor: %s", qk_last_error());
  if (ok) {
    qk_ref_fc_int8(&d, w, bias, M, x, yref);
    impl->pack(&d, w, bias, packed);
    impl->run(&d, packed, M, x, y);
    size_t bad = SIZE_MAX;
    for (size_t i = 0; i < M * N && bad == SIZE_MAX; i++)
      if (y[i] != yref[i]) bad = i;
    if (bad != SIZE_MAX) {
      ok = false;
      snprintf(why, sizeof why, "first mismatch at [b=%zu, o=%zu]: expected %d, got %d", bad / N,
               bad % N, yref[bad], y[bad]);
    } else if (memcmp(w, wcopy, N * K) || memcmp(x, xcopy, M * K)) {
      ok = false;
      snprintf(why, sizeof why, "the variant modified its input or weights");
    } else if (!qkc_guard_intact(y) || !qkc_guard_intact(packed) || !qkc_guard_intact(x) ||
               !qkc_guard_intact(w)) {
      ok = false;
      snprintf(why, sizeof why, "write before the start of a buffer (canary damaged)");
    }
  }
  r->cases++;
  if (ok) {
    size_t clamped = 0;
    for (size_t i = 0; i < M * N; i++) clamped += yref[i] == c.act_min || yref[i] == c.act_max;
    const bool spread_case = c.mult == FC_MULT_SPREAD && c.data == FC_DATA_RANDOM &&
                             c.act_min == -128 && c.act_max == 127 && M * N >= 16 && N >= 8 &&
                             c.zp_out >= -96 && c.zp_out <= 95;
    if (spread_case && clamped * 2 > M * N) {
      r->mistrusted++;
      if (!r->first_mistrusted[0])
        snprintf(r->first_mistrusted, sizeof r->first_mistrusted,
                 "%s case %zu (M=%zu N=%zu K=%zu zp_in=%d zp_out=%d): %zu of %zu outputs clamped",
                 v->name, index, M, N, K, c.zp_in, c.zp_out, clamped, M * N);
    }
    else r->passed++;
  } else {
    r->failed++;
    if (!r->first_failure[0])
      snprintf(r->first_failure, sizeof r->first_failure,
               "%s case %zu (M=%zu N=%zu K=%zu zp_in=%d zp_out=%d clamp=[%d,%d] %s rounding, "
               "multipliers %s, data %s, bias %s): %s; replay: qkbench verify --variant %s "
               "--seed %" PRIu64 " --case %zu",
               v->name, index, M, N, K, c.zp_in, c.zp_out, c.act_min, c.act_max,
               c.rounding == QK_ROUND_SINGLE ? "single" : "double", mult_name[c.mult],
               data_name[c.data], bias ? "yes" : "none", why, v->name, seed, index);
  }
  qkc_guard_free(w), qkc_guard_free(x), qkc_guard_free(y), qkc_guard_free(packed);
  if (bias) qkc_guard_free(bias);
  free(mult), free(shift), free(yref), free(wcopy), free(xcopy);
  return ok;
}
