/* Cases for the float paths.
 * - f32 and f16w variants: against a double-precision reference with the summation bound of
 *   SPEC §14, |y - y_exact| <= gamma_K * (sum |w x| + |bias|) + u |y_exact|, gamma_K = Ku/(1-Ku),
 *   u = 2^-24; the largest error seen, as a fraction of its bound, is reported.
 * - f16w variants also: bit-identical to their f32 twin (same tile and ISA) on pre-widened weights.
 * - f16 variants (native binary16 arithmetic, a separate contract): the same bound with u = 2^-11
 *   over K + 2 terms (x rounded to binary16, then K roundings), plus an allowance for binary16
 *   underflow; weights below 2 in magnitude and K <= 1000 so no sum can overflow binary16 and
 *   K u < 1 (beyond that the classic bound says nothing).
 * - binary16 conversions: bit for bit against the reference, all 65,536 halves, every midpoint
 *   between neighbouring halves and its two neighbours, subnormal and overflow boundaries, NaNs.
 * - dynamic-range variants: bit for bit against the reference (quantization included). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "op_cases.h"

enum { SWEEP = 130, FIXED = 12, RANDOM = 40 };
static const double U = 1.0 / 16777216.0, U16 = 1.0 / 2048.0;

size_t float_case_count(const qk_variant *v) {
  switch (v->op) {
    case QK_OP_QUANTIZE: return 3 + SWEEP + RANDOM;
    case QK_OP_DEQUANTIZE: return 1 + SWEEP;
    case QK_OP_CONV2D: return FIXED + RANDOM;
    case QK_OP_DWCONV2D: return v->path == QK_PATH_DYNAMIC ? 4 * (FIXED + RANDOM) : FIXED + RANDOM;
    default: return SWEEP + FIXED + RANDOM;
  }
}

static float frand(qkc_rng *g) { return (float)qkc_range(g, -(1 << 23), 1 << 23) / (float)(1 << 23); }

/* A random finite binary16 weight: normal values mostly, some subnormals and large values. */
static uint16_t hrand(qkc_rng *g) {
  uint16_t h;
  do h = (uint16_t)qkc_range(g, 0, 0xFFFF);
  while (((h >> 10) & 0x1F) == 0x1F);
  if (qkc_next(g) % 8) h = (uint16_t)((h & 0x83FF) | (uint16_t)qkc_range(g, 9, 16) << 10); /* |w| in [2^-6, 2^1) */
  return h;
}

static const qk_variant *f32_twin(const qk_variant *v) {
  char name[128];
  if (strncmp(v->name, "qk_f16w_", 8) != 0) return NULL;
  snprintf(name, sizeof name, "qk_f32_%s", v->name + 8);
  return qk_variant_find(name);
}

/* A random finite binary16 weight below 2 in magnitude, some subnormal: for the f16 path, whose sums
 * must stay inside binary16's range (65504) for the bound to mean anything. */
static uint16_t hrand_small(qkc_rng *g) {
  const int32_t e = qkc_next(g) % 8 ? qkc_range(g, 9, 15) : qkc_range(g, 0, 15);
  return (uint16_t)(((uint16_t)qkc_range(g, 0, 0xFFFF) & 0x83FF) | (uint16_t)e << 10);
}

/* Checks y against the exact values within the bound gamma_terms * mag + u |exact| + eta, for unit
 * roundoff u; keeps the worst ratio. */
static bool within(const float *y, const double *exact, const double *mag, size_t n, size_t terms, double u,
                   double eta, double *worst, char *why, size_t wlen) {
  const double tu = (double)terms * u, gamma = tu < 1.0 ? tu / (1.0 - tu) : INFINITY;
  for (size_t i = 0; i < n; i++) {
    const double bound = (mag[i] > 0 ? gamma * mag[i] : 0.0) + u * fabs(exact[i]) + eta;
    const double err = fabs((double)y[i] - exact[i]);
    const double ratio = bound > 0 ? err / bound : (err > 0 ? INFINITY : 0.0);
    if (ratio > *worst) *worst = ratio;
    if (!(err <= bound)) {
      snprintf(why, wlen, "output %zu: %.9g vs exact %.12g, error %.3g exceeds bound %.3g", i, (double)y[i], exact[i],
               err, bound);
      return false;
    }
  }
  return true;
}

static double clampd(double v, float lo, float hi) { return v < lo ? lo : v > hi ? hi : v; }

static void finish(qkc_report *r, const qk_variant *v, uint64_t seed, size_t index, bool ok, const char *what,
                   const char *why, double worst) {
  if (worst > r->max_err_ratio) r->max_err_ratio = worst;
  qkc_record(r, v, seed, index, ok, what, why);
}

