/* Loops of the x86 16x8 DepthwiseConv2D variants, included once by each variant's file after it
 * defines its vector primitives (see i16x8_dw_pack.h for the arithmetic and the packed layout):
 *   DW_VL, DW_MODE, DW_NAME(suffix)   lanes per group, packing mode, function name builder
 *   DW_PAIR                           1: interior pixels go two at a time
 *   DW_ROW_S1 (optional)              dw_row_s1[_narrow](k, rows, cs, g, yrow) sweeps one output
 *                                     row of a stride-1 3x3 group its own way when
 *                                     dw_row_s1_ok(g)
 *   dw_acc                            the int32 accumulators (even and odd lanes)
 *   dw_zero(a), dw_mac(a, x, w, n, t) clear; add the products of tap t (x: n valid lanes; t may
 *                                     pick one of several accumulator chains)
 *   dw_begin(a, g)                    start group g's sums (0, or the offset its requantization
 *                                     wants; never used on the widening path)
 *   dw_lanes(a, out)                  the accumulators as int32 in lane order
 *   dw_out(a, g, k, cs, m, dst, n)    requantize, clamp and store n lanes at dst
 * The arithmetic lives in those primitives; this file only walks pixels, taps and groups, so the
 * three ISAs share one traversal (and its padding logic).
 *
 * Paths:
 * - 3x3, stride 1 or 2 on both axes, dilation 1, depth multiplier 1: nine tap pointers per
 *   output pixel, a tap outside the image reading the zero row of the workspace (exact: the 16x8
 *   input zero point is 0, so padding contributes 0). Order batch, output row,
 *   output column chunk, channel group, output column: a chunk's input pixels are read whole
 *   and stay in L1 while the groups' weights cycle; with DW_PAIR, interior columns go two at
 *   a time (independent accumulators, shared weight loads).
 * - Anything else: only in-image taps are visited (a box of ky x kx per pixel), groups per block
 *   and multiplier index; M > 1 writes output channel (cs + i) * M + m through a small buffer.
 *   Kernels of more than QK_DW16_MAX_TAPS32 taps add int32 partial sums of QK_DW16_CHUNK taps into
 *   int64 lanes and requantize those lanes in scalar (qk_mbqm64 on acc + bias). */
#ifndef QK_X86_I16X8_DW_LOOPS_H
#define QK_X86_I16X8_DW_LOOPS_H

#include <stdbool.h>

#include "i16x8_dw_pack.h"

/* One output pixel of group g (taps p[0..8], already at the group's first channel), or two
 * pixels d elements apart in x and C apart in y, sharing the weight loads. */
static inline __attribute__((always_inline)) void dw_pix(const qk_dw16_ctx *k, const int16_t *const p[9], size_t cs,
                                                         const uint8_t *g, int16_t *dst, size_t n) {
  const uint8_t *w = g + qk_dw16_off_w(DW_VL, DW_MODE);
  dw_acc a;
  dw_begin(&a, g);
  for (int t = 0; t < 9; t++) dw_mac(&a, p[t] + cs, w + t * 4 * DW_VL, n, t);
  dw_out(&a, g, k, cs, 0, dst, n);
}

static inline __attribute__((always_inline)) void dw_pix2(const qk_dw16_ctx *k, const int16_t *const p[9], size_t d,
                                                          size_t cs, const uint8_t *g, int16_t *dst, size_t n) {
  const uint8_t *w = g + qk_dw16_off_w(DW_VL, DW_MODE);
  dw_acc a, b;
  dw_begin(&a, g);
  dw_begin(&b, g);
  for (int t = 0; t < 9; t++) {
    dw_mac(&a, p[t] + cs, w + t * 4 * DW_VL, n, t);
    dw_mac(&b, p[t] + cs + d, w + t * 4 * DW_VL, n, t);
  }
  dw_out(&a, g, k, cs, 0, dst, n);
  dw_out(&b, g, k, cs, 0, dst + k->C, n);
}

