/* 16x8 DepthwiseConv2D, NHWC, armv8-a NEON, 16 output channels per step. Matches
 * qk_ref_dwconv2d_i16x8 (SPEC.md §5, MBQM64 of §1.5) bit for bit, for any kernel, stride,
 * dilation, padding and depth multiplier; 3x3 with stride 1 or 2, dilation 1 and multiplier 1 has
 * its own loop.
 *
 * Arithmetic:
 * - Per tap: 16 int16 inputs (two q registers) and 16 int8 weights widened by SXTL / SXTL2, then
 *   SMLAL / SMLAL2 into four int32x4 accumulators (channels 0-3, 4-7, 8-11, 12-15).
 * - Overflow bound: |w * x| <= 128 * 32768 = 2^22 and each int32 lane takes one product per tap;
 *   512 products could reach 2^31 (all x = -32768, w = -128), one past INT32_MAX. The lanes are
 *   therefore flushed into int64 sums (which start from the int64 bias) every CHUNK = 256 taps,
 *   |partial| <= 2^30. Kernels up to 16x16 never flush before the end; the 3x3 loop never does.
 * - A tap outside the image reads a row of int16 zeros: w * 0 adds nothing, exactly as the
 *   reference skips it (the 16x8 path has no zero points, SPEC.md §5).
 * - Epilogue: MBQM64 per channel, int32 truncation, saturating narrow and int16 clamp
 *   (i16x8_neon.h).
 *
 * Memory: channels are the vector dimension, blocked as dw_common.h does for int8: blocks 0, 16,
 * ... and a last one ending at O that overlaps the previous one (identical lanes recomputed), so
 * with O >= 16 no access leaves a pixel. With C < 16 a tap's 16 loads come through the stack where
 * they would pass the end of x, and with O < 16 only O lanes are stored. Depth multiplier M > 1:
 * output channel oc reads input channel oc / M; a block loads 16 input channels once per tap and
 * spreads them with a two-register TBL (per-block byte indices computed at pack time).
 *
 * Packed buffer (64-byte aligned, self-contained), Op = O rounded up to 16, T = k_h * k_w:
 *   int32 hdr[16] (O), int64 bias[Op], int32 rm[Op], int64 tneg[Op] (= shift - 15),
 *   int8 w[T][Op] (the filter's own [1, kh, kw, O] order, rows zero-padded to Op),
 *   uint8 idx[blocks][32] (TBL byte indices: lanes 0-7, then lanes 8-15).
 * Workspace: the zero row (max(C, 16) int16, rounded to 64 bytes) and one input pointer per tap. */
#include <arm_neon.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dw_common.h"
#include "i16x8_neon.h"
#include "variants.h"

#define NB 16
#define CHUNK 256 /* taps per int32 partial sum: see the bound above */

enum { HDR = 64 };

static size_t off_rm(size_t Op) { return HDR + 8 * Op; }
static size_t off_t(size_t Op) { return HDR + 12 * Op; }
static size_t off_w(size_t Op) { return HDR + 20 * Op; }
static size_t zero_bytes(size_t C) { return ((C > NB ? C : NB) * sizeof(int16_t) + 63) / 64 * 64; }

size_t qk_i16x8_dwconv2d_16c__neon_packed_size(const qk_conv2d_int8_desc *d) {
  const size_t O = d->out_ch, Op = qk_dw_pad16(O);
  return off_w(Op) + qk_dw_taps(d) * Op + qk_dw_block_count(O) * 32;
}

void qk_i16x8_dwconv2d_16c__neon_pack(const qk_conv2d_int8_desc *d, const int8_t *w, const int64_t *bias,
                                      void *packed) {
  const size_t O = d->out_ch, Op = qk_dw_pad16(O), T = qk_dw_taps(d), C = d->in_ch, M = d->depth_multiplier;
  char *p = packed;
  memset(p, 0, HDR);
  ((int32_t *)packed)[0] = (int32_t)O;
  int64_t *pb = (int64_t *)(void *)(p + HDR), *pt = (int64_t *)(void *)(p + off_t(Op));
  int32_t *pm = (int32_t *)(void *)(p + off_rm(Op));
  for (size_t oc = 0; oc < Op; oc++) {
    pb[oc] = oc < O && bias ? bias[oc] : 0;
    pm[oc] = oc < O ? qk_i16x8_reduced_multiplier(d->multiplier[oc]) : 0;
    pt[oc] = oc < O ? d->shift[oc] - 15 : -15;
  }
  int8_t *pw = (int8_t *)(p + off_w(Op));
  for (size_t t = 0; t < T; t++) {
    memcpy(pw + t * Op, w + t * O, O);
    memset(pw + t * Op + O, 0, Op - O);
  }
  /* Byte indices into the 32 bytes of the block's 16 input channels: lane l is output channel
   * c0 + l, input channel (c0 + l) / M, i.e. bytes 2i and 2i + 1 relative to the load. */
  uint8_t *idx = (uint8_t *)(pw + T * Op);
  for (size_t c0 = 0; c0 < O; c0 = qk_neon_next_block(c0, O), idx += 32) {
    const size_t ic0 = qk_dw_block_ic(c0, C, M);
    for (size_t l = 0; l < NB; l++) {
      const size_t i = c0 + l < O ? (c0 + l) / M - ic0 : 0;
      idx[2 * l] = (uint8_t)(2 * i);
      idx[2 * l + 1] = (uint8_t)(2 * i + 1);
    }
  }
}