/* ---- FC (f32, f16w, f16) ---- */
static bool fc_case(const qk_variant *v, uint64_t seed, size_t index, qkc_report *r) {
  qkc_rng g = {seed ^ (UINT64_C(0x9B05688C2B3E6C1F) * (index + 1))};
  /* f16w and f16 take binary16 weights; f16 also computes in binary16 (native16). */
  const bool native16 = v->path == QK_PATH_F16, half = v->path == QK_PATH_F16W || native16;
  size_t M = v->mr + 1, N = v->nr + 1, K = 33;
  if (index < SWEEP) K = index + 1;
  else if (index < SWEEP + FIXED) {
    static const size_t nk[FIXED][3] = {{1, 1000, 1280}, {4, 1, 1}, {7, 2, 300}, {1, 65, 64}, {13, 17, 15},
                                        {3, 129, 129}, {1, 3, 4096}, {2, 31, 1023}, {6, 64, 96}, {5, 7, 2},
                                        {49, 160, 960}, {1, 16, 16}};
    M = nk[index - SWEEP][0], N = nk[index - SWEEP][1], K = nk[index - SWEEP][2];
  } else {
    M = (size_t)qkc_range(&g, 1, 12), N = (size_t)qkc_range(&g, 1, 3 * (int32_t)v->nr + 9), K = (size_t)qkc_range(&g, 1, 600);
  }
  if (native16 && K > 1000) K = 1000;
  const int style = (int)(qkc_next(&g) % 4);
  qk_fc_f32_desc d = {.in_ch = K, .out_ch = N, .act_min = -INFINITY, .act_max = INFINITY};
  if (style == 1) d.act_min = 0.0f, d.act_max = 6.0f;
  if (style == 2) d.act_min = -0.25f, d.act_max = 0.25f;
  char what[160], why[200] = "";
  snprintf(what, sizeof what, "%s fc M=%zu N=%zu K=%zu clamp [%g,%g]", qk_path_name(v->path), M, N, K, d.act_min, d.act_max);
  const qk_fc_float_impl *impl = v->impl;
  float *x = qkc_guard_alloc(M * K * 4, 4), *y = qkc_guard_alloc(M * N * 4, 4), *wf = malloc(N * K * 4);
  void *w = qkc_guard_alloc(N * K * (half ? 2 : 4), 4);
  float *bias = style == 3 ? NULL : malloc(N * 4);
  double *exact = malloc(M * N * 8), *mag = malloc(M * N * 8);
  void *packed = qkc_guard_alloc((impl->packed_size(N, K) + 63) & ~(size_t)63, 64);
  bool ok = x && y && wf && w && exact && mag && packed && (style == 3 || bias);
  double worst = 0;
  if (ok) {
    for (size_t i = 0; i < M * K; i++) x[i] = frand(&g) * 4.0f;
    for (size_t i = 0; i < N * K; i++) {
      if (half) ((uint16_t *)w)[i] = native16 ? hrand_small(&g) : hrand(&g), wf[i] = qk_f16_to_f32(((uint16_t *)w)[i]);
      else ((float *)w)[i] = wf[i] = frand(&g);
    }
    for (size_t o = 0; bias && o < N; o++) bias[o] = frand(&g) * 8.0f;
    for (size_t b = 0; b < M; b++)
      for (size_t o = 0; o < N; o++) {
        double s = 0, m = 0;
        for (size_t k = 0; k < K; k++) {
          const double p = (double)x[b * K + k] * (double)wf[o * K + k];
          s += p, m += fabs(p);
        }
        if (bias) s += bias[o], m += fabs((double)bias[o]);
        exact[b * N + o] = clampd(s, d.act_min, d.act_max), mag[b * N + o] = m;
      }
    impl->pack(&d, w, bias, packed);
    impl->run(&d, packed, M, x, y);
    /* f16: binary16 underflow adds an absolute error the relative model misses: below 2^-25 per
     * rounding of a product or of x (times |w| < 2), so under 2^-23 per term, at most doubled by
     * the later sums while gamma <= 1. */
    if (native16)
      ok = within(y, exact, mag, M * N, K + 2, U16, (double)(K + 2) * 0x1p-22, &worst, why, sizeof why);
    else
      ok = within(y, exact, mag, M * N, K + 1, U, 0.0, &worst, why, sizeof why);
    if (ok && !qkc_guard_intact(y)) ok = false, snprintf(why, sizeof why, "write before the start of the output");
    const bool twinned = v->path == QK_PATH_F16W;
    const qk_variant *twin = twinned ? f32_twin(v) : NULL;
    if (ok && twinned && !twin) ok = false, snprintf(why, sizeof why, "no f32 twin named like this f16w variant");
    if (ok && twin && !qk_variant_unavailable(twin)) {
      const qk_fc_float_impl *ti = twin->impl;
      void *tp = qkc_guard_alloc((ti->packed_size(N, K) + 63) & ~(size_t)63, 64);
      float *ty = malloc(M * N * 4);
      if (tp && ty) {
        ti->pack(&d, wf, bias, tp);
        ti->run(&d, tp, M, x, ty);
        if (memcmp(ty, y, M * N * 4) != 0) ok = false, snprintf(why, sizeof why, "differs from %s on widened weights", twin->name);
      }
      qkc_guard_free(tp), free(ty);
    }
  } else {
    snprintf(why, sizeof why, "out of memory");
  }
  finish(r, v, seed, index, ok, what, why, worst);
  qkc_guard_free(x), qkc_guard_free(y), qkc_guard_free(w), qkc_guard_free(packed);
  free(wf), free(bias), free(exact), free(mag);
  return ok;
}

