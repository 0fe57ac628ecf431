/* The float DepthwiseConv2D behind qk_f32_dwconv2d_16c__neon and its f16w twin
 * qk_f16w_dwconv2d_16c__neon, NHWC, armv8-a NEON. Written once, instantiated twice: the twins differ
 * only in how a weight vector is loaded (float32, or binary16 widened by FCVTL, exact), so they
 * agree bit for bit on widened weights.
 *
 * Arithmetic, the same in every loop below: per output, acc = 0; acc = fma(x, w, acc) over the
 * in-bounds taps in (ky, kx) order; then acc + bias and the reference's clamp. Against the double
 * reference that is a sum of at most k_h*k_w products plus the bias (the harness's bound).
 *
 * Loops (channels are the vector dimension; blocks that do not divide the channel count end with
 * one block aligned to the last channel, overlapping the previous one and recomputing identical
 * lanes, so no access leaves a pixel; fewer than 4 channels go through the stack):
 * - 3x3, dilation 1, horizontal stride 1 or 2, window inside the image: 4 output pixels x 8
 *   channels at a time. 8 accumulator chains cover the FMA latency of a Cortex-A76-class core; each
 *   tap's weights are loaded once for the 4 pixels; the loop over channels is innermost, so the
 *   input pixels are walked contiguously and the weights (9 x C floats) stay in L1.
 * - everything else (borders, other kernels, strides, dilations): one output pixel x 16 channels,
 *   in-bounds taps only.
 * - depth multiplier M > 1: the input is first expanded in the workspace so channel oc holds input
 *   channel oc / M; the loops above then run with M = 1 on O channels.
 *
 * Packed buffer: float bias[Cp], then w[k_h*k_w][Cp] (float32 or binary16), Cp = round_up(O, 4),
 * the filter's own [1, k_h, k_w, O] order with zero-padded rows. */
#ifndef QK_ARM_DW_F32_NEON_H
#define QK_ARM_DW_F32_NEON_H

#include <arm_neon.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "f32_neon.h"
#include "qk/float.h"

static inline size_t qk_dwf_cp(size_t o) { return (o + 3) / 4 * 4; }

static inline size_t qk_dwf_packed_size(bool half, const qk_conv2d_f32_desc *d) {
  const size_t cp = qk_dwf_cp(d->out_ch);
  return cp * sizeof(float) + d->k_h * d->k_w * cp * (half ? 2 : 4);
}

static inline void qk_dwf_pack(bool half, const qk_conv2d_f32_desc *d, const void *w, const float *bias,
                               void *packed) {
  const size_t O = d->out_ch, cp = qk_dwf_cp(O), T = d->k_h * d->k_w, es = half ? 2 : 4;
  float *pb = packed;
  for (size_t c = 0; c < cp; c++) pb[c] = c < O && bias ? bias[c] : 0.0f;
  char *pw = (char *)(pb + cp);
  for (size_t t = 0; t < T; t++) {
    memcpy(pw + t * cp * es, (const char *)w + t * O * es, O * es);
    memset(pw + (t * cp + O) * es, 0, (cp - O) * es);
  }
}

static inline size_t qk_dwf_workspace_size(const qk_conv2d_f32_desc *d) {
  return d->depth_multiplier > 1 ? d->batch * d->in_h * d->in_w * d->out_ch * sizeof(float) : 0;
}

/* Taps t in [0, k) with 0 <= i0 + t*dil < n, as [*lo, *hi). */
static inline void qk_dwf_taps(long i0, size_t k, size_t dil, size_t n, size_t *lo, size_t *hi) {
  const long dl = (long)dil;
  long a = i0 < 0 ? (-i0 + dl - 1) / dl : 0;
  long b = i0 > (long)n - 1 ? 0 : ((long)n - 1 - i0) / dl + 1;
  if (b > (long)k) b = (long)k;
  if (a > b) a = b;
  *lo = (size_t)a, *hi = (size_t)b;
}

