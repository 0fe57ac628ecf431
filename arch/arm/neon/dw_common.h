/* Pieces shared by the ARM int8 depthwise variants (neon 16c, neondot 16c4): the packed header and
 * per-channel constants, the TBL indices for depth multipliers, the zero-point row, per-tap input
 * pointers, the int8 multiply-accumulates and the requantizing epilogue. Base armv8-a NEON only, so
 * it compiles under each folder's -march. See qk_int8_dwconv2d_16c__neon.c for the arithmetic.
 *
 * Packed buffer (64-byte aligned, self-contained), Op = O rounded up to 16:
 *   int32 hdr[16]          flags (QK_DW_HAS_M128), O
 *   int32 bias'[Op], mult[Op], lsh[Op] (max(shift,0)), rsh[Op] (min(shift,0)), tneg[Op] (shift-31)
 *   weights                variant-specific layout, a multiple of 16 bytes
 *   uint8 idx[blocks][16]  TBL indices per channel block (used when the multiplier is > 1)
 * where bias'[oc] = bias[oc] - zp_in * sum over all taps of w[t][oc] (uint32 wrap). Padded channels
 * have multiplier 0 and zero weights: they compute a harmless 0 that is never stored. */
#ifndef QK_ARM_DW_COMMON_H
#define QK_ARM_DW_COMMON_H

#include <arm_neon.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "qk/conv.h"
#include "neon_tail.h"
#include "pool_window.h"
#include "requant.h"

enum { QK_DW_NB = 16, QK_DW_HDR = 64, QK_DW_HAS_M128 = 1 };

static inline size_t qk_dw_pad16(size_t n) { return (n + QK_DW_NB - 1) / QK_DW_NB * QK_DW_NB; }
static inline size_t qk_dw_taps(const qk_conv2d_int8_desc *d) { return d->k_h * d->k_w; }
/* The zero-point row: at least C and at least 16 bytes, so every block's 16-byte load fits. */
static inline size_t qk_dw_zp_bytes(size_t C) { return ((C > QK_DW_NB ? C : QK_DW_NB) + 63) / 64 * 64; }
static inline size_t qk_dw_head_bytes(size_t O) { return QK_DW_HDR + 5 * qk_dw_pad16(O) * sizeof(int32_t); }

static inline size_t qk_dw_block_count(size_t O) {
  size_t n = 0;
  for (size_t c0 = 0; c0 < O; c0 = qk_neon_next_block(c0, O)) n++;
  return n;
}

/* First input channel a block of output channels [oc0, oc0+16) loads 16 bytes from: its own first
 * input channel, moved down so the 16 bytes stay inside the pixel when C >= 16; 0 when C < 16. */
static inline size_t qk_dw_block_ic(size_t oc0, size_t C, size_t M) {
  if (C < QK_DW_NB) return 0;
  const size_t ic = oc0 / M;
  return ic < C - QK_DW_NB ? ic : C - QK_DW_NB;
}

/* Writes the header and the per-channel constants (the first qk_dw_head_bytes(O) bytes). */
static inline void qk_dw_pack_head(const qk_conv2d_int8_desc *d, const int8_t *w, const int32_t *bias, void *packed) {
  const size_t O = d->out_ch, Op = qk_dw_pad16(O), T = qk_dw_taps(d);
  int32_t *hdr = packed;
  memset(hdr, 0, QK_DW_HDR);
  int32_t *pb = (int32_t *)((char *)packed + QK_DW_HDR), *pm = pb + Op, *pl = pm + Op, *pr = pl + Op, *pt = pr + Op;
  int32_t flags = 0;
  for (size_t oc = 0; oc < Op; oc++) {
    if (oc >= O) {
      pb[oc] = pm[oc] = pl[oc] = pr[oc] = 0;
      pt[oc] = -31;
      continue;
    }
    uint32_t sum = 0;
    for (size_t t = 0; t < T; t++) {
      sum += (uint32_t)(int32_t)w[t * O + oc];
      if (w[t * O + oc] == INT8_MIN) flags |= QK_DW_HAS_M128;
    }
    pb[oc] = (int32_t)((bias ? (uint32_t)bias[oc] : 0u) - (uint32_t)d->input_zp * sum);
    pm[oc] = d->multiplier[oc];
    const int32_t s = d->shift[oc];
    pl[oc] = s > 0 ? s : 0;
    pr[oc] = s > 0 ? 0 : s;
    pt[oc] = s - 31;
  }
  hdr[0] = flags;
  hdr[1] = (int32_t)O;
}