/* ---- Conv2D / DepthwiseConv2D (f32, f16w) ---- */
static bool conv_case(const qk_variant *v, uint64_t seed, size_t index, qkc_report *r) {
  qkc_rng g = {seed ^ (UINT64_C(0x1F83D9ABFB41BD6B) * (index + 1))};
  const bool half = v->path == QK_PATH_F16W, dw = v->op == QK_OP_DWCONV2D;
  qk_conv2d_f32_desc d = {.batch = 1, .in_h = 9, .in_w = 8, .in_ch = 8, .out_ch = 8, .k_h = 3, .k_w = 3, .stride_h = 1,
                          .stride_w = 1, .dilation_h = 1, .dilation_w = 1, .padding = QK_PAD_SAME, .groups = 1,
                          .depth_multiplier = 1, .act_min = -INFINITY, .act_max = INFINITY};
  if (index < FIXED) {
    static const size_t f[FIXED][6] = {{9, 9, 3, 32, 3, 2}, {8, 8, 16, 24, 1, 1}, {7, 7, 96, 96, 3, 1}, {7, 7, 144, 144, 3, 2},
                                       {5, 6, 17, 17, 3, 1}, {1, 1, 40, 40, 3, 1}, {12, 12, 12, 12, 5, 2}, {4, 4, 65, 65, 3, 1},
                                       {6, 5, 1, 1, 3, 1},   {3, 9, 33, 33, 3, 2}, {14, 14, 64, 64, 3, 1}, {5, 5, 7, 14, 3, 1}};
    const size_t *p = f[index];
    d.in_h = p[0], d.in_w = p[1], d.in_ch = p[2], d.out_ch = p[3], d.k_h = d.k_w = p[4], d.stride_h = d.stride_w = p[5];
    if (index == 11) d.dilation_h = d.dilation_w = 2;
  } else {
    d.batch = (size_t)qkc_range(&g, 1, 2), d.in_h = (size_t)qkc_range(&g, 1, 10), d.in_w = (size_t)qkc_range(&g, 1, 10);
    d.in_ch = (size_t)qkc_range(&g, 1, 70), d.out_ch = (size_t)qkc_range(&g, 1, 70);
    d.k_h = d.k_w = (size_t)qkc_range(&g, 1, 4), d.stride_h = d.stride_w = (size_t)qkc_range(&g, 1, 2);
    d.padding = qkc_next(&g) % 3 ? QK_PAD_SAME : QK_PAD_VALID;
    if (d.padding == QK_PAD_VALID) d.in_h += d.k_h, d.in_w += d.k_w;
    if (qkc_next(&g) % 4 == 0) d.act_min = 0.0f, d.act_max = 6.0f;
  }
  if (dw) {
    d.depth_multiplier = d.out_ch % d.in_ch == 0 ? d.out_ch / d.in_ch : 1;
    d.out_ch = d.in_ch * d.depth_multiplier;
  }
  qk_conv2d_geom geo;
  char what[200], why[200] = "";
  snprintf(what, sizeof what, "%s %s N=%zu H=%zu W=%zu C=%zu O=%zu k=%zu s=%zu d=%zu %s", half ? "f16w" : "f32",
           dw ? "depthwise" : "conv", d.batch, d.in_h, d.in_w, d.in_ch, d.out_ch, d.k_h, d.stride_h, d.dilation_h,
           d.padding == QK_PAD_SAME ? "SAME" : "VALID");
  if ((dw ? qk_dwconv2d_f32_check(&d, &geo) : qk_conv2d_f32_check(&d, &geo)) != QK_OK) {
    snprintf(why, sizeof why, "generator produced an invalid case: %s", qk_last_error());
    finish(r, v, seed, index, false, what, why, 0);
    return false;
  }
  const size_t kin = dw ? 1 : d.in_ch, nw = dw ? d.k_h * d.k_w * d.out_ch : d.out_ch * d.k_h * d.k_w * kin;
  const size_t nx = d.batch * d.in_h * d.in_w * d.in_ch, ny = d.batch * geo.out_h * geo.out_w * d.out_ch;
  const qk_conv2d_float_impl *impl = v->impl;
  const size_t wsize = impl->workspace_size(&d, &geo);
  float *x = qkc_guard_alloc(nx * 4, 4), *y = qkc_guard_alloc(ny * 4, 4), *wf = malloc(nw * 4), *bias = malloc(d.out_ch * 4);
  void *w = qkc_guard_alloc(nw * (half ? 2 : 4), 4), *packed = qkc_guard_alloc((impl->packed_size(&d) + 63) & ~(size_t)63, 64);
  void *ws = wsize ? qkc_guard_alloc((wsize + 63) & ~(size_t)63, 64) : NULL;
  double *exact = malloc(ny * 8), *mag = malloc(ny * 8);
  bool ok = x && y && wf && bias && w && packed && exact && mag && (!wsize || ws);
  double worst = 0;
  if (ok) {
    for (size_t i = 0; i < nx; i++) x[i] = frand(&g) * 2.0f;
    for (size_t i = 0; i < nw; i++) {
      if (half) ((uint16_t *)w)[i] = hrand(&g), wf[i] = qk_f16_to_f32(((uint16_t *)w)[i]);
      else ((float *)w)[i] = wf[i] = frand(&g);
    }
    for (size_t o = 0; o < d.out_ch; o++) bias[o] = frand(&g);
    size_t k = 0;
    for (size_t b = 0; b < d.batch; b++)
      for (size_t oy = 0; oy < geo.out_h; oy++)
        for (size_t ox = 0; ox < geo.out_w; ox++)
          for (size_t oc = 0; oc < d.out_ch; oc++, k++) {
            double s = bias[oc], m = fabs((double)bias[oc]);
            for (size_t ky = 0; ky < d.k_h; ky++)
              for (size_t kx = 0; kx < d.k_w; kx++) {
                const long iy = (long)(oy * d.stride_h) - (long)geo.pad_top + (long)(ky * d.dilation_h);
                const long ix = (long)(ox * d.stride_w) - (long)geo.pad_left + (long)(kx * d.dilation_w);
                if (iy < 0 || iy >= (long)d.in_h || ix < 0 || ix >= (long)d.in_w) continue;
                const float *xp = x + ((b * d.in_h + (size_t)iy) * d.in_w + (size_t)ix) * d.in_ch;
                for (size_t ic = 0; ic < kin; ic++) {
                  const double p = dw ? (double)xp[oc / d.depth_multiplier] * wf[(ky * d.k_w + kx) * d.out_ch + oc]
                                      : (double)xp[ic] * wf[((oc * d.k_h + ky) * d.k_w + kx) * kin + ic];
                  s += p, m += fabs(p);
                }
              }
            exact[k] = clampd(s, d.act_min, d.act_max), mag[k] = m;
          }
    impl->pack(&d, w, bias, packed);
    impl->run(&d, &geo, packed, x, y, ws);
    ok = within(y, exact, mag, ny, d.k_h * d.k_w * kin + 1, U, 0.0, &worst, why, sizeof why);
    if (ok && !qkc_guard_intact(y)) ok = false, snprintf(why, sizeof why, "write before the start of the output");
    const qk_variant *twin = half ? f32_twin(v) : NULL;
    if (ok && half && !twin) ok = false, snprintf(why, sizeof why, "no f32 twin named like this f16w variant");
    if (ok && twin && !qk_variant_unavailable(twin)) {
      const qk_conv2d_float_impl *ti = twin->impl;
      const size_t tws = ti->workspace_size(&d, &geo);
      void *tp = qkc_guard_alloc((ti->packed_size(&d) + 63) & ~(size_t)63, 64), *tw = tws ? malloc(tws) : NULL;
      float *ty = malloc(ny * 4);
      if (tp && ty && (!tws || tw)) {
        ti->pack(&d, wf, bias, tp);
        ti->run(&d, &geo, tp, x, ty, tw);
        if (memcmp(ty, y, ny * 4) != 0) ok = false, snprintf(why, sizeof why, "differs from %s on widened weights", twin->name);
      }
      qkc_guard_free(tp), free(tw), free(ty);
    }
  } else {
    snprintf(why, sizeof why, "out of memory");
  }
  finish(r, v, seed, index, ok, what, why, worst);
  qkc_guard_free(x), qkc_guard_free(y), qkc_guard_free(w), qkc_guard_free(packed), qkc_guard_free(ws);
  free(wf), free(bias), free(exact), free(mag);
  return ok;
}