/* A border column: each tap checked against the row. */
static void dw_border(const qk_dw16_ctx *k, const int16_t *const rows[3], const int16_t *zero, size_t ox, size_t s,
                      size_t cs, const uint8_t *g, int16_t *yrow, size_t n) {
  const long ix0 = (long)(ox * s) - (long)k->g->pad_left;
  const int16_t *p[9];
  for (size_t ky = 0; ky < 3; ky++)
    for (size_t kx = 0; kx < 3; kx++) {
      const long ix = ix0 + (long)kx;
      p[ky * 3 + kx] = ix >= 0 && ix < (long)k->W ? rows[ky] + (size_t)ix * k->C : zero;
    }
  dw_pix(k, p, cs, g, yrow + ox * k->C + cs, n);
}

/* Output columns [o0, o1) of one group in one output row; [ox_lo, ox_hi) are the interior ones. */
static inline __attribute__((always_inline)) void dw_cols(const qk_dw16_ctx *k, const int16_t *const rows[3],
                                                          const int16_t *zero, size_t s, size_t cs, const uint8_t *g,
                                                          int16_t *yrow, size_t n, size_t o0, size_t o1, size_t ox_lo,
                                                          size_t ox_hi) {
  const size_t C = k->C, pl = k->g->pad_left;
  const size_t lo = ox_lo > o1 ? o1 : ox_lo < o0 ? o0 : ox_lo, hi = ox_hi > o1 ? o1 : ox_hi < lo ? lo : ox_hi;
  const int16_t *p[9];
  size_t ox = o0;
  for (; ox < lo; ox++) dw_border(k, rows, zero, ox, s, cs, g, yrow, n);
  for (; DW_PAIR && ox + 2 <= hi; ox += 2) {
    const size_t c0 = (ox * s - pl) * C;
    for (size_t ky = 0; ky < 3; ky++)
      for (size_t kx = 0; kx < 3; kx++) p[ky * 3 + kx] = rows[ky] + c0 + kx * C;
    dw_pix2(k, p, s * C, cs, g, yrow + ox * C + cs, n);
  }
  for (; ox < hi; ox++) {
    const size_t c0 = (ox * s - pl) * C;
    for (size_t ky = 0; ky < 3; ky++)
      for (size_t kx = 0; kx < 3; kx++) p[ky * 3 + kx] = rows[ky] + c0 + kx * C;
    dw_pix(k, p, cs, g, yrow + ox * C + cs, n);
  }
  for (; ox < o1; ox++) dw_border(k, rows, zero, ox, s, cs, g, yrow, n);
}

/* Output columns per chunk: every group of a chunk runs before the next chunk, so the input
 * pixels a chunk reads (all their channels, contiguous) are fetched once and stay in L1 while the
 * groups' weights cycle through (they are reused by the chunk's columns). */
enum { DW_CHUNK = 16 };

/* 3x3 with stride s; narrow: C < DW_VL (one partial group). Rows outside the image read the zero
 * row (W * C + DW_VL zeros, so any column of it is valid); interior columns, whose three taps lie
 * inside the row, take their pointers without checks. */