/* One output pixel, channels [c0, c0 + 4*nq) (or the first npart < 4 when nq == 0). */
static inline __attribute__((always_inline)) void qk_dwf_pixel(
    const bool half, const size_t nq, const qk_conv2d_f32_desc *d, const float *xb, size_t C, long iy0, long ix0,
    const char *wpk, size_t cp, const float *bias, size_t c0, size_t npart, float *yp, float32x4_t lo,
    float32x4_t hi) {
  const size_t W = d->in_w, kw = d->k_w, nv = nq ? nq : 1;
  size_t ky0, ky1, kx0, kx1;
  qk_dwf_taps(iy0, d->k_h, d->dilation_h, d->in_h, &ky0, &ky1);
  qk_dwf_taps(ix0, kw, d->dilation_w, W, &kx0, &kx1);
  float32x4_t acc[4];
#pragma GCC unroll 4
  for (size_t q = 0; q < nv; q++) acc[q] = vdupq_n_f32(0.0f);
  for (size_t ky = ky0; ky < ky1; ky++) {
    const size_t iy = (size_t)(iy0 + (long)(ky * d->dilation_h));
    for (size_t kx = kx0; kx < kx1; kx++) {
      const size_t ix = (size_t)(ix0 + (long)(kx * d->dilation_w));
      const float *xp = xb + (iy * W + ix) * C + c0;
      const void *wp = qk_w_at(half, wpk, (ky * kw + kx) * cp + c0);
      if (!nq) {
        acc[0] = vfmaq_f32(acc[0], qk_f32_load_part(xp, npart), qk_w_load4(half, wp));
      } else {
#pragma GCC unroll 4
        for (size_t q = 0; q < nq; q++)
          acc[q] = vfmaq_f32(acc[q], vld1q_f32(xp + 4 * q), qk_w_load4(half, qk_w_at(half, wp, 4 * q)));
      }
    }
  }
#pragma GCC unroll 4
  for (size_t q = 0; q < nv; q++) {
    const float32x4_t v = qk_f32_clamp(vaddq_f32(acc[q], vld1q_f32(bias + c0 + 4 * q)), lo, hi);
    if (nq) vst1q_f32(yp + 4 * q, v);
    else qk_f32_store_part(yp, v, npart);
  }
}

/* Every channel of one output pixel through qk_dwf_pixel. */
static inline __attribute__((always_inline)) void qk_dwf_pixel_all(
    const bool half, const qk_conv2d_f32_desc *d, const float *xb, size_t C, long iy0, long ix0, const char *wpk,
    size_t cp, const float *bias, float *yp, float32x4_t lo, float32x4_t hi) {
  if (C >= 16) {
    for (size_t c0 = 0;; c0 += 16) {
      if (c0 + 16 > C) c0 = C - 16;
      qk_dwf_pixel(half, 4, d, xb, C, iy0, ix0, wpk, cp, bias, c0, 0, yp + c0, lo, hi);
      if (c0 + 16 == C) break;
    }
  } else if (C >= 4) {
    for (size_t c0 = 0;; c0 += 4) {
      if (c0 + 4 > C) c0 = C - 4;
      qk_dwf_pixel(half, 1, d, xb, C, iy0, ix0, wpk, cp, bias, c0, 0, yp + c0, lo, hi);
      if (c0 + 4 == C) break;
    }
  } else {
    qk_dwf_pixel(half, 0, d, xb, C, iy0, ix0, wpk, cp, bias, 0, C, yp, lo, hi);
  }
}

/* 3x3, dilation 1, horizontal stride s: 4 output pixels x 4*nq channels starting at c0. x0 points at
 * the window's top-left input pixel for the first output pixel; every tap is in bounds. */
static inline __attribute__((always_inline)) void qk_dwf_3x3x4(const bool half, const size_t s, const size_t nq,
                                                                const float *x0, size_t row, size_t C,
                                                                const char *wpk, size_t cp, const float *bias,
                                                                float *y0, size_t O, float32x4_t lo,
                                                                float32x4_t hi) {
  float32x4_t acc[4][2];
#pragma GCC unroll 4
  for (int p = 0; p < 4; p++)
#pragma GCC unroll 2
    for (size_t q = 0; q < nq; q++) acc[p][q] = vdupq_n_f32(0.0f);
#pragma GCC unroll 3
  for (size_t ky = 0; ky < 3; ky++)
#pragma GCC unroll 3
    for (size_t kx = 0; kx < 3; kx++) {
      float32x4_t w[2];
      const void *wp = qk_w_at(half, wpk, (ky * 3 + kx) * cp);
      if (nq == 2) qk_w_load8(half, wp, w);
      else w[0] = qk_w_load4(half, wp);
      const float *xr = x0 + ky * row + kx * C;
#pragma GCC unroll 4
      for (size_t p = 0; p < 4; p++)
#pragma GCC unroll 2
        for (size_t q = 0; q < nq; q++) acc[p][q] = vfmaq_f32(acc[p][q], vld1q_f32(xr + p * s * C + 4 * q), w[q]);
    }
  float32x4_t b[2];
#pragma GCC unroll 2
  for (size_t q = 0; q < nq; q++) b[q] = vld1q_f32(bias + 4 * q);
#pragma GCC unroll 4
  for (size_t p = 0; p < 4; p++)
#pragma GCC unroll 2
    for (size_t q = 0; q < nq; q++) vst1q_f32(y0 + p * O + 4 * q, qk_f32_clamp(vaddq_f32(acc[p][q], b[q]), lo, hi));
}