/* ---- Add (exact: one rounding) and AveragePool (bound) ---- */
static bool add_pool_case(const qk_variant *v, uint64_t seed, size_t index, qkc_report *r) {
  qkc_rng g = {seed ^ (UINT64_C(0x5BE0CD19137E2179) * (index + 1))};
  char what[160], why[200] = "";
  bool ok = false;
  double worst = 0;
  if (v->op == QK_OP_ADD) {
    size_t s1[4] = {1, 1, 1, index < SWEEP ? index + 1 : (size_t)qkc_range(&g, 1, 40)}, s2[4], so[4];
    memcpy(s2, s1, sizeof s2);
    if (index >= SWEEP) {
      s1[1] = s2[1] = (size_t)qkc_range(&g, 1, 4), s1[2] = s2[2] = (size_t)qkc_range(&g, 1, 4);
      if (qkc_next(&g) & 1) s2[1] = s2[2] = 1;
      if (qkc_next(&g) & 1) s1[3] = 1;
    }
    qk_broadcast_shape(s1, s2, so);
    const size_t n1 = s1[1] * s1[2] * s1[3], n2 = s2[1] * s2[2] * s2[3], no = so[1] * so[2] * so[3];
    const qk_add_f32_params p = {qkc_next(&g) & 1 ? -INFINITY : 0.0f, qkc_next(&g) & 1 ? INFINITY : 6.0f};
    snprintf(what, sizeof what, "f32 add [%zu,%zu,%zu] x [%zu,%zu,%zu]", s1[1], s1[2], s1[3], s2[1], s2[2], s2[3]);
    float *a = qkc_guard_alloc(n1 * 4, 4), *b = qkc_guard_alloc(n2 * 4, 4), *y = qkc_guard_alloc(no * 4, 4), *yr = malloc(no * 4);
    if (a && b && y && yr) {
      for (size_t i = 0; i < n1; i++) a[i] = frand(&g) * 10.0f;
      for (size_t i = 0; i < n2; i++) b[i] = frand(&g) * 10.0f;
      qk_ref_add_f32(&p, s1, a, s2, b, yr);
      ((const qk_add_f32_impl *)v->impl)->run(&p, s1, a, s2, b, y);
      ok = memcmp(y, yr, no * 4) == 0 && qkc_guard_intact(y);
      if (!ok) snprintf(why, sizeof why, "a single float add must match the reference bit for bit");
    } else {
      snprintf(why, sizeof why, "out of memory");
    }
    qkc_guard_free(a), qkc_guard_free(b), qkc_guard_free(y), free(yr);
  } else {
    qk_pool_f32_desc d = {.batch = 1, .in_h = 7, .in_w = 7, .channels = index < SWEEP ? index + 1 : (size_t)qkc_range(&g, 1, 70),
                          .filter_h = 3, .filter_w = 3, .stride_h = 2, .stride_w = 2, .padding = QK_PAD_SAME,
                          .act_min = -INFINITY, .act_max = INFINITY};
    if (index == SWEEP) d.filter_h = d.filter_w = 7, d.stride_h = d.stride_w = 1, d.padding = QK_PAD_VALID, d.channels = 1280;
    else if (index > SWEEP) d.in_h = (size_t)qkc_range(&g, 3, 9), d.in_w = (size_t)qkc_range(&g, 3, 9), d.stride_h = (size_t)qkc_range(&g, 1, 3);
    qk_conv2d_geom geo;
    snprintf(what, sizeof what, "f32 avgpool %zux%zux%zu filter %zu stride %zu", d.in_h, d.in_w, d.channels, d.filter_h, d.stride_h);
    if (qk_pool_f32_check(&d, &geo) != QK_OK) {
      snprintf(why, sizeof why, "generator produced an invalid case: %s", qk_last_error());
      finish(r, v, seed, index, false, what, why, 0);
      return false;
    }
    const size_t nx = d.in_h * d.in_w * d.channels, ny = geo.out_h * geo.out_w * d.channels;
    float *x = qkc_guard_alloc(nx * 4, 4), *y = qkc_guard_alloc(ny * 4, 4);
    double *exact = malloc(ny * 8), *mag = malloc(ny * 8);
    if (x && y && exact && mag) {
      for (size_t i = 0; i < nx; i++) x[i] = frand(&g) * 3.0f;
      size_t k = 0, terms = 1;
      for (size_t oy = 0; oy < geo.out_h; oy++)
        for (size_t ox = 0; ox < geo.out_w; ox++)
          for (size_t c = 0; c < d.channels; c++, k++) {
            double s = 0, m = 0;
            size_t count = 0;
            for (size_t fy = 0; fy < d.filter_h; fy++)
              for (size_t fx = 0; fx < d.filter_w; fx++) {
                const long iy = (long)(oy * d.stride_h) - (long)geo.pad_top + (long)fy;
                const long ix = (long)(ox * d.stride_w) - (long)geo.pad_left + (long)fx;
                if (iy < 0 || iy >= (long)d.in_h || ix < 0 || ix >= (long)d.in_w) continue;
                const double xv = x[((size_t)iy * d.in_w + (size_t)ix) * d.channels + c];
                s += xv, m += fabs(xv), count++;
              }
            exact[k] = s / (double)count, mag[k] = m / (double)count;
            if (count + 1 > terms) terms = count + 1; /* the division is one more rounding */
          }
      ((const qk_pool_f32_impl *)v->impl)->run(&d, &geo, x, y);
      ok = within(y, exact, mag, ny, terms, U, 0.0, &worst, why, sizeof why) && qkc_guard_intact(y);
    } else {
      snprintf(why, sizeof why, "out of memory");
    }
    qkc_guard_free(x), qkc_guard_free(y), free(exact), free(mag);
  }
  finish(r, v, seed, index, ok, what, why, worst);
  return ok;
}