static inline __attribute__((always_inline)) void dw_3x3(const qk_dw16_ctx *k, const int16_t *x, int16_t *y,
                                                         const int16_t *zero, const size_t s, const bool narrow) {
  const size_t C = k->C, H = k->H, W = k->W, OH = k->g->out_h, OW = k->g->out_w, pl = k->g->pad_left;
  const size_t n = narrow ? C : DW_VL;
  /* Interior: ox * s - pl >= 0 and ox * s - pl + 2 <= W - 1. */
  const size_t ox_lo = (pl + s - 1) / s < OW ? (pl + s - 1) / s : OW;
  size_t ox_hi = W + pl >= 3 ? (W + pl - 3) / s + 1 : 0;
  if (ox_hi > OW) ox_hi = OW;
  if (ox_hi < ox_lo) ox_hi = ox_lo;
  for (size_t b = 0; b < k->d->batch; b++)
    for (size_t oy = 0; oy < OH; oy++) {
      const int16_t *rows[3];
      for (size_t ky = 0; ky < 3; ky++) {
        const long iy = (long)(oy * s) - (long)k->g->pad_top + (long)ky;
        rows[ky] = iy >= 0 && iy < (long)H ? x + (b * H + (size_t)iy) * W * C : zero;
      }
      int16_t *yrow = y + (b * OH + oy) * OW * C;
      bool rest = true; /* some group is left for the chunked sweep */
#ifdef DW_ROW_S1
      if (s == 1) {
        rest = false;
        for (size_t blk = 0; blk < k->nb; blk++) {
          const uint8_t *g = k->groups + blk * k->gb;
          if (!dw_row_s1_ok(g)) {
            rest = true;
            continue;
          }
          const size_t cs = qk_dw16_block_start(blk, k->nb, C, DW_VL);
          if (narrow) dw_row_s1_narrow(k, rows, cs, g, yrow);
          else dw_row_s1(k, rows, cs, g, yrow);
        }
      }
#endif
      for (size_t o0 = 0; rest && o0 < OW; o0 += DW_CHUNK) {
        const size_t o1 = OW - o0 < DW_CHUNK ? OW : o0 + DW_CHUNK;
        for (size_t blk = 0; blk < k->nb; blk++) {
          const uint8_t *g = k->groups + blk * k->gb;
#ifdef DW_ROW_S1
          if (s == 1 && dw_row_s1_ok(g)) continue;
#endif
          dw_cols(k, rows, zero, s, qk_dw16_block_start(blk, k->nb, C, DW_VL), g, yrow, n, o0, o1, ox_lo, ox_hi);
        }
      }
    }
}

static void dw_3x3_s1(const qk_dw16_ctx *k, const int16_t *x, int16_t *y, const int16_t *zero) { dw_3x3(k, x, y, zero, 1, false); }
static void dw_3x3_s2(const qk_dw16_ctx *k, const int16_t *x, int16_t *y, const int16_t *zero) { dw_3x3(k, x, y, zero, 2, false); }
static void dw_3x3_narrow(const qk_dw16_ctx *k, const int16_t *x, int16_t *y, const int16_t *zero, size_t s) {
  if (s == 1) dw_3x3(k, x, y, zero, 1, true);
  else dw_3x3(k, x, y, zero, 2, true);
}

/* First and one-past-last kernel index whose input coordinate o*st - pad + i*dl lies in [0, n). */
static void dw_range(size_t o, size_t st, size_t pad, size_t dl, size_t kn, size_t n, size_t *i0, size_t *i1) {
  const long base = (long)(o * st) - (long)pad;
  long lo = base < 0 ? (-base + (long)dl - 1) / (long)dl : 0;
  long hi = base >= (long)n ? 0 : ((long)n - 1 - base) / (long)dl + 1;
  if (hi > (long)kn) hi = (long)kn;
  if (lo > hi) lo = hi;
  *i0 = (size_t)lo, *i1 = (size_t)hi;
}