/* A run of groups of 4 interior pixels of one output row, all channels (C >= 4). */
static inline __attribute__((always_inline)) void qk_dwf_3x3_run(const bool half, const size_t s, size_t groups,
                                                                  const float *x0, size_t row, size_t C,
                                                                  const char *wpk, size_t cp, const float *bias,
                                                                  float *y0, float32x4_t lo, float32x4_t hi) {
  const size_t cb = C >= 8 ? 8 : 4;
  for (size_t g = 0; g < groups; g++, x0 += 4 * s * C, y0 += 4 * C)
    for (size_t c0 = 0;; c0 += cb) {
      if (c0 + cb > C) c0 = C - cb;
      if (cb == 8) qk_dwf_3x3x4(half, s, 2, x0 + c0, row, C, wpk + c0 * (half ? 2 : 4), cp, bias + c0, y0 + c0, C, lo, hi);
      else qk_dwf_3x3x4(half, s, 1, x0 + c0, row, C, wpk + c0 * (half ? 2 : 4), cp, bias + c0, y0 + c0, C, lo, hi);
      if (c0 + cb == C) break;
    }
}

static inline __attribute__((always_inline)) void qk_dwf_run(const bool half, const qk_conv2d_f32_desc *d,
                                                             const qk_conv2d_geom *g, const void *packed,
                                                             const float *x, float *y, void *workspace) {
  const size_t H = d->in_h, W = d->in_w, O = d->out_ch, M = d->depth_multiplier, cp = qk_dwf_cp(O);
  const float *bias = packed;
  const char *wpk = (const char *)(bias + cp);
  /* With M > 1, channel oc reads input channel oc / M: expand once so every loop reads channel oc. */
  if (M > 1) {
    const size_t C = d->in_ch, pixels = d->batch * H * W;
    float *xe = workspace;
    for (size_t i = 0; i < pixels; i++)
      for (size_t ic = 0; ic < C; ic++)
        for (size_t m = 0; m < M; m++) xe[i * O + ic * M + m] = x[i * C + ic];
    x = xe;
  }
  const size_t C = O, row = W * C;
  const float32x4_t lo = vdupq_n_f32(d->act_min), hi = vdupq_n_f32(d->act_max);
  const bool fast3 = d->k_h == 3 && d->k_w == 3 && d->dilation_h == 1 && d->dilation_w == 1 &&
                     (d->stride_w == 1 || d->stride_w == 2) && C >= 4;
  const size_t sw = d->stride_w;
  /* Output columns whose 3 taps all lie inside the row: [fx0, fx1). */
  size_t fx0 = 0, fx1 = 0;
  if (fast3) {
    fx0 = (g->pad_left + sw - 1) / sw;
    fx1 = W + g->pad_left >= 3 ? (W + g->pad_left - 3) / sw + 1 : 0;
    if (fx1 > g->out_w) fx1 = g->out_w;
    if (fx0 > fx1) fx0 = fx1;
  }
  for (size_t b = 0; b < d->batch; b++) {
    const float *xb = x + b * H * row;
    for (size_t oy = 0; oy < g->out_h; oy++) {
      const long iy0 = (long)(oy * d->stride_h) - (long)g->pad_top;
      float *yrow = y + (b * g->out_h + oy) * g->out_w * O;
      size_t ox = 0;
      if (fast3 && iy0 >= 0 && iy0 + 2 < (long)H && fx1 - fx0 >= 4) {
        for (; ox < fx0; ox++)
          qk_dwf_pixel_all(half, d, xb, C, iy0, (long)(ox * sw) - (long)g->pad_left, wpk, cp, bias, yrow + ox * O, lo, hi);
        const size_t groups = (fx1 - fx0) / 4;
        const float *x0 = xb + (size_t)iy0 * row + (ox * sw - g->pad_left) * C;
        if (sw == 1) qk_dwf_3x3_run(half, 1, groups, x0, row, C, wpk, cp, bias, yrow + ox * O, lo, hi);
        else qk_dwf_3x3_run(half, 2, groups, x0, row, C, wpk, cp, bias, yrow + ox * O, lo, hi);
        ox += 4 * groups;
      }
      for (; ox < g->out_w; ox++)
        qk_dwf_pixel_all(half, d, xb, C, iy0, (long)(ox * sw) - (long)g->pad_left, wpk, cp, bias, yrow + ox * O, lo, hi);
    }
  }
}

#define QK_ARM_DW_F32_DEFINE(name, half)                                                                        \
  size_t name##_packed_size(const qk_conv2d_f32_desc *d) { return qk_dwf_packed_size(half, d); }               \
  void name##_pack(const qk_conv2d_f32_desc *d, const void *w, const float *bias, void *packed) {              \
    qk_dwf_pack(half, d, w, bias, packed);                                                                      \
  }                                                                                                             \
  size_t name##_workspace_size(const qk_conv2d_f32_desc *d, const qk_conv2d_geom *g) {                         \
    (void)g;                                                                                                    \
    return qk_dwf_workspace_size(d);                                                                            \
  }                                                                                                             \
  void name##_run(const qk_conv2d_f32_desc *d, const qk_conv2d_geom *g, const void *packed, const float *x,    \
                  float *y, void *workspace) {                                                                  \
    qk_dwf_run(half, d, g, packed, x, y, workspace);                                                            \
  }

#endif