/* ---- binary16 conversions ---- */
static bool cvt_case(const qk_variant *v, uint64_t seed, size_t index, qkc_report *r) {
  qkc_rng g = {seed ^ (UINT64_C(0xCBBB9D5DC1059ED8) * (index + 1))};
  char what[160], why[200] = "";
  const bool to_half = v->op == QK_OP_QUANTIZE;
  size_t n;
  float *f = NULL;
  uint16_t *h = NULL;
  if (!to_half) { /* every half, or a length sweep of random halves */
    n = index == 0 ? 65536 : index;
    snprintf(what, sizeof what, "f16 -> f32, %s", index == 0 ? "all 65536 halves" : "length sweep");
    h = qkc_guard_alloc(n * 2, 2), f = qkc_guard_alloc(n * 4, 4);
    float *fr = malloc(n * 4);
    bool ok = h && f && fr;
    if (ok) {
      for (size_t i = 0; i < n; i++) h[i] = index == 0 ? (uint16_t)i : (uint16_t)qkc_range(&g, 0, 0xFFFF);
      qk_ref_f16_to_f32(h, n, fr);
      ((const qk_f16_to_f32_impl *)v->impl)->run(h, n, f);
      ok = memcmp(f, fr, n * 4) == 0 && qkc_guard_intact(f);
      for (size_t i = 0; !ok && i < n; i++)
        if (memcmp(&f[i], &fr[i], 4)) {
          snprintf(why, sizeof why, "half 0x%04x: got bits differing from the reference", h[i]);
          break;
        }
      if (!ok && !why[0]) snprintf(why, sizeof why, "write before the start of the output");
    } else {
      snprintf(why, sizeof why, "out of memory");
    }
    qkc_guard_free(h), qkc_guard_free(f), free(fr);
    qkc_record(r, v, seed, index, ok, what, why);
    return ok;
  }
  /* f32 -> f16: 0 = every half's value; 1 = every midpoint and its two float neighbours;
   * 2 = specials; then a length sweep and random floats over the whole range. */
  n = index == 0 ? 65536 : index == 1 ? 3 * 65536 : index == 2 ? 64 : index - 2;
  f = qkc_guard_alloc(n * 4, 4), h = qkc_guard_alloc(n * 2, 2);
  uint16_t *hr = malloc(n * 2);
  bool ok = f && h && hr;
  snprintf(what, sizeof what, "f32 -> f16, %s", index == 0 ? "all half values" : index == 1 ? "all midpoints +-1 ulp" :
           index == 2 ? "specials" : "random floats");
  if (ok) {
    for (size_t i = 0; i < n; i++) {
      if (index == 0) f[i] = qk_f16_to_f32((uint16_t)i);
      else if (index == 1) {
        const uint16_t a = (uint16_t)(i / 3);
        float lo = qk_f16_to_f32(a), hi = qk_f16_to_f32((uint16_t)(a + 1));
        if (isnan(lo) || isinf(lo) || isnan(hi)) { f[i] = lo; continue; }
        if (isinf(hi)) hi = copysignf(65536.0f, lo); /* the overflow threshold 65520 is this midpoint */
        float mid = (float)(((double)lo + (double)hi) / 2.0);
        const uint32_t step = (uint32_t)(i % 3);
        uint32_t bits;
        memcpy(&bits, &mid, 4);
        bits = step == 0 ? bits - 1 : step == 2 ? bits + 1 : bits;
        memcpy(&f[i], &bits, 4);
      } else if (index == 2) {
        static const uint32_t sp[] = {0x7F800000u, 0xFF800000u, 0x7FC00000u, 0x7F800001u, 0xFFBFFFFFu, 0x7FA5A5A5u,
                                      0x477FE000u, 0x477FEFFFu, 0x477FF000u, 0x477FF001u, 0x38800000u, 0x387FE000u,
                                      0x33800000u, 0x33000000u, 0x33000001u, 0x32FFFFFFu, 0x00000001u, 0x80000000u,
                                      0x3F800000u, 0xC77FE000u, 0x337FFFFFu, 0x7F7FFFFFu, 0x00800000u, 0x38000000u};
        const size_t ns = sizeof sp / sizeof *sp;
        const uint32_t bits = i < ns ? sp[i] : (uint32_t)qkc_next(&g);
        memcpy(&f[i], &bits, 4);
      } else {
        const uint32_t bits = (uint32_t)qkc_next(&g);
        memcpy(&f[i], &bits, 4);
        if (qkc_next(&g) & 1) f[i] = frand(&g) * 70000.0f;
      }
    }
    qk_ref_f32_to_f16(f, n, hr);
    ((const qk_f32_to_f16_impl *)v->impl)->run(f, n, h);
    ok = memcmp(h, hr, n * 2) == 0 && qkc_guard_intact(h);
    for (size_t i = 0; !ok && i < n; i++)
      if (h[i] != hr[i]) {
        uint32_t bits;
        memcpy(&bits, &f[i], 4);
        snprintf(why, sizeof why, "float 0x%08x: expected half 0x%04x, got 0x%04x", bits, hr[i], h[i]);
        break;
      }
    if (!ok && !why[0]) snprintf(why, sizeof why, "write before the start of the output");
  } else {
    snprintf(why, sizeof why, "out of memory");
  }
  qkc_guard_free(f), qkc_guard_free(h), free(hr);
  qkc_record(r, v, seed, index, ok, what, why);
  return ok;
}