/* TBL indices: lane l of block oc0 takes input channel (oc0 + l) / M, relative to the block's load. */
static inline void qk_dw_pack_idx(const qk_conv2d_int8_desc *d, uint8_t *idx) {
  const size_t O = d->out_ch, C = d->in_ch, M = d->depth_multiplier;
  for (size_t c0 = 0; c0 < O; c0 = qk_neon_next_block(c0, O), idx += QK_DW_NB) {
    const size_t ic0 = qk_dw_block_ic(c0, C, M);
    for (size_t l = 0; l < QK_DW_NB; l++) idx[l] = c0 + l < O ? (uint8_t)((c0 + l) / M - ic0) : 0;
  }
}

typedef struct qk_dw_ctx {
  const int32_t *prm; /* bias', then mult, lsh, rsh, tneg at +Op, +2Op, ... */
  size_t Op;
  int32_t flags;
  qk_neon_out out;
} qk_dw_ctx;

static inline void qk_dw_ctx_init(qk_dw_ctx *k, const qk_conv2d_int8_desc *d, const void *packed) {
  k->flags = *(const int32_t *)packed;
  k->prm = (const int32_t *)((const char *)packed + QK_DW_HDR);
  k->Op = qk_dw_pad16(d->out_ch);
  k->out.zp = vdupq_n_s32(d->output_zp);
  k->out.lo = vdupq_n_s8((int8_t)d->act_min);
  k->out.hi = vdupq_n_s8((int8_t)d->act_max);
  k->out.single = d->rounding == QK_ROUND_SINGLE;
}

/* Fills the zero-point row at the start of the workspace; per-tap pointers follow it. */
static inline int8_t *qk_dw_zp_row(const qk_conv2d_int8_desc *d, void *workspace) {
  memset(workspace, (int)(int8_t)d->input_zp, qk_dw_zp_bytes(d->in_ch));
  return workspace;
}

static inline const int8_t **qk_dw_ptr_array(const qk_conv2d_int8_desc *d, void *workspace) {
  return (const int8_t **)((char *)workspace + qk_dw_zp_bytes(d->in_ch));
}

/* The input pixel of every tap of output (b, oy, ox), or the zero-point row where it is outside. */
static inline void qk_dw_tap_ptrs(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g, const int8_t *x,
                                  const int8_t *zp, size_t b, size_t oy, size_t ox, const int8_t **ptr) {
  const size_t H = d->in_h, W = d->in_w, C = d->in_ch;
  for (size_t ky = 0; ky < d->k_h; ky++) {
    const size_t iyp = oy * d->stride_h + ky * d->dilation_h; /* input row + pad */
    const bool row_in = iyp >= g->pad_top && iyp - g->pad_top < H;
    for (size_t kx = 0; kx < d->k_w; kx++) {
      const size_t ixp = ox * d->stride_w + kx * d->dilation_w;
      const bool in = row_in && ixp >= g->pad_left && ixp - g->pad_left < W;
      ptr[ky * d->k_w + kx] = in ? x + ((b * H + iyp - g->pad_top) * W + ixp - g->pad_left) * C : zp;
    }
  }
}

/* 16 input bytes for tap pointer p in a block loading from input channel ic0. With C < 16 (small)
 * a 16-byte load may pass the end of x: read only what lies inside. The zp row is always long
 * enough. Lanes beyond the pixel's channels are never stored. */
static inline __attribute__((always_inline)) int8x16_t qk_dw_load_tap(const int8_t *p, size_t ic0, bool small,
                                                                      const int8_t *zp, const int8_t *x_end) {
  if (small && p != zp) return qk_neon_load_s8x16_upto(p, x_end);
  return vld1q_s8(p + ic0);
}

