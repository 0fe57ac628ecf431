/* int8 DepthwiseConv2D, NHWC, armv8-a NEON, 16 output channels per step. Matches
 * qk_ref_dwconv2d_int8 (SPEC.md §5) bit for bit, for any kernel, stride, dilation, padding and
 * depth multiplier; 3x3 with stride 1 or 2, dilation 1 and multiplier 1 has its own loop.
 *
 * Arithmetic:
 * - The input zero point is folded into the bias at pack time over all k_h*k_w taps:
 *     bias'[oc] = bias[oc] - zp_in * sum_t w[t][oc]      (uint32 wrap, as the reference sums)
 *   A tap outside the image then reads a buffer filled with zp_in, so it adds w*zp_in, which the
 *   folded term cancels: the same as skipping it. All sums are mod 2^32, like the reference's.
 * - Products are SMULL on int8 into int16. Two taps share one int16 lane (SMULL + SMLAL) when no
 *   weight is -128: |w| <= 127 bounds each product by 127*128 = 16256, a pair by 32512. With a -128
 *   weight a pair can reach 2 * 16384 = 32768, so such filters (flagged at pack time) add every tap
 *   on its own. SADDW / SADDW2 widen the int16 sums into four int32x4 accumulators.
 * - Requantization is requant.h's (both roundings, per-channel constants copied at pack time).
 *
 * Memory: channels are the vector dimension. With O >= 16 the blocks are 0, 16, ... and a last one
 * ending at O that overlaps the previous (recomputing identical lanes), so no load or store leaves
 * a pixel. With O < 16 one block reads 16 bytes only where they lie inside x (else through the
 * stack) and stores O bytes. Depth multiplier M > 1: output channel oc reads input channel oc / M;
 * a block loads 16 input bytes once per tap and spreads them with TBL, using per-block indices
 * computed at pack time.
 *
 * Packed buffer: dw_common.h's header and constants, then w[taps][Op] (the filter's own
 * [1, kh, kw, O] order, rows zero-padded to Op), then the TBL indices.
 * Workspace: the zero-point row (max(C, 16) bytes, rounded to 64) and one input pointer per tap. */
#include <arm_neon.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dw_common.h"
#include "variants.h"

#define NB QK_DW_NB

static const int8_t *weights(const qk_conv2d_int8_desc *d, const void *packed) {
  return (const int8_t *)packed + qk_dw_head_bytes(d->out_ch);
}

size_t qk_int8_dwconv2d_16c__neon_packed_size(const qk_conv2d_int8_desc *d) {
  const size_t O = d->out_ch;
  return qk_dw_head_bytes(O) + qk_dw_taps(d) * qk_dw_pad16(O) + qk_dw_block_count(O) * NB;
}

void qk_int8_dwconv2d_16c__neon_pack(const qk_conv2d_int8_desc *d, const int8_t *w, const int32_t *bias,
                                     void *packed) {
  const size_t O = d->out_ch, Op = qk_dw_pad16(O), T = qk_dw_taps(d);
  qk_dw_pack_head(d, w, bias, packed);
  int8_t *pw = (int8_t *)packed + qk_dw_head_bytes(O);
  for (size_t t = 0; t < T; t++) {
    memcpy(pw + t * Op, w + t * O, O);
    memset(pw + t * Op + O, 0, Op - O);
  }
  qk_dw_pack_idx(d, (uint8_t *)(pw + T * Op));
}

size_t qk_int8_dwconv2d_16c__neon_workspace_size(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g) {
  (void)g;
  return qk_dw_zp_bytes(d->in_ch) + qk_dw_taps(d) * sizeof(const int8_t *);
}

/* ---- 3x3, stride 1 or 2, dilation 1, M = 1, C >= 16 ----
 * Loop order batch, output row, channel block, output column: the nine weight vectors stay in
 * registers along a row, and the three input rows a row needs (3 * W * C bytes) stay in L1 across
 * the channel blocks. Interior columns step nine pointers; border columns pick each tap's pointer. */