/* ---- dynamic range: bit for bit ---- */
static void fill_row(qkc_rng *g, float *x, size_t n, int style) {
  for (size_t i = 0; i < n; i++) {
    switch (style) {
      case 0: x[i] = 0.0f; break;                            /* range 0 */
      case 1: x[i] = frand(g) * 1e-30f; break;               /* tiny */
      case 2: x[i] = -fabsf(frand(g)) * 5.0f; break;         /* all negative (asymmetric zp at the top) */
      case 3: x[i] = (float)qkc_range(g, -127, 127) / 127.0f; break; /* many exact .5 after scaling */
      /* Both extremes grow to the end: every chunk of a chunked quantizer changes its parameters. */
      case 5: x[i] = (i % 2 ? -6.0f : 6.0f) * (float)(i + 1) / (float)n; break;
      case 7: x[i] = fminf(fmaxf(frand(g) * 8.0f, 0.0f), 6.0f); break; /* ReLU6 output: zp at -128 */
      case 8: x[i] = 2.75f; break;                                     /* one value everywhere */
      case 9: x[i] = -0.375f; break;
      default: x[i] = frand(g) * 6.0f;
    }
  }
  if (style == 4 && n > 2) x[qkc_range(g, 0, (int32_t)(n - 1))] = 1000.0f; /* one outlier, anywhere */
}