size_t qk_i16x8_dwconv2d_16c__neon_workspace_size(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g) {
  (void)g;
  return zero_bytes(d->in_ch) + qk_dw_taps(d) * sizeof(const int16_t *);
}

typedef struct ctx {
  const int64_t *bias, *tneg;
  const int32_t *rm;
  const int8_t *w;
  const uint8_t *idx;
  size_t Op;
  int16x8_t lo, hi;
} ctx;

/* acc[0..3] += x * w for one tap: xa holds channels 0-7, xb 8-15; wl / wh the widened weights. */
static inline __attribute__((always_inline)) void mac(int32x4_t acc[4], int16x8_t xa, int16x8_t xb, int16x8_t wl,
                                                      int16x8_t wh) {
  acc[0] = vmlal_s16(acc[0], vget_low_s16(xa), vget_low_s16(wl));
  acc[1] = vmlal_high_s16(acc[1], xa, wl);
  acc[2] = vmlal_s16(acc[2], vget_low_s16(xb), vget_low_s16(wh));
  acc[3] = vmlal_high_s16(acc[3], xb, wh);
}

static inline __attribute__((always_inline)) void zero4(int32x4_t acc[4]) {
  for (int q = 0; q < 4; q++) acc[q] = vdupq_n_s32(0);
}

/* s[0..7] (int64, two channels each) += the int32 lanes of acc. */
static inline __attribute__((always_inline)) void flush(int64x2_t s[8], const int32x4_t acc[4]) {
  for (int q = 0; q < 4; q++) {
    s[2 * q] = vaddw_s32(s[2 * q], vget_low_s32(acc[q]));
    s[2 * q + 1] = vaddw_high_s32(s[2 * q + 1], acc[q]);
  }
}

static inline __attribute__((always_inline)) void load_bias(const ctx *k, size_t c0, int64x2_t s[8]) {
  for (int i = 0; i < 8; i++) s[i] = vld1q_s64(k->bias + c0 + 2 * i);
}

/* Requantizes channels [c0, c0+16) from their int64 sums and stores n (<= 16) of them. */
static inline __attribute__((always_inline)) void finish(const ctx *k, size_t c0, const int64x2_t s[8], int16_t *y,
                                                         size_t n) {
  int32x4_t v[4];
  for (int q = 0; q < 4; q++)
    v[q] = qk_neon_mbqm64x4(s[2 * q], s[2 * q + 1], vld1q_s32(k->rm + c0 + 4 * q), vld1q_s64(k->tneg + c0 + 4 * q),
                            vld1q_s64(k->tneg + c0 + 4 * q + 2));
  qk_neon_store_s16x16(y, qk_neon_narrow_clamp_s16(v[0], v[1], k->lo, k->hi),
                       qk_neon_narrow_clamp_s16(v[2], v[3], k->lo, k->hi), n);
}

/* ---- 3x3, stride 1 or 2, dilation 1, M = 1, C >= 16 ----
 * Loop order batch, output row, channel block, output column: the nine widened weight pairs stay
 * in registers along a row. Interior columns step nine pointers; border columns pick each tap's
 * pointer (the zero row where it is outside). */

static inline __attribute__((always_inline)) void pixel9(const ctx *k, size_t c0, const int16_t *const p[9],
                                                         const int16x8_t wl[9], const int16x8_t wh[9], int16_t *y) {
  int32x4_t acc[4];
  zero4(acc);
  for (int t = 0; t < 9; t++) mac(acc, vld1q_s16(p[t]), vld1q_s16(p[t] + 8), wl[t], wh[t]);
  int64x2_t s[8];
  load_bias(k, c0, s);
  flush(s, acc);
  finish(k, c0, s, y, NB);
}

