/* Exactness cases for Conv2D and DepthwiseConv2D variants: kernel sizes 1x1 (the GEMM fast path),
 * 3x3 stride 1 and 2 (MobileNet's stem and depthwise workhorses), 5x5, dilation, SAME/VALID
 * padding, groups, depth multipliers, channel counts across every tail up to 2x64, 1-5 input channels
 * with every padding edge (direct small-channel kernels), zero points
 * at the type's ends, shifts over the contract, narrow clamps, both roundings. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "op_cases.h"

enum { SWEEP_C = 130, FIXED = 33, RANDOM = 40 };

size_t conv_case_count(const qk_variant *v) {
  (void)v;
  return SWEEP_C + FIXED + RANDOM;
}

typedef struct shape { size_t b, h, w, c, o, k, s, dil, groups, dm; qk_padding pad; } shape;

static shape pick_shape(const qk_variant *v, qkc_rng *g, size_t index) {
  const bool dw = v->op == QK_OP_DWCONV2D;
  shape s = {1, 7, 6, 8, 8, 3, 1, 1, 1, 1, QK_PAD_SAME};
  if (index < SWEEP_C) { /* channel sweep: every tail */
    s.c = index + 1;
    s.o = dw ? s.c : (size_t)qkc_range(g, 1, 40);
    s.k = index % 3 == 0 ? 1 : 3;
    s.s = index % 4 == 1 ? 2 : 1;
    s.h = (size_t)qkc_range(g, 1, 6), s.w = (size_t)qkc_range(g, 1, 6);
    s.pad = index % 5 == 2 ? QK_PAD_VALID : QK_PAD_SAME;
    if (s.pad == QK_PAD_VALID) s.h += s.k, s.w += s.k;
    return s;
  }
  index -= SWEEP_C;
  if (index < FIXED) {
    static const shape fixed[FIXED] = {
        {1, 9, 9, 3, 32, 3, 2, 1, 1, 1, QK_PAD_SAME},   /* MobileNetV2 stem, small */
        {1, 8, 8, 16, 24, 1, 1, 1, 1, 1, QK_PAD_SAME},  /* pointwise */
        {2, 5, 4, 64, 65, 1, 1, 1, 1, 1, QK_PAD_VALID}, /* pointwise, batch 2 */
        {1, 6, 6, 32, 16, 1, 2, 1, 1, 1, QK_PAD_SAME},  /* strided 1x1: im2col path */
        {1, 9, 8, 24, 24, 3, 1, 1, 1, 1, QK_PAD_SAME},
        {1, 9, 8, 24, 24, 3, 2, 1, 1, 1, QK_PAD_SAME},
        {1, 10, 11, 17, 17, 3, 1, 2, 1, 1, QK_PAD_SAME}, /* dilation 2 */
        {1, 12, 12, 12, 12, 5, 1, 1, 1, 1, QK_PAD_SAME},
        {1, 12, 12, 12, 12, 5, 2, 1, 1, 1, QK_PAD_VALID},
        {1, 7, 7, 96, 96, 3, 1, 1, 1, 1, QK_PAD_SAME},
        {1, 7, 7, 144, 144, 3, 2, 1, 1, 1, QK_PAD_SAME},
        {1, 4, 4, 16, 16, 3, 1, 1, 4, 1, QK_PAD_SAME}, /* grouped */
        {1, 5, 5, 12, 18, 3, 2, 1, 3, 1, QK_PAD_VALID},
        {1, 6, 5, 8, 16, 3, 1, 1, 1, 2, QK_PAD_SAME}, /* depth multiplier 2 */
        {1, 6, 5, 5, 15, 3, 2, 1, 1, 3, QK_PAD_SAME},
        {1, 1, 1, 40, 40, 3, 1, 1, 1, 1, QK_PAD_SAME}, /* every tap but the centre skipped */
        {1, 2, 3, 33, 33, 3, 2, 1, 1, 1, QK_PAD_SAME},
        {3, 3, 3, 7, 7, 3, 1, 1, 1, 1, QK_PAD_VALID},
        {1, 14, 14, 64, 64, 3, 1, 1, 1, 1, QK_PAD_SAME},
        {1, 8, 8, 128, 128, 3, 1, 1, 1, 1, QK_PAD_SAME},
        {1, 8, 8, 130, 130, 3, 2, 1, 1, 1, QK_PAD_SAME},
        {1, 5, 9, 1, 1, 3, 1, 1, 1, 1, QK_PAD_SAME},
        {1, 9, 5, 2, 2, 1, 1, 3, 1, 1, QK_PAD_SAME},
        {1, 16, 16, 8, 8, 3, 1, 1, 1, 1, QK_PAD_SAME},
        /* few input channels (the stem's direct kernels): padding only after (even sizes), on both
         * sides (odd), none (VALID), wider than the input; 32-channel blocks and their tails */
        {1, 16, 16, 3, 32, 3, 2, 1, 1, 1, QK_PAD_SAME},
        {1, 17, 15, 3, 32, 3, 2, 1, 1, 1, QK_PAD_SAME},
        {1, 15, 16, 3, 32, 3, 2, 1, 1, 1, QK_PAD_VALID},
        {2, 11, 13, 3, 48, 3, 2, 1, 1, 1, QK_PAD_SAME},
        {1, 10, 9, 3, 8, 3, 1, 1, 1, 1, QK_PAD_SAME},
        {1, 3, 2, 3, 70, 5, 1, 1, 1, 1, QK_PAD_SAME},
        {1, 13, 12, 1, 20, 7, 2, 1, 1, 1, QK_PAD_SAME},
        {1, 9, 9, 4, 33, 3, 3, 1, 1, 1, QK_PAD_VALID},
        {1, 10, 21, 5, 32, 3, 2, 1, 1, 1, QK_PAD_SAME},
    };
    s = fixed[index];
    if (dw) s.groups = 1, s.o = s.c * s.dm;
    else s.dm = 1;
    return s;
  }
  s.b = (size_t)qkc_range(g, 1, 2);
  s.h = (size_t)qkc_range(g, 1, 12), s.w = (size_t)qkc_range(g, 1, 12);
  s.c = (size_t)qkc_range(g, 1, 80);
  s.k = (size_t)qkc_range(g, 1, 5), s.s = (size_t)qkc_range(g, 1, 3), s.dil = (size_t)qkc_range(g, 1, 2);
  s.pad = qkc_next(g) % 3 ? QK_PAD_SAME : QK_PAD_VALID;
  if (s.pad == QK_PAD_VALID) s.h += (s.k - 1) * s.dil, s.w += (s.k - 1) * s.dil;
  s.dm = dw && qkc_next(g) % 4 == 0 ? (size_t)qkc_range(g, 2, 3) : 1;
  s.o = dw ? s.c * s.dm : (size_t)qkc_range(g, 1, 80);
  if (!dw && qkc_next(g) % 5 == 0) { /* grouped */
    static const size_t gs[] = {2, 3, 4};
    s.groups = gs[qkc_next(g) % 3];
    s.c = (s.c + s.groups - 1) / s.groups * s.groups;
    s.o = (s.o + s.groups - 1) / s.groups * s.groups;
  }
  return s;
}