static bool dynamic_case(const qk_variant *v, uint64_t seed, size_t index, qkc_report *r) {
  qkc_rng g = {seed ^ (UINT64_C(0x629A292A367CD507) * (index + 1))};
  const bool conv = v->op == QK_OP_CONV2D, asym = qkc_next(&g) & 1;
  char what[200], why[200] = "";
  bool ok = false;
  if (!conv) {
    size_t M = v->mr + 1, N = v->nr + 3, K = index < SWEEP ? index + 1 : (size_t)qkc_range(&g, 1, 1500);
    if (index >= SWEEP + FIXED) M = (size_t)qkc_range(&g, 1, 9), N = (size_t)qkc_range(&g, 1, 70);
    if (index >= SWEEP && index % 3 == 0) K = (size_t)qkc_range(&g, 2049, 7000); /* rows of several 8 KiB chunks */
    float *scale = malloc(N * 4), *bias = qkc_next(&g) % 3 ? malloc(N * 4) : NULL;
    for (size_t o = 0; scale && o < N; o++) scale[o] = (float)qkc_range(&g, 1, 1000) / 65536.0f;
    for (size_t o = 0; bias && o < N; o++) bias[o] = frand(&g);
    const qk_fc_dynamic_desc d = {.in_ch = K, .out_ch = N, .act_min = qkc_next(&g) & 1 ? -INFINITY : 0.0f,
                                  .act_max = INFINITY, .w_scale = scale, .asymmetric = asym};
    const qk_fc_dynamic_impl *impl = v->impl;
    const size_t wsz = impl->workspace_size(&d, M);
    snprintf(what, sizeof what, "dynamic fc M=%zu N=%zu K=%zu %s", M, N, K, asym ? "asymmetric" : "symmetric");
    float *x = qkc_guard_alloc(M * K * 4, 4), *y = qkc_guard_alloc(M * N * 4, 4), *yr = malloc(M * N * 4);
    int8_t *w = qkc_guard_alloc(N * K, 1);
    void *packed = qkc_guard_alloc((impl->packed_size(N, K) + 63) & ~(size_t)63, 64);
    void *ws = wsz ? qkc_guard_alloc((wsz + 63) & ~(size_t)63, 64) : NULL;
    if (scale && x && y && yr && w && packed && (!wsz || ws)) {
      for (size_t b = 0; b < M; b++) fill_row(&g, x + b * K, K, (int)((index + b) % 7));
      for (size_t i = 0; i < N * K; i++) w[i] = (int8_t)qkc_range(&g, -127, 127);
      qk_ref_fc_dynamic(&d, w, bias, M, x, yr);
      impl->pack(&d, w, bias, packed);
      impl->run(&d, packed, M, x, y, ws);
      ok = memcmp(y, yr, M * N * 4) == 0 && qkc_guard_intact(y);
      if (!ok) snprintf(why, sizeof why, "differs from the reference (dynamic paths are bit-exact)");
    } else {
      snprintf(why, sizeof why, "out of memory");
    }
    qkc_guard_free(x), qkc_guard_free(y), qkc_guard_free(w), qkc_guard_free(packed), qkc_guard_free(ws);
    free(yr), free(scale), free(bias);
  } else {
    qk_conv2d_dynamic_desc d = {.conv = {.batch = (size_t)qkc_range(&g, 1, 2), .in_h = (size_t)qkc_range(&g, 1, 9),
                                         .in_w = (size_t)qkc_range(&g, 1, 9), .in_ch = (size_t)qkc_range(&g, 1, 40),
                                         .out_ch = (size_t)qkc_range(&g, 1, 40), .k_h = 3, .k_w = 3,
                                         .stride_h = (size_t)qkc_range(&g, 1, 2), .stride_w = 1, .dilation_h = 1,
                                         .dilation_w = 1, .padding = QK_PAD_SAME, .groups = 1, .depth_multiplier = 1,
                                         .act_min = -INFINITY, .act_max = INFINITY},
                                .asymmetric = asym};
    if (index % 4 == 0) d.conv.k_h = d.conv.k_w = 1;
    if (index % 4 == 2) d.conv.in_ch = (size_t)qkc_range(&g, 41, 160);
    if (index % 8 == 4) { /* 1x1 over images past 2^18 floats, which x86 quantizes in chunks */
      d.conv.in_h = (size_t)qkc_range(&g, 66, 80), d.conv.in_w = (size_t)qkc_range(&g, 66, 80);
      d.conv.in_ch = (size_t)qkc_range(&g, 61, 72), d.conv.out_ch = (size_t)qkc_range(&g, 1, 8);
    }
    const size_t O = d.conv.out_ch, nw = O * d.conv.k_h * d.conv.k_w * d.conv.in_ch;
    float *scale = malloc(O * 4), *bias = malloc(O * 4);
    for (size_t o = 0; scale && bias && o < O; o++) scale[o] = (float)qkc_range(&g, 1, 1000) / 65536.0f, bias[o] = frand(&g);
    d.w_scale = scale;
    qk_conv2d_geom geo;
    snprintf(what, sizeof what, "dynamic conv N=%zu %zux%zux%zu -> %zu k=%zu %s", d.conv.batch, d.conv.in_h, d.conv.in_w,
             d.conv.in_ch, O, d.conv.k_h, asym ? "asymmetric" : "symmetric");
    if (!scale || !bias || qk_conv2d_dynamic_check(&d, &geo) != QK_OK) {
      snprintf(why, sizeof why, "generator produced an invalid case: %s", qk_last_error());
    } else {
      const qk_conv2d_dynamic_impl *impl = v->impl;
      const size_t nx = d.conv.batch * d.conv.in_h * d.conv.in_w * d.conv.in_ch, ny = d.conv.batch * geo.out_h * geo.out_w * O;
      const size_t wsz = impl->workspace_size(&d, &geo);
      float *x = qkc_guard_alloc(nx * 4, 4), *y = qkc_guard_alloc(ny * 4, 4), *yr = malloc(ny * 4);
      int8_t *w = qkc_guard_alloc(nw, 1);
      void *packed = qkc_guard_alloc((impl->packed_size(&d) + 63) & ~(size_t)63, 64);
      void *ws = wsz ? qkc_guard_alloc((wsz + 63) & ~(size_t)63, 64) : NULL;
      if (x && y && yr && w && packed && (!wsz || ws)) {
        fill_row(&g, x, nx, (int)(index % 7));
        for (size_t i = 0; i < nw; i++) w[i] = (int8_t)qkc_range(&g, -127, 127);
        qk_ref_conv2d_dynamic(&d, &geo, w, bias, x, yr);
        impl->pack(&d, w, bias, packed);
        impl->run(&d, &geo, packed, x, y, ws);
        ok = memcmp(y, yr, ny * 4) == 0 && qkc_guard_intact(y);
        if (!ok) snprintf(why, sizeof why, "differs from the reference (dynamic paths are bit-exact)");
      } else {
        snprintf(why, sizeof why, "out of memory");
      }
      qkc_guard_free(x), qkc_guard_free(y), qkc_guard_free(w), qkc_guard_free(packed), qkc_guard_free(ws), free(yr);
    }
    free(scale), free(bias);
  }
  qkc_record(r, v, seed, index, ok, what, why);
  return ok;
}

/* Depthwise: kernel shapes, strides, dilations, paddings and depth multipliers by index; channel
 * counts up to 130 (past twice a 64-byte vector); image styles of fill_row (zero, tiny, negative,
 * exact halves, one outlier, ReLU6 outputs, constant images). */
