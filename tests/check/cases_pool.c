/* Exactness cases for AveragePool and MaxPool: channel tails up to 2x64, window shapes, strides,
 * SAME windows clipped at every border (divisor counts only in-bounds taps), the global 7x7
 * average of MobileNetV2, ties in the rounded average, narrow clamps. */
#include <stdlib.h>
#include <string.h>

#include "op_cases.h"

enum { SWEEP = 130, FIXED = 8, RANDOM = 40 };

size_t pool_case_count(const qk_variant *v) {
  (void)v;
  return SWEEP + FIXED + RANDOM;
}

bool pool_run_case(const qk_variant *v, uint64_t seed, size_t index, qkc_report *r) {
  qkc_rng g = {seed ^ (UINT64_C(0x3C6EF372FE94F82B) * (index + 1))};
  qk_pool_int8_desc d = {.batch = 1, .in_h = 5, .in_w = 6, .channels = 8, .filter_h = 3, .filter_w = 3,
                         .stride_h = 2, .stride_w = 2, .padding = QK_PAD_SAME, .act_min = -128, .act_max = 127};
  if (index < SWEEP) {
    d.channels = index + 1;
    d.stride_h = d.stride_w = index % 2 ? 1 : 2;
  } else if (index < SWEEP + FIXED) {
    static const size_t fixed[FIXED][6] = {{7, 7, 1280, 7, 7, 1}, {7, 7, 64, 7, 7, 7}, {4, 4, 16, 2, 2, 2},
                                           {9, 9, 3, 3, 3, 3},    {1, 1, 5, 3, 3, 1},  {8, 16, 8, 5, 4, 3},
                                           {2, 9, 33, 2, 5, 1},   {14, 14, 96, 3, 3, 2}};
    const size_t *f = fixed[index - SWEEP];
    d.in_h = f[0], d.in_w = f[1], d.channels = f[2], d.filter_h = f[3], d.filter_w = f[4], d.stride_h = d.stride_w = f[5];
    d.padding = index % 2 || d.in_h < d.filter_h || d.in_w < d.filter_w ? QK_PAD_SAME : QK_PAD_VALID;
  } else {
    d.batch = (size_t)qkc_range(&g, 1, 2);
    d.in_h = (size_t)qkc_range(&g, 1, 10), d.in_w = (size_t)qkc_range(&g, 1, 10);
    d.channels = (size_t)qkc_range(&g, 1, 70);
    d.filter_h = (size_t)qkc_range(&g, 1, 4), d.filter_w = (size_t)qkc_range(&g, 1, 4);
    d.stride_h = (size_t)qkc_range(&g, 1, 3), d.stride_w = (size_t)qkc_range(&g, 1, 3);
    d.padding = qkc_next(&g) & 1 ? QK_PAD_SAME : QK_PAD_VALID;
    if (d.padding == QK_PAD_VALID) d.in_h += d.filter_h, d.in_w += d.filter_w;
    if (qkc_next(&g) % 4 == 0) d.act_min = qkc_range(&g, -128, 0), d.act_max = d.act_min + qkc_range(&g, 0, 3);
  }
  qk_conv2d_geom geo;
  char what[200], why[200] = "";
  snprintf(what, sizeof what, "N=%zu H=%zu W=%zu C=%zu filter %zux%zu stride %zux%zu %s clamp [%d,%d]", d.batch, d.in_h,
           d.in_w, d.channels, d.filter_h, d.filter_w, d.stride_h, d.stride_w, d.padding == QK_PAD_SAME ? "SAME" : "VALID",
           d.act_min, d.act_max);
  if (qk_pool_int8_check(&d, &geo) != QK_OK) {
    snprintf(why, sizeof why, "generator produced an invalid case: %s", qk_last_error());
    qkc_record(r, v, seed, index, false, what, why);
    return false;
  }
  const size_t nx = d.batch * d.in_h * d.in_w * d.channels, ny = d.batch * geo.out_h * geo.out_w * d.channels;
  int8_t *x = qkc_guard_alloc(nx, 1), *y = qkc_guard_alloc(ny, 1), *yref = malloc(ny);
  bool ok = x && y && yref;
  if (ok) {
    const bool narrow = qkc_next(&g) % 3 == 0; /* small values make exact .5 averages common */
    for (size_t i = 0; i < nx; i++) x[i] = (int8_t)(narrow ? qkc_range(&g, -2, 2) : qkc_range(&g, -128, 127));
    if (v->op == QK_OP_MAXPOOL) qk_ref_maxpool_int8(&d, &geo, x, yref);
    else qk_ref_avgpool_int8(&d, &geo, x, yref);
    ((const qk_pool_int8_impl *)v->impl)->run(&d, &geo, x, y);
    ok = qkc_same8(y, yref, ny, why, sizeof why);
    if (ok && !qkc_guard_intact(y)) ok = false, snprintf(why, sizeof why, "write before the start of the output");
  } else {
    snprintf(why, sizeof why, "out of memory");
  }
  qkc_record(r, v, seed, index, ok, what, why);
  qkc_guard_free(x), qkc_guard_free(y), free(yref);
  return ok;
}