/* acc[0..3] (channels 0-3, 4-7, 8-11, 12-15) += x * w, one tap. */
static inline __attribute__((always_inline)) void qk_dw_mac1(int32x4_t acc[4], int8x16_t x, int8x16_t w) {
  const int16x8_t lo = vmull_s8(vget_low_s8(x), vget_low_s8(w));
  const int16x8_t hi = vmull_high_s8(x, w);
  acc[0] = vaddw_s16(acc[0], vget_low_s16(lo));
  acc[1] = vaddw_high_s16(acc[1], lo);
  acc[2] = vaddw_s16(acc[2], vget_low_s16(hi));
  acc[3] = vaddw_high_s16(acc[3], hi);
}

/* Two taps summed in int16 first. Only for filters without -128 weights: |w| <= 127 bounds a
 * product by 127*128 = 16256 and a pair by 32512, while two (-128)(-128) would make 32768. */
static inline __attribute__((always_inline)) void qk_dw_mac2(int32x4_t acc[4], int8x16_t xa, int8x16_t wa,
                                                             int8x16_t xb, int8x16_t wb) {
  int16x8_t lo = vmull_s8(vget_low_s8(xa), vget_low_s8(wa));
  int16x8_t hi = vmull_high_s8(xa, wa);
  lo = vmlal_s8(lo, vget_low_s8(xb), vget_low_s8(wb));
  hi = vmlal_high_s8(hi, xb, wb);
  acc[0] = vaddw_s16(acc[0], vget_low_s16(lo));
  acc[1] = vaddw_high_s16(acc[1], lo);
  acc[2] = vaddw_s16(acc[2], vget_low_s16(hi));
  acc[3] = vaddw_high_s16(acc[3], hi);
}

static inline __attribute__((always_inline)) void qk_dw_acc_init(const qk_dw_ctx *k, size_t c0, int32x4_t acc[4]) {
  for (int i = 0; i < 4; i++) acc[i] = vld1q_s32(k->prm + c0 + 4 * i);
}

/* Requantizes channels [c0, c0+16) and narrows them with the clamp. */
static inline __attribute__((always_inline)) int8x16_t qk_dw_finish(const qk_dw_ctx *k, size_t c0,
                                                                    int32x4_t acc[4]) {
  const int32_t *m = k->prm + k->Op + c0;
  for (int i = 0; i < 4; i++) {
    const int32x4_t mv = vld1q_s32(m + 4 * i);
    if (k->out.single)
      acc[i] = qk_neon_mbqm_single(acc[i], mv, vld1q_s32(m + 3 * k->Op + 4 * i));
    else
      acc[i] = qk_neon_mbqm_double(acc[i], mv, vld1q_s32(m + k->Op + 4 * i), vld1q_s32(m + 2 * k->Op + 4 * i));
    acc[i] = vaddq_s32(acc[i], k->out.zp);
  }
  return qk_neon_narrow_clamp_s8x16(acc[0], acc[1], acc[2], acc[3], &k->out);
}

/* Interior columns of a 3-wide kernel row: ox with pad <= ox*s and ox*s + 2 < W + pad, as [lo, hi). */
static inline void qk_dw_interior3(size_t W, size_t s, size_t pad, size_t OW, size_t *lo, size_t *hi) {
  *lo = (pad + s - 1) / s;
  size_t h = W + pad >= 3 ? (W + pad - 3) / s + 1 : 0;
  if (h > OW) h = OW;
  if (h < *lo) h = *lo;
  *hi = h;
}

/* The nine tap pointers of a border column of a 3x3 row (rows[ky] NULL when that row is outside). */
static inline void qk_dw_border9(const int8_t *const rows[3], const int8_t *zp, size_t ox, size_t s, size_t pad,
                                 size_t W, size_t C, size_t c0, const int8_t *p[9]) {
  for (size_t kx = 0; kx < 3; kx++) {
    const size_t ixp = ox * s + kx; /* input column + pad */
    const bool in = ixp >= pad && ixp - pad < W;
    for (size_t ky = 0; ky < 3; ky++) p[3 * ky + kx] = rows[ky] && in ? rows[ky] + (ixp - pad) * C + c0 : zp + c0;
  }
}

#endif