static bool dwconv_dynamic_case(const qk_variant *v, uint64_t seed, size_t index, qkc_report *r) {
  static const size_t kh[] = {3, 3, 1, 2, 5, 3, 7, 3, 4, 1}, kw[] = {3, 3, 1, 2, 5, 5, 1, 3, 4, 7};
  qkc_rng g = {seed ^ (UINT64_C(0x3C6EF372FE94F82B) * (index + 1))};
  const size_t k = index % 10, dm = index % 7 < 4 ? 1 : index % 7 - 2;
  qk_conv2d_dynamic_desc d = {
      .conv = {.batch = (size_t)qkc_range(&g, 1, 2), .k_h = kh[k], .k_w = kw[k],
               .stride_h = index % 4 == 1 ? 2 : 1, .stride_w = index % 4 == 1 ? 2 : index % 11 == 3 ? 3 : 1,
               .dilation_h = index % 5 == 3 ? 2 : 1, .dilation_w = index % 5 == 3 ? (size_t)qkc_range(&g, 1, 3) : 1,
               .padding = index % 3 == 2 ? QK_PAD_VALID : QK_PAD_SAME, .groups = 1, .depth_multiplier = dm,
               .act_min = index % 6 == 1 ? 0.0f : index % 6 == 4 ? -1.0f : -INFINITY,
               .act_max = index % 6 == 1 ? 6.0f : index % 6 == 4 ? 1.0f : INFINITY},
      .asymmetric = index % 13 != 5}; /* TFLite's depthwise is asymmetric; symmetric kept tested */
  const size_t eh = (d.conv.k_h - 1) * d.conv.dilation_h + 1, ew = (d.conv.k_w - 1) * d.conv.dilation_w + 1;
  d.conv.in_h = (size_t)qkc_range(&g, 1, 12) + (d.conv.padding == QK_PAD_VALID ? eh - 1 : 0);
  d.conv.in_w = (size_t)qkc_range(&g, 1, 12) + (d.conv.padding == QK_PAD_VALID ? ew - 1 : 0);
  d.conv.in_ch = (size_t)(dm == 1 ? qkc_range(&g, 1, 130) : qkc_range(&g, 1, 45));
  if (index % 8 == 6) d.conv.in_ch = 16 * (size_t)qkc_range(&g, 1, 8); /* whole vectors */
  if (index % 16 == 9 && dm == 1) { /* images past 2^18 floats, which x86 quantizes in chunks */
    d.conv.in_h = (size_t)qkc_range(&g, 62, 70), d.conv.in_w = (size_t)qkc_range(&g, 62, 70);
    d.conv.in_ch = (size_t)qkc_range(&g, 64, 72), d.conv.batch = 1;
  }
  const size_t O = d.conv.out_ch = d.conv.in_ch * dm, nw = d.conv.k_h * d.conv.k_w * O;
  const bool has_bias = index % 5 != 2;
  float *scale = malloc(O * 4), *bias = has_bias ? malloc(O * 4) : NULL;
  for (size_t o = 0; scale && o < O; o++) scale[o] = (float)qkc_range(&g, 1, 1000) / 65536.0f;
  for (size_t o = 0; bias && o < O; o++) bias[o] = frand(&g);
  d.w_scale = scale;
  qk_conv2d_geom geo;
  char what[200], why[200] = "";
  bool ok = false;
  static const int big_styles[] = {5, 4, 7, 6};
  const int style = index % 16 == 9 && dm == 1 ? big_styles[index / 16 % 4] : (int)(index % 10);
  snprintf(what, sizeof what, "dynamic dwconv N=%zu %zux%zux%zu dm=%zu k=%zux%zu s=%zux%zu d=%zux%zu %s style %d %s",
           d.conv.batch, d.conv.in_h, d.conv.in_w, d.conv.in_ch, dm, d.conv.k_h, d.conv.k_w, d.conv.stride_h,
           d.conv.stride_w, d.conv.dilation_h, d.conv.dilation_w, d.conv.padding == QK_PAD_VALID ? "VALID" : "SAME",
           style, d.asymmetric ? "asymmetric" : "symmetric");
  if (!scale || (has_bias && !bias) || qk_dwconv2d_dynamic_check(&d, &geo) != QK_OK) {
    snprintf(why, sizeof why, "generator produced an invalid case: %s", qk_last_error());
  } else {
    const qk_conv2d_dynamic_impl *impl = v->impl;
    const size_t image = d.conv.in_h * d.conv.in_w * d.conv.in_ch, nx = d.conv.batch * image;
    const size_t ny = d.conv.batch * geo.out_h * geo.out_w * O, wsz = impl->workspace_size(&d, &geo);
    float *x = qkc_guard_alloc(nx * 4, 4), *y = qkc_guard_alloc(ny * 4, 4), *yr = malloc(ny * 4);
    int8_t *w = qkc_guard_alloc(nw, 1);
    void *packed = qkc_guard_alloc((impl->packed_size(&d) + 63) & ~(size_t)63, 64);
    void *ws = wsz ? qkc_guard_alloc((wsz + 63) & ~(size_t)63, 64) : NULL;
    if (x && y && yr && w && packed && (!wsz || ws)) {
      for (size_t b = 0; b < d.conv.batch; b++) fill_row(&g, x + b * image, image, b ? 6 : style);
      for (size_t i = 0; i < nw; i++) w[i] = (int8_t)qkc_range(&g, -128, 127);
      if (index % 9 == 7) /* weight extremes everywhere */
        for (size_t i = 0; i < nw; i++) w[i] = (int8_t)(i % 2 ? -128 : 127);
      qk_ref_dwconv2d_dynamic(&d, &geo, w, bias, x, yr);
      impl->pack(&d, w, bias, packed);
      impl->run(&d, &geo, packed, x, y, ws);
      ok = memcmp(y, yr, ny * 4) == 0 && qkc_guard_intact(y);
      for (size_t i = 0; !ok && i < ny; i++)
        if (memcmp(&y[i], &yr[i], 4)) {
          snprintf(why, sizeof why, "output %zu (channel %zu): expected %a, got %a", i, i % O, yr[i], y[i]);
          break;
        }
      if (!ok && !why[0]) snprintf(why, sizeof why, "write past the end of the output");
    } else {
      snprintf(why, sizeof why, "out of memory");
    }
    qkc_guard_free(x), qkc_guard_free(y), qkc_guard_free(w), qkc_guard_free(packed), qkc_guard_free(ws), free(yr);
  }
  free(scale), free(bias);
  qkc_record(r, v, seed, index, ok, what, why);
  return ok;
}

bool float_run_case(const qk_variant *v, uint64_t seed, size_t index, qkc_report *r) {
  if (v->path == QK_PATH_DYNAMIC && v->op == QK_OP_DWCONV2D) return dwconv_dynamic_case(v, seed, index, r);
  if (v->path == QK_PATH_DYNAMIC) return dynamic_case(v, seed, index, r);
  switch (v->op) {
    case QK_OP_FC: return fc_case(v, seed, index, r);
    case QK_OP_CONV2D:
    case QK_OP_DWCONV2D: return conv_case(v, seed, index, r);
    case QK_OP_QUANTIZE:
    case QK_OP_DEQUANTIZE: return cvt_case(v, seed, index, r);
    default: return add_pool_case(v, seed, index, r);
  }
}