static void border9(const int16_t *const rows[3], const int16_t *zero, size_t ox, size_t s, size_t pad, size_t W,
                    size_t C, size_t c0, const int16_t *p[9]) {
  for (size_t kx = 0; kx < 3; kx++) {
    const size_t ixp = ox * s + kx; /* input column + pad */
    const bool in = ixp >= pad && ixp - pad < W;
    for (size_t ky = 0; ky < 3; ky++) p[3 * ky + kx] = rows[ky] && in ? rows[ky] + (ixp - pad) * C + c0 : zero + c0;
  }
}

static void row3x3(const ctx *k, const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g, const int16_t *const rows[3],
                   const int16_t *zero, int16_t *y) {
  const size_t C = d->in_ch, W = d->in_w, s = d->stride_w, OW = g->out_w, pad = g->pad_left;
  size_t lo, hi;
  qk_dw_interior3(W, s, pad, OW, &lo, &hi);
  for (size_t c0 = 0; c0 < C; c0 = qk_neon_next_block(c0, C)) {
    int16x8_t wl[9], wh[9];
    for (size_t t = 0; t < 9; t++) {
      const int8x16_t w8 = vld1q_s8(k->w + t * k->Op + c0);
      wl[t] = vmovl_s8(vget_low_s8(w8));
      wh[t] = vmovl_high_s8(w8);
    }
    const int16_t *p[9];
    for (size_t ox = 0; ox < lo && ox < OW; ox++) {
      border9(rows, zero, ox, s, pad, W, C, c0, p);
      pixel9(k, c0, p, wl, wh, y + ox * C + c0);
    }
    if (lo < hi) {
      /* Each row's taps are three consecutive pixels, or the zero row with step 0. */
      const int16_t *base[3];
      size_t step[3];
      for (int ky = 0; ky < 3; ky++) {
        base[ky] = rows[ky] ? rows[ky] + (lo * s - pad) * C + c0 : zero + c0;
        step[ky] = rows[ky] ? C : 0;
      }
      for (size_t ox = lo; ox < hi; ox++) {
        for (int ky = 0; ky < 3; ky++)
          for (int kx = 0; kx < 3; kx++) p[3 * ky + kx] = base[ky] + (size_t)kx * step[ky];
        pixel9(k, c0, p, wl, wh, y + ox * C + c0);
        for (int ky = 0; ky < 3; ky++) base[ky] += s * step[ky];
      }
    }
    for (size_t ox = hi > lo ? hi : lo; ox < OW; ox++) {
      border9(rows, zero, ox, s, pad, W, C, c0, p);
      pixel9(k, c0, p, wl, wh, y + ox * C + c0);
    }
  }
}

static void run3x3(const ctx *k, const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g, const int16_t *x,
                   const int16_t *zero, int16_t *y) {
  const size_t H = d->in_h, W = d->in_w, C = d->in_ch, s = d->stride_h, pad = g->pad_top;
  for (size_t b = 0; b < d->batch; b++)
    for (size_t oy = 0; oy < g->out_h; oy++, y += g->out_w * C) {
      const int16_t *rows[3];
      for (size_t ky = 0; ky < 3; ky++) {
        const size_t iyp = oy * s + ky; /* input row + pad */
        rows[ky] = iyp >= pad && iyp - pad < H ? x + (b * H + iyp - pad) * W * C : NULL;
      }
      row3x3(k, d, g, rows, zero, y);
    }
}

/* ---- general: any kernel, stride, dilation, multiplier ----
 * Per output pixel, one pointer per tap (the pixel, or the zero row when the tap is outside); then
 * per channel block all taps, in chunks of CHUNK between int64 flushes. */

/* 16 input channels of tap pointer p for a block loading from input channel ic0. With C < 16
 * (small) 16 channels from a pixel may pass the end of x: only what lies inside is read. The zero
 * row is always long enough. Lanes past the pixel's channels are never used. */
static inline __attribute__((always_inline)) void load_tap(const int16_t *p, size_t ic0, bool small,
                                                           const int16_t *zero, const int16_t *x_end, int16x8_t v[2]) {
  if (small && p != zero && (size_t)(x_end - p) < NB) {
    qk_neon_load_s16x16_part(p, (size_t)(x_end - p), v);
    return;
  }
  v[0] = vld1q_s16(p + ic0);
  v[1] = vld1q_s16(p + ic0 + 8);
}