bool conv_run_case(const qk_variant *v, uint64_t seed, size_t index, qkc_report *r) {
  qkc_rng g = {seed ^ (UINT64_C(0x6A09E667F3BCC909) * (index + 1))};
  const bool dw = v->op == QK_OP_DWCONV2D, wide = v->path == QK_PATH_I16X8;
  const size_t es = wide ? 2 : 1; /* activation element size */
  const shape s = pick_shape(v, &g, index);
  const int style = (int)(qkc_next(&g) % 8); /* 0-4 plain, 5 extreme values, 6 all shifts, 7 narrow clamp */
  const qk_rounding rounding = (qk_rounding)(qkc_next(&g) & 1);
  const int32_t tmin = wide ? -32768 : -128, tmax = wide ? 32767 : 127;
  /* 16x8 convs take no zero points (SPEC §5). */
  int32_t zp_in = wide ? 0 : qkc_range(&g, -128, 127), zp_out = wide ? 0 : qkc_range(&g, -64, 63), lo = tmin, hi = tmax;
  if (style == 5 && !wide) zp_in = qkc_next(&g) & 1 ? -128 : 127, zp_out = qkc_next(&g) & 1 ? -128 : 127;
  if (style == 7) lo = qkc_range(&g, tmin, 0), hi = lo + qkc_range(&g, 0, 3);
  qk_conv2d_int8_desc d = {.batch = s.b, .in_h = s.h, .in_w = s.w, .in_ch = s.c, .out_ch = s.o, .k_h = s.k,
                           .k_w = s.k, .stride_h = s.s, .stride_w = s.s, .dilation_h = s.dil, .dilation_w = s.dil,
                           .padding = s.pad, .groups = s.groups, .depth_multiplier = s.dm, .input_zp = zp_in,
                           .output_zp = zp_out, .act_min = lo, .act_max = hi, .rounding = rounding};
  qk_conv2d_geom geo;
  char what[200], why[200] = "";
  snprintf(what, sizeof what, "N=%zu H=%zu W=%zu C=%zu O=%zu k=%zu s=%zu d=%zu groups=%zu dm=%zu %s, zp %d/%d, "
           "clamp [%d,%d], %s rounding, style %d", s.b, s.h, s.w, s.c, s.o, s.k, s.s, s.dil, s.groups, s.dm,
           s.pad == QK_PAD_SAME ? "SAME" : "VALID", zp_in, zp_out, lo, hi, rounding ? "single" : "double", style);
  int32_t *mult = malloc(s.o * sizeof *mult), *shift = malloc(s.o * sizeof *shift);
  d.multiplier = mult, d.shift = shift;
  const size_t kin = dw ? 1 : s.c / s.groups;
  const size_t nw = dw ? s.k * s.k * s.o : s.o * s.k * s.k * kin;
  const double x_rms = wide ? 18900.0 : 74.0 + fabs((double)zp_in) * 0.7;
  for (size_t o = 0; mult && shift && o < s.o; o++) {
    if (style == 6) {
      shift[o] = QK_SHIFT_MIN + (int32_t)(o % (wide ? 39 : 62));
      mult[o] = (int32_t[]){0, 1 << 30, INT32_MAX, qkc_range(&g, 1 << 30, INT32_MAX)}[o % 4];
    } else {
      qkc_spread_multiplier(&g, 74.0 * x_rms * sqrt((double)(s.k * s.k * kin)) / (wide ? 256.0 : 1.0), rounding,
                            &mult[o], &shift[o]);
      if (wide && shift[o] > QK_SHIFT64_MAX) shift[o] = QK_SHIFT64_MAX;
    }
  }
  const size_t bsz = wide ? 8 : 4;
  void *bias = qkc_next(&g) % 4 ? qkc_guard_alloc(s.o * bsz, bsz) : NULL;
  for (size_t o = 0; bias && o < s.o; o++) {
    const int32_t b = qkc_range(&g, -20000, 20000);
    if (wide) ((int64_t *)bias)[o] = style == 5 ? (o & 1 ? QK_I16X8_BIAS_MAX : -QK_I16X8_BIAS_MAX) : (int64_t)b * 256;
    else ((int32_t *)bias)[o] = b;
  }
  qk_status st;
  if (wide) st = dw ? qk_dwconv2d_i16x8_check(&d, &geo, bias) : qk_conv2d_i16x8_check(&d, &geo, bias);
  else st = dw ? qk_dwconv2d_int8_check(&d, &geo) : qk_conv2d_int8_check(&d, &geo);
  if (!mult || !shift || st != QK_OK) {
    snprintf(why, sizeof why, "generator produced an invalid case: %s", qk_last_error());
    qkc_record(r, v, seed, index, false, what, why);
    free(mult), free(shift), qkc_guard_free(bias);
    return false;
  }
  const size_t nx = s.b * s.h * s.w * s.c, ny = s.b * geo.out_h * geo.out_w * s.o;
  /* Both impl types share their layout up to the element types of x, y and bias. */
  const qk_conv2d_int8_impl *i8 = v->impl;
  const qk_conv2d_i16x8_impl *i16 = v->impl;
  const size_t wsize = wide ? i16->workspace_size(&d, &geo) : i8->workspace_size(&d, &geo);
  const size_t psize = wide ? i16->packed_size(&d) : i8->packed_size(&d);
  void *x = qkc_guard_alloc(nx * es, es), *y = qkc_guard_alloc(ny * es, es), *yref = malloc(ny * es);
  int8_t *w = qkc_guard_alloc(nw, 1);
  void *packed = qkc_guard_alloc((psize + 63) & ~(size_t)63, 64);
  void *ws = wsize ? qkc_guard_alloc((wsize + 63) & ~(size_t)63, 64) : NULL;
  bool ok = x && w && y && yref && packed && (!wsize || ws);
  if (ok) {
    for (size_t i = 0; i < nx; i++) {
      if (wide) ((int16_t *)x)[i] = style == 5 ? (int16_t)(i % 3 ? -32768 : 32767) : (int16_t)qkc_range(&g, -32768, 32767);
      else ((int8_t *)x)[i] = (int8_t)qkc_range(&g, -128, 127);
    }
    for (size_t i = 0; i < nw; i++) w[i] = (int8_t)qkc_range(&g, -127, 127);
    if (style == 5)
      for (size_t i = 0; i < nw; i += (wide ? 1 : 3)) w[i] = -128;
    if (wide) {
      if (dw) qk_ref_dwconv2d_i16x8(&d, &geo, x, w, bias, yref);
      else qk_ref_conv2d_i16x8(&d, &geo, x, w, bias, yref);
      i16->pack(&d, w, bias, packed);
      i16->run(&d, &geo, packed, x, y, ws);
    } else {
      if (dw) qk_ref_dwconv2d_int8(&d, &geo, x, w, bias, yref);
      else qk_ref_conv2d_int8(&d, &geo, x, w, bias, yref);
      i8->pack(&d, w, bias, packed);
      i8->run(&d, &geo, packed, x, y, ws);
    }
    ok = memcmp(y, yref, ny * es) == 0;
    if (!ok) snprintf(why, sizeof why, "output differs from the reference");
    if (!ok && !wide) qkc_same8(y, yref, ny, why, sizeof why);
    if (ok && (!qkc_guard_intact(y) || !qkc_guard_intact(packed) || (ws && !qkc_guard_intact(ws)))) {
      ok = false;
      snprintf(why, sizeof why, "write before the start of a buffer");
    }
  } else {
    snprintf(why, sizeof why, "out of memory");
  }
  qkc_record(r, v, seed, index, ok, what, why);
  qkc_guard_free(x), qkc_guard_free(w), qkc_guard_free(y), qkc_guard_free(packed), qkc_guard_free(ws);
  qkc_guard_free(bias);
  free(yref), free(mult), free(shift);
  return ok;
}