static void dw_general(const qk_dw16_ctx *k, const int16_t *x, int16_t *y) {
  const qk_conv2d_int8_desc *d = k->d;
  const size_t C = k->C, M = k->M, O = k->O, H = k->H, W = k->W, OH = k->g->out_h, OW = k->g->out_w;
  const size_t n = C < DW_VL ? C : DW_VL;
  const bool wide = k->taps > QK_DW16_MAX_TAPS32;
  for (size_t b = 0; b < d->batch; b++)
    for (size_t oy = 0; oy < OH; oy++) {
      size_t ky0, ky1;
      dw_range(oy, d->stride_h, k->g->pad_top, d->dilation_h, d->k_h, H, &ky0, &ky1);
      for (size_t ox = 0; ox < OW; ox++) {
        size_t kx0, kx1;
        dw_range(ox, d->stride_w, k->g->pad_left, d->dilation_w, d->k_w, W, &kx0, &kx1);
        const long iy0 = (long)(oy * d->stride_h) - (long)k->g->pad_top;
        const long ix0 = (long)(ox * d->stride_w) - (long)k->g->pad_left;
        int16_t *ypix = y + ((b * OH + oy) * OW + ox) * O;
        for (size_t blk = 0; blk < k->nb; blk++) {
          const size_t cs = qk_dw16_block_start(blk, k->nb, C, DW_VL);
          for (size_t m = 0; m < M; m++) {
            const uint8_t *g = k->groups + (blk * M + m) * k->gb;
            const uint8_t *w = g + qk_dw16_off_w(DW_VL, DW_MODE);
            _Alignas(64) int16_t tmp[DW_VL];
            int16_t *dst = M == 1 ? ypix + cs : tmp;
            dw_acc a;
            if (!wide) {
              dw_begin(&a, g);
              for (size_t ky = ky0; ky < ky1; ky++) {
                const int16_t *xr = x + (b * H + (size_t)(iy0 + (long)(ky * d->dilation_h))) * W * C + cs;
                for (size_t kx = kx0; kx < kx1; kx++)
                  dw_mac(&a, xr + (size_t)(ix0 + (long)(kx * d->dilation_w)) * C, w + (ky * d->k_w + kx) * 4 * DW_VL, n, (int)kx);
              }
              dw_out(&a, g, k, cs, m, dst, n);
            } else {
              /* Widening: every QK_DW16_CHUNK taps the int32 lanes move into int64 ones. */
              dw_zero(&a);
              int64_t acc[DW_VL] = {0};
              int32_t part[DW_VL];
              size_t run = 0;
              for (size_t ky = ky0; ky < ky1; ky++) {
                const int16_t *xr = x + (b * H + (size_t)(iy0 + (long)(ky * d->dilation_h))) * W * C + cs;
                for (size_t kx = kx0; kx < kx1; kx++) {
                  dw_mac(&a, xr + (size_t)(ix0 + (long)(kx * d->dilation_w)) * C, w + (ky * d->k_w + kx) * 4 * DW_VL, n, (int)kx);
                  if (++run == QK_DW16_CHUNK) {
                    dw_lanes(&a, part);
                    for (size_t i = 0; i < DW_VL; i++) acc[i] += part[i];
                    dw_zero(&a);
                    run = 0;
                  }
                }
              }
              dw_lanes(&a, part);
              for (size_t i = 0; i < DW_VL; i++) acc[i] += part[i];
              qk_dw16_scalar_out(k, acc, cs, m, dst, n);
            }
            if (M > 1)
              for (size_t i = 0; i < n; i++) ypix[(cs + i) * M + m] = tmp[i];
          }
        }
      }
    }
}

size_t DW_NAME(packed_size)(const qk_conv2d_int8_desc *d) { return qk_dw16_packed_size(d, DW_VL, DW_MODE); }

void DW_NAME(pack)(const qk_conv2d_int8_desc *d, const int8_t *w, const int64_t *bias, void *packed) {
  qk_dw16_pack(d, w, bias, packed, DW_VL, DW_MODE);
}

/* The 3x3 loops' shape: stride 1 or 2 on both axes, dilation 1, multiplier 1. */
static bool dw_is_3x3(const qk_conv2d_int8_desc *d) {
  return d->k_h == 3 && d->k_w == 3 && d->dilation_h == 1 && d->dilation_w == 1 && d->stride_h == d->stride_w &&
         (d->stride_h == 1 || d->stride_h == 2) && d->depth_multiplier == 1;
}

/* Only the 3x3 loops read the zero row. */
size_t DW_NAME(workspace_size)(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g) {
  (void)g;
  return dw_is_3x3(d) ? qk_dw16_workspace_size(d, DW_VL) : 0;
}

void DW_NAME(run)(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g, const void *packed, const int16_t *x,
                  int16_t *y, void *workspace) {
  qk_dw16_ctx k;
  qk_dw16_ctx_init(&k, d, g, packed, DW_VL, DW_MODE);
  if (!dw_is_3x3(d)) {
    dw_general(&k, x, y);
    return;
  }
  int16_t *zero = workspace;
  memset(zero, 0, qk_dw16_workspace_size(d, DW_VL));
  if (k.C < DW_VL) dw_3x3_narrow(&k, x, y, zero, d->stride_h);
  else if (d->stride_h == 1) dw_3x3_s1(&k, x, y, zero);
  else dw_3x3_s2(&k, x, y, zero);
}

#endif
