/* Exactness cases for the 16x8 path. Beyond the int8 families' tile and tail sweeps, the int64
 * accumulation gets worst cases: every input -32768 against every weight -128 (products of 2^22)
 * with K on both sides of where a SIMD int32 partial sum must be flushed to int64 (2^8, 2^9, ...
 * products), biases at the +-2^40 contract edge, shifts over [-31, 7] and multipliers at and above
 * 0x7FFF0000 (where the reduced multiplier saturates at 0x7FFF). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "op_cases.h"

enum { FC_SWEEP = 130, FC_WORST = 24, FC_RANDOM = 40 };
static const size_t worst_k[] = {255, 256, 257, 511, 512, 513, 1023, 1024, 1025, 2047, 2048, 2049};

size_t i16x8_case_count(const qk_variant *v) {
  switch (v->op) {
    case QK_OP_FC: return FC_SWEEP + FC_WORST + FC_RANDOM;
    case QK_OP_CONV2D:
    case QK_OP_DWCONV2D: return conv_case_count(v);
    case QK_OP_ADD: return eltwise_case_count(v);
    default: return convert_case_count(v);
  }
}

static void requant16(qkc_rng *g, int style, double acc_rms, size_t n, int32_t *m, int32_t *s) {
  for (size_t o = 0; o < n; o++) {
    if (style == 1) {
      s[o] = -31 + (int32_t)(o % 39);
      m[o] = (int32_t[]){0, 1 << 30, 0x7FFF0000, INT32_MAX, 0x7FFEFFFF, qkc_range(g, 1 << 30, INT32_MAX)}[o % 6];
    } else {
      qkc_spread_multiplier(g, acc_rms / 256.0, QK_ROUND_DOUBLE, &m[o], &s[o]); /* outputs spread over int16 */
      if (s[o] > 7) s[o] = 7;
    }
  }
}

static bool fc_case(const qk_variant *v, uint64_t seed, size_t index, qkc_report *r) {
  qkc_rng g = {seed ^ (UINT64_C(0x510E527FADE682D1) * (index + 1))};
  size_t M = v->mr + 1, N = v->nr + 1, K;
  bool worst = false;
  if (index < FC_SWEEP) K = index + 1;
  else if (index < FC_SWEEP + FC_WORST) K = worst_k[(index - FC_SWEEP) % 12], worst = true, N = 2 * v->nr + 1;
  else M = (size_t)qkc_range(&g, 1, 20), N = (size_t)qkc_range(&g, 1, 3 * (int32_t)v->nr + 5), K = (size_t)qkc_range(&g, 1, 700);
  const int style = worst ? (int)(index % 2) : (int)(qkc_next(&g) % 3);
  int32_t lo = -32768, hi = 32767;
  if (qkc_next(&g) % 5 == 0) lo = qkc_range(&g, -32768, 0), hi = lo + qkc_range(&g, 0, 100);
  int32_t *mult = malloc(N * sizeof *mult), *shift = malloc(N * sizeof *shift);
  int16_t *x = qkc_guard_alloc(M * K * 2, 2), *y = qkc_guard_alloc(M * N * 2, 2), *yref = malloc(M * N * 2);
  int8_t *w = qkc_guard_alloc(N * K, 1);
  int64_t *bias = qkc_next(&g) % 4 ? qkc_guard_alloc(N * 8, 8) : NULL;
  const qk_fc_i16x8_impl *impl = v->impl;
  void *packed = qkc_guard_alloc((impl->packed_size(N, K) + 63) & ~(size_t)63, 64);
  char what[200], why[200] = "";
  snprintf(what, sizeof what, "fc M=%zu N=%zu K=%zu %s style %d clamp [%d,%d]", M, N, K, worst ? "worst-case" : "random",
           style, lo, hi);
  bool ok = mult && shift && x && y && yref && w && packed;
  if (ok) {
    for (size_t i = 0; i < M * K; i++) x[i] = worst ? -32768 : (int16_t)qkc_range(&g, -32768, 32767);
    for (size_t i = 0; i < N * K; i++) w[i] = worst ? -128 : (int8_t)qkc_range(&g, -127, 127);
    if (worst && index % 4 == 3)
      for (size_t i = 0; i < M * K; i += 2) x[i] = 32767; /* mixed signs near the bound */
    for (size_t o = 0; bias && o < N; o++)
      bias[o] = style == 1 ? (int64_t[]){QK_I16X8_BIAS_MAX, -QK_I16X8_BIAS_MAX, 0, -1}[o % 4]
                           : (int64_t)qkc_range(&g, -(1 << 30), 1 << 30) * 64;
    requant16(&g, style, 18900.0 * 74.0 * sqrt((double)K), N, mult, shift);
    const qk_fc_i16x8_desc d = {.in_ch = K, .out_ch = N, .act_min = lo, .act_max = hi, .multiplier = mult, .shift = shift};
    if (qk_fc_i16x8_check(&d, bias) != QK_OK) {
      ok = false;
      snprintf(why, sizeof why, "generator produced an invalid case: %s", qk_last_error());
    } else {
      qk_ref_fc_i16x8(&d, w, bias, M, x, yref);
      impl->pack(&d, w, bias, packed);
      impl->run(&d, packed, M, x, y);
      ok = memcmp(y, yref, M * N * 2) == 0;
      for (size_t i = 0; !ok && i < M * N; i++)
        if (y[i] != yref[i]) {
          snprintf(why, sizeof why, "first mismatch at [b=%zu, o=%zu]: expected %d, got %d", i / N, i % N, yref[i], y[i]);
          break;
        }
      if (ok && (!qkc_guard_intact(y) || !qkc_guard_intact(packed)))
        ok = false, snprintf(why, sizeof why, "write before the start of a buffer");
    }
  } else {
    snprintf(why, sizeof why, "out of memory");
  }
  qkc_record(r, v, seed, index, ok, what, why);
  qkc_guard_free(x), qkc_guard_free(y), qkc_guard_free(w), qkc_guard_free(packed);
  if (bias) qkc_guard_free(bias);
  free(mult), free(shift), free(yref);
  return ok;
}

bool i16x8_run_case(const qk_variant *v, uint64_t seed, size_t index, qkc_report *r) {
  switch (v->op) {
    case QK_OP_FC: return fc_case(v, seed, index, r);
    case QK_OP_CONV2D:
    case QK_OP_DWCONV2D: return conv_run_case(v, seed, index, r);
    case QK_OP_ADD: return eltwise_run_case(v, seed, index, r);
    default: return convert_run_case(v, seed, index, r);
  }
}
