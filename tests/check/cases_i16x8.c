/* Exactness cases for the 16x8 path. Beyond the int8 families' tile and tail sweeps, the int64
 * accumulation gets worst cases: every input -32768 against every weight -128 (products of 2^22)
 * with K on both sides of where a SIMD int32 partial sum must be flushed to int64 (2^8, 2^9, ...
 * products), biases at the +-2^40 contract edge, shifts over [-31, 7] and multipliers at and above
 * 0x7FFF0000 (where the reduced multiplier saturates at 0x7FFF). Depthwise adds, to the shared
 * conv cases, kernels whose tap count crosses the int32 bound of 511 taps (all-worst and mixed),
 * and the tile's channel tails with depth multipliers 2 and 3, strides, dilation and padding. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "op_cases.h"

enum { FC_SWEEP = 130, FC_WORST = 24, FC_RANDOM = 40 };
/* Depthwise, beyond the shared conv cases: the int32 flush bound and the tile's tails. */
enum { DW_FLUSH = 2 * 12, DW_TILE = 16 };
static const size_t worst_k[] = {255, 256, 257, 511, 512, 513, 1023, 1024, 1025, 2047, 2048, 2049};

size_t i16x8_case_count(const qk_variant *v) {
  switch (v->op) {
    case QK_OP_FC: return FC_SWEEP + FC_WORST + FC_RANDOM;
    case QK_OP_CONV2D: return conv_case_count(v);
    case QK_OP_DWCONV2D: return conv_case_count(v) + DW_FLUSH + DW_TILE;
    case QK_OP_ADD: return eltwise_case_count(v);
    case QK_OP_ADD_POT: return add_pot_case_count(v);
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

/* Kernel sizes whose tap count sits below, at and above the lengths that matter to an int32 sum
 * of products |x w| <= 2^22 (one per dword per tap in the x86 and NEON depthwise variants):
 * 511 taps fit (511 * 2^22 < 2^31), 512 all-worst taps reach +2^31 and would wrap; 256 is the
 * widening path's chunk (i16x8_dw_pack.h), 16x16 and 17x17 its square neighbours; 1024 / 1025
 * take four or five chunks; 1 x 512 is a one-row kernel over the bound. */
static const size_t dw_flush_k[12][2] = {{16, 16}, {17, 17}, {22, 22}, {7, 73}, {16, 32}, {19, 27},
                                         {23, 23}, {32, 32}, {41, 25}, {1, 511}, {1, 512}, {2, 257}};

static bool dw_case(const qk_variant *v, uint64_t seed, size_t index, qkc_report *r) {
  qkc_rng g = {seed ^ (UINT64_C(0x9B05688C2B3E6C1F) * (index + 1))};
  const size_t nr = v->nr, j = index - conv_case_count(v);
  qk_conv2d_int8_desc d = {.batch = 1, .stride_h = 1, .stride_w = 1, .dilation_h = 1, .dilation_w = 1,
                           .padding = QK_PAD_VALID, .groups = 1, .depth_multiplier = 1, .act_min = -32768,
                           .act_max = 32767};
  bool worst = false;
  if (j < DW_FLUSH) {
    /* Every tap in the image (VALID, one or two output columns), all x -32768 against all w -128
     * (the largest positive sum), or mixed signs; C = 2 tiles + 3 exercises the overlapping block. */
    worst = j % 2 == 0;
    d.k_h = dw_flush_k[j / 2][0], d.k_w = dw_flush_k[j / 2][1];
    d.in_h = d.k_h, d.in_w = d.k_w + (j / 2) % 2;
    d.in_ch = 2 * nr + 3;
    if (j / 2 == 4) d.depth_multiplier = 2, d.in_ch = nr + 1;
  } else {
    /* The tile's tails with depth multipliers > 1, strides, dilation and SAME padding. */
    const size_t t = j - DW_FLUSH;
    const size_t cs[4] = {nr > 1 ? nr - 1 : 1, nr + 1, 2 * nr > 1 ? 2 * nr - 1 : 1, 2 * nr + 1};
    d.in_ch = cs[t % 4];
    d.depth_multiplier = t < 8 ? 2 + t / 4 % 2 : 1 + t % 3;
    d.k_h = d.k_w = t >= 12 ? 5 : 3;
    d.stride_h = d.stride_w = 1 + t % 2;
    d.dilation_h = d.dilation_w = 1 + t / 2 % 2;
    d.padding = t % 3 ? QK_PAD_SAME : QK_PAD_VALID;
    d.in_h = (size_t)qkc_range(&g, 1, 8) + (d.k_h - 1) * d.dilation_h;
    d.in_w = (size_t)qkc_range(&g, 1, 8) + (d.k_w - 1) * d.dilation_w;
    if (t % 5 == 4) d.act_min = qkc_range(&g, -32768, 0), d.act_max = d.act_min + qkc_range(&g, 0, 3);
  }
  d.out_ch = d.in_ch * d.depth_multiplier;
  const size_t C = d.in_ch, O = d.out_ch, taps = d.k_h * d.k_w;
  int32_t *mult = malloc(O * sizeof *mult), *shift = malloc(O * sizeof *shift);
  d.multiplier = mult, d.shift = shift;
  /* Worst sums of taps * 2^22 land near +-15000 (an int32 wrap would flip their sign). */
  const double acc_rms = worst ? (double)taps * 4194304.0 / 500.0 : 18900.0 * 74.0 * sqrt((double)taps) / 256.0;
  for (size_t o = 0; mult && shift && o < O; o++) {
    qkc_spread_multiplier(&g, acc_rms, QK_ROUND_DOUBLE, &mult[o], &shift[o]);
    if (shift[o] > QK_SHIFT64_MAX) shift[o] = QK_SHIFT64_MAX;
  }
  int64_t *bias = qkc_next(&g) % 4 ? qkc_guard_alloc(O * 8, 8) : NULL;
  for (size_t o = 0; bias && o < O; o++) bias[o] = (int64_t)qkc_range(&g, -(1 << 20), 1 << 20) * 64;
  qk_conv2d_geom geo;
  char what[200], why[200] = "";
  snprintf(what, sizeof what, "dw H=%zu W=%zu C=%zu dm=%zu k=%zux%zu (%zu taps) s=%zu d=%zu %s%s clamp [%d,%d]", d.in_h,
           d.in_w, C, d.depth_multiplier, d.k_h, d.k_w, taps, d.stride_h, d.dilation_h,
           d.padding == QK_PAD_SAME ? "SAME" : "VALID", j < DW_FLUSH ? (worst ? " worst-case" : " mixed") : "", d.act_min,
           d.act_max);
  if (!mult || !shift || qk_dwconv2d_i16x8_check(&d, &geo, bias) != QK_OK) {
    snprintf(why, sizeof why, "generator produced an invalid case: %s", qk_last_error());
    qkc_record(r, v, seed, index, false, what, why);
    free(mult), free(shift), qkc_guard_free(bias);
    return false;
  }
  const qk_conv2d_i16x8_impl *impl = v->impl;
  const size_t nx = d.in_h * d.in_w * C, ny = geo.out_h * geo.out_w * O, nw = taps * O;
  const size_t wsize = impl->workspace_size(&d, &geo), psize = impl->packed_size(&d);
  int16_t *x = qkc_guard_alloc(nx * 2, 2), *y = qkc_guard_alloc(ny * 2, 2), *yref = malloc(ny * 2);
  int8_t *w = qkc_guard_alloc(nw, 1);
  void *packed = qkc_guard_alloc((psize + 63) & ~(size_t)63, 64);
  void *ws = wsize ? qkc_guard_alloc((wsize + 63) & ~(size_t)63, 64) : NULL;
  bool ok = x && y && yref && w && packed && (!wsize || ws);
  if (ok) {
    for (size_t i = 0; i < nx; i++)
      x[i] = worst ? -32768 : j < DW_FLUSH ? (int16_t)(i % 2 ? 32767 : -32768) : (int16_t)qkc_range(&g, -32768, 32767);
    for (size_t i = 0; i < nw; i++) w[i] = worst ? -128 : (int8_t)qkc_range(&g, -128, 127);
    qk_ref_dwconv2d_i16x8(&d, &geo, x, w, bias, yref);
    impl->pack(&d, w, bias, packed);
    impl->run(&d, &geo, packed, x, y, ws);
    ok = memcmp(y, yref, ny * 2) == 0;
    for (size_t i = 0; !ok && i < ny; i++)
      if (y[i] != yref[i]) {
        snprintf(why, sizeof why, "first mismatch at [pixel %zu, channel %zu]: expected %d, got %d", i / O, i % O,
                 yref[i], y[i]);
        break;
      }
    if (ok && (!qkc_guard_intact(y) || !qkc_guard_intact(packed) || (ws && !qkc_guard_intact(ws))))
      ok = false, snprintf(why, sizeof why, "write before the start of a buffer");
  } else {
    snprintf(why, sizeof why, "out of memory");
  }
  qkc_record(r, v, seed, index, ok, what, why);
  qkc_guard_free(x), qkc_guard_free(y), qkc_guard_free(w), qkc_guard_free(packed), qkc_guard_free(ws);
  qkc_guard_free(bias);
  free(yref), free(mult), free(shift);
  return ok;
}

bool i16x8_run_case(const qk_variant *v, uint64_t seed, size_t index, qkc_report *r) {
  switch (v->op) {
    case QK_OP_FC: return fc_case(v, seed, index, r);
    case QK_OP_CONV2D: return conv_run_case(v, seed, index, r);
    case QK_OP_DWCONV2D:
      return index < conv_case_count(v) ? conv_run_case(v, seed, index, r) : dw_case(v, seed, index, r);
    case QK_OP_ADD: return eltwise_run_case(v, seed, index, r);
    case QK_OP_ADD_POT: return add_pot_run_case(v, seed, index, r);
    default: return convert_run_case(v, seed, index, r);
  }
}