static inline __attribute__((always_inline)) int8x16_t pixel9(const qk_dw_ctx *k, size_t c0,
                                                              const int8_t *const p[9], const int8x16_t w[9],
                                                              bool paired) {
  int32x4_t acc[4];
  qk_dw_acc_init(k, c0, acc);
  if (paired) {
    qk_dw_mac2(acc, vld1q_s8(p[0]), w[0], vld1q_s8(p[1]), w[1]);
    qk_dw_mac2(acc, vld1q_s8(p[2]), w[2], vld1q_s8(p[3]), w[3]);
    qk_dw_mac2(acc, vld1q_s8(p[4]), w[4], vld1q_s8(p[5]), w[5]);
    qk_dw_mac2(acc, vld1q_s8(p[6]), w[6], vld1q_s8(p[7]), w[7]);
    qk_dw_mac1(acc, vld1q_s8(p[8]), w[8]);
  } else {
    for (int t = 0; t < 9; t++) qk_dw_mac1(acc, vld1q_s8(p[t]), w[t]);
  }
  return qk_dw_finish(k, c0, acc);
}

static inline __attribute__((always_inline)) void row3x3(const qk_dw_ctx *k, const int8_t *wts,
                                                         const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g,
                                                         const int8_t *const rows[3], const int8_t *zp, int8_t *y,
                                                         bool paired) {
  const size_t C = d->in_ch, W = d->in_w, s = d->stride_w, OW = g->out_w, pad = g->pad_left;
  size_t lo, hi;
  qk_dw_interior3(W, s, pad, OW, &lo, &hi);
  for (size_t c0 = 0; c0 < C; c0 = qk_neon_next_block(c0, C)) {
    int8x16_t w[9];
    for (size_t t = 0; t < 9; t++) w[t] = vld1q_s8(wts + t * k->Op + c0);
    const int8_t *p[9];
    for (size_t ox = 0; ox < lo && ox < OW; ox++) {
      qk_dw_border9(rows, zp, ox, s, pad, W, C, c0, p);
      vst1q_s8(y + ox * C + c0, pixel9(k, c0, p, w, paired));
    }
    if (lo < hi) {
      /* Each row's taps are three consecutive pixels, or the zp row with step 0. */
      const int8_t *base[3];
      size_t step[3];
      for (int ky = 0; ky < 3; ky++) {
        base[ky] = rows[ky] ? rows[ky] + (lo * s - pad) * C + c0 : zp + c0;
        step[ky] = rows[ky] ? C : 0;
      }
      for (size_t ox = lo; ox < hi; ox++) {
        for (int ky = 0; ky < 3; ky++)
          for (int kx = 0; kx < 3; kx++) p[3 * ky + kx] = base[ky] + (size_t)kx * step[ky];
        vst1q_s8(y + ox * C + c0, pixel9(k, c0, p, w, paired));
        for (int ky = 0; ky < 3; ky++) base[ky] += s * step[ky];
      }
    }
    for (size_t ox = hi > lo ? hi : lo; ox < OW; ox++) {
      qk_dw_border9(rows, zp, ox, s, pad, W, C, c0, p);
      vst1q_s8(y + ox * C + c0, pixel9(k, c0, p, w, paired));
    }
  }
}

static void run3x3(const qk_dw_ctx *k, const int8_t *wts, const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g,
                   const int8_t *x, const int8_t *zp, int8_t *y) {
  const size_t H = d->in_h, W = d->in_w, C = d->in_ch, s = d->stride_h, pad = g->pad_top;
  const bool paired = !(k->flags & QK_DW_HAS_M128);
  for (size_t b = 0; b < d->batch; b++)
    for (size_t oy = 0; oy < g->out_h; oy++, y += g->out_w * C) {
      const int8_t *rows[3];
      for (size_t ky = 0; ky < 3; ky++) {
        const size_t iyp = oy * s + ky; /* input row + pad */
        rows[ky] = iyp >= pad && iyp - pad < H ? x + (b * H + iyp - pad) * W * C : NULL;
      }
      if (paired) row3x3(k, wts, d, g, rows, zp, y, true);
      else row3x3(k, wts, d, g, rows, zp, y, false);
    }
}