static inline __attribute__((always_inline)) void general_pixel(const ctx *k, const int16_t *const *ptr, size_t T,
                                                                size_t C, size_t O, size_t M, const int16_t *zero,
                                                                const int16_t *x_end, int16_t *y, bool spread) {
  const bool small = C < NB;
  const uint8_t *idx = k->idx;
  for (size_t c0 = 0; c0 < O; c0 = qk_neon_next_block(c0, O), idx += 32) {
    const size_t ic0 = qk_dw_block_ic(c0, C, M);
    const uint8x16_t ia = vld1q_u8(idx), ib = vld1q_u8(idx + 16);
    const int8_t *wp = k->w + c0;
    int64x2_t s[8];
    load_bias(k, c0, s);
    int32x4_t acc[4];
    for (size_t t0 = 0; t0 < T; t0 += CHUNK) {
      const size_t te = T - t0 < CHUNK ? T : t0 + CHUNK;
      zero4(acc);
      for (size_t t = t0; t < te; t++, wp += k->Op) {
        int16x8_t xv[2];
        load_tap(ptr[t], ic0, small, zero, x_end, xv);
        if (spread) {
          const int8x16x2_t tb = {{vreinterpretq_s8_s16(xv[0]), vreinterpretq_s8_s16(xv[1])}};
          xv[0] = vreinterpretq_s16_s8(vqtbl2q_s8(tb, ia));
          xv[1] = vreinterpretq_s16_s8(vqtbl2q_s8(tb, ib));
        }
        const int8x16_t w8 = vld1q_s8(wp);
        mac(acc, xv[0], xv[1], vmovl_s8(vget_low_s8(w8)), vmovl_high_s8(w8));
      }
      flush(s, acc);
    }
    finish(k, c0, s, y + c0, O >= NB ? NB : O);
  }
}

static void tap_ptrs(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g, const int16_t *x, const int16_t *zero,
                     size_t b, size_t oy, size_t ox, const int16_t **ptr) {
  const size_t H = d->in_h, W = d->in_w, C = d->in_ch;
  for (size_t ky = 0; ky < d->k_h; ky++) {
    const size_t iyp = oy * d->stride_h + ky * d->dilation_h; /* input row + pad */
    const bool row_in = iyp >= g->pad_top && iyp - g->pad_top < H;
    for (size_t kx = 0; kx < d->k_w; kx++) {
      const size_t ixp = ox * d->stride_w + kx * d->dilation_w;
      const bool in = row_in && ixp >= g->pad_left && ixp - g->pad_left < W;
      ptr[ky * d->k_w + kx] = in ? x + ((b * H + iyp - g->pad_top) * W + ixp - g->pad_left) * C : zero;
    }
  }
}

static void run_general(const ctx *k, const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g, const int16_t *x,
                        const int16_t *zero, const int16_t **ptr, int16_t *y) {
  const size_t C = d->in_ch, O = d->out_ch, M = d->depth_multiplier, T = qk_dw_taps(d);
  const int16_t *const x_end = x + d->batch * d->in_h * d->in_w * C;
  for (size_t b = 0; b < d->batch; b++)
    for (size_t oy = 0; oy < g->out_h; oy++)
      for (size_t ox = 0; ox < g->out_w; ox++, y += O) {
        tap_ptrs(d, g, x, zero, b, oy, ox, ptr);
        if (M > 1) general_pixel(k, ptr, T, C, O, M, zero, x_end, y, true);
        else general_pixel(k, ptr, T, C, O, M, zero, x_end, y, false);
      }
}

void qk_i16x8_dwconv2d_16c__neon_run(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g, const void *packed,
                                     const int16_t *x, int16_t *y, void *workspace) {
  const size_t O = d->out_ch, Op = qk_dw_pad16(O);
  const char *p = packed;
  ctx k;
  k.bias = (const int64_t *)(const void *)(p + HDR);
  k.rm = (const int32_t *)(const void *)(p + off_rm(Op));
  k.tneg = (const int64_t *)(const void *)(p + off_t(Op));
  k.w = (const int8_t *)(p + off_w(Op));
  k.idx = (const uint8_t *)(k.w + qk_dw_taps(d) * Op);
  k.Op = Op;
  k.lo = vdupq_n_s16((int16_t)d->act_min);
  k.hi = vdupq_n_s16((int16_t)d->act_max);
  int16_t *zero = workspace;
  memset(zero, 0, zero_bytes(d->in_ch));
  if (d->k_h == 3 && d->k_w == 3 && d->dilation_h == 1 && d->dilation_w == 1 && d->depth_multiplier == 1 &&
      d->stride_h == d->stride_w && (d->stride_h == 1 || d->stride_h == 2) && d->in_ch >= NB)
    run3x3(&k, d, g, x, zero, y);
  else
    run_general(&k, d, g, x, zero, (const int16_t **)(void *)((char *)workspace + zero_bytes(d->in_ch)), y);
}