/* ---- general: any kernel, stride, dilation, multiplier ----
 * Per output pixel, one pointer per tap (the pixel, or the zp row when the tap is outside); then
 * per channel block all taps, two at a time when the filter allows. */

static inline __attribute__((always_inline)) void general_pixel(const qk_dw_ctx *k, const int8_t *wts,
                                                                const uint8_t *idx, const int8_t *const *ptr,
                                                                size_t T, size_t C, size_t O, size_t M,
                                                                const int8_t *zp, const int8_t *x_end, int8_t *y,
                                                                bool paired) {
  const bool small = C < NB, spread = M > 1;
  for (size_t c0 = 0; c0 < O; c0 = qk_neon_next_block(c0, O), idx += NB) {
    const size_t ic0 = qk_dw_block_ic(c0, C, M);
    const uint8x16_t ix = vld1q_u8(idx);
    const int8_t *wp = wts + c0;
    int32x4_t acc[4];
    qk_dw_acc_init(k, c0, acc);
    size_t t = 0;
    if (paired) {
      for (; t + 2 <= T; t += 2, wp += 2 * k->Op) {
        int8x16_t xa = qk_dw_load_tap(ptr[t], ic0, small, zp, x_end);
        int8x16_t xb = qk_dw_load_tap(ptr[t + 1], ic0, small, zp, x_end);
        if (spread) xa = vqtbl1q_s8(xa, ix), xb = vqtbl1q_s8(xb, ix);
        qk_dw_mac2(acc, xa, vld1q_s8(wp), xb, vld1q_s8(wp + k->Op));
      }
    }
    for (; t < T; t++, wp += k->Op) {
      int8x16_t xa = qk_dw_load_tap(ptr[t], ic0, small, zp, x_end);
      if (spread) xa = vqtbl1q_s8(xa, ix);
      qk_dw_mac1(acc, xa, vld1q_s8(wp));
    }
    const int8x16_t r = qk_dw_finish(k, c0, acc);
    if (O >= NB) vst1q_s8(y + c0, r);
    else qk_neon_store_s8x16(y + c0, r, O);
  }
}

static void run_general(const qk_dw_ctx *k, const int8_t *wts, const uint8_t *idx, const qk_conv2d_int8_desc *d,
                        const qk_conv2d_geom *g, const int8_t *x, const int8_t *zp, const int8_t **ptr, int8_t *y) {
  const size_t C = d->in_ch, O = d->out_ch, M = d->depth_multiplier, T = qk_dw_taps(d);
  const int8_t *const x_end = x + d->batch * d->in_h * d->in_w * C;
  const bool paired = !(k->flags & QK_DW_HAS_M128);
  for (size_t b = 0; b < d->batch; b++)
    for (size_t oy = 0; oy < g->out_h; oy++)
      for (size_t ox = 0; ox < g->out_w; ox++, y += O) {
        qk_dw_tap_ptrs(d, g, x, zp, b, oy, ox, ptr);
        if (paired) general_pixel(k, wts, idx, ptr, T, C, O, M, zp, x_end, y, true);
        else general_pixel(k, wts, idx, ptr, T, C, O, M, zp, x_end, y, false);
      }
}

void qk_int8_dwconv2d_16c__neon_run(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g, const void *packed,
                                    const int8_t *x, int8_t *y, void *workspace) {
  qk_dw_ctx k;
  qk_dw_ctx_init(&k, d, packed);
  const int8_t *wts = weights(d, packed);
  const uint8_t *idx = (const uint8_t *)(wts + qk_dw_taps(d) * k.Op);
  const int8_t *zp = qk_dw_zp_row(d, workspace);
  if (d->k_h == 3 && d->k_w == 3 && d->dilation_h == 1 && d->dilation_w == 1 && d->depth_multiplier == 1 &&
      d->stride_h == d->stride_w && (d->stride_h == 1 || d->stride_h == 2) && d->in_ch >= NB)
    run3x3(&k, wts, d, g, x, zp, y);
  else
    run_general(&k, wts, idx, d, g, x, zp, qk_dw_ptr_array(d, workspace), y);
}
