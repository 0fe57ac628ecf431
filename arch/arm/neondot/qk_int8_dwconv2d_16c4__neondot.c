/* int8 DepthwiseConv2D, NHWC, armv8.2-a + dotprod, 16 output channels per step, taps in groups of
 * 4. Matches qk_ref_dwconv2d_int8 (SPEC.md §5) bit for bit for any kernel, stride, dilation,
 * padding and depth multiplier; 3x3 with stride 1 or 2, dilation 1 and multiplier 1 has its own loop.
 *
 * Same scheme as qk_int8_dwconv2d_16c__neon.c (zero point folded into the bias, outside taps read
 * a row of zp_in, overlapping last channel block, TBL for depth multipliers; dw_common.h), with the
 * multiply-accumulate moved to SDOT: each 32-bit lane of SDOT sums four int8 products in int32, so
 * four taps of one channel must sit in one lane. Four tap vectors (16 channels each) are turned into
 * that order with two rounds of ZIP (bytes, then 16-bit pairs):
 *   zip1.8b(x0,x1) = c0t0 c0t1 c1t0 c1t1 ...   zip1.16b(.,zip1.8b(x2,x3)) = c0t0 c0t1 c0t2 c0t3 c1t0 ...
 * which gives channels 0-3, 4-7, 8-11, 12-15 in the same lanes as the accumulators. Weights are
 * stored in that order at pack time. SDOT is exact in int32 for any int8 inputs, -128 included, so
 * only the taps left over after the groups of 4 use the int16 path (and its -128 rule).
 * Per four taps and 16 channels: 8 ZIP + 4 SDOT, against 8 widening multiplies (one pipe on
 * Cortex-A76) + 8 SADDW for the plain NEON variant.
 *
 * Packed buffer: dw_common.h's header and constants, then
 *   int8 wg[T/4][Op][4]   groups of 4 taps, channel-major (taps 4g..4g+3 of channel c together)
 *   int8 wr[T%4][Op]      the remaining taps, plain
 *   uint8 idx[blocks][16] TBL indices
 * Workspace: the zero-point row and one input pointer per tap. */
#include <arm_neon.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../neon/dw_common.h"
#include "variants.h"

#define NB QK_DW_NB

static size_t groups_of(const qk_conv2d_int8_desc *d) { return qk_dw_taps(d) / 4; }

size_t qk_int8_dwconv2d_16c4__neondot_packed_size(const qk_conv2d_int8_desc *d) {
  const size_t O = d->out_ch;
  return qk_dw_head_bytes(O) + qk_dw_taps(d) * qk_dw_pad16(O) + qk_dw_block_count(O) * NB;
}

void qk_int8_dwconv2d_16c4__neondot_pack(const qk_conv2d_int8_desc *d, const int8_t *w, const int32_t *bias,
                                         void *packed) {
  const size_t O = d->out_ch, Op = qk_dw_pad16(O), T = qk_dw_taps(d), G = groups_of(d);
  qk_dw_pack_head(d, w, bias, packed);
  int8_t *pw = (int8_t *)packed + qk_dw_head_bytes(O);
  for (size_t g = 0; g < G; g++)
    for (size_t c = 0; c < Op; c++)
      for (size_t j = 0; j < 4; j++) *pw++ = c < O ? w[(4 * g + j) * O + c] : 0;
  for (size_t t = 4 * G; t < T; t++, pw += Op) {
    memcpy(pw, w + t * O, O);
    memset(pw + O, 0, Op - O);
  }
  qk_dw_pack_idx(d, (uint8_t *)pw);
}

size_t qk_int8_dwconv2d_16c4__neondot_workspace_size(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g) {
  (void)g;
  return qk_dw_zp_bytes(d->in_ch) + qk_dw_taps(d) * sizeof(const int8_t *);
}

/* acc += four taps x0..x3 against their group weights w[0..3] (channel-major, see the top). */
static inline __attribute__((always_inline)) void dot4(int32x4_t acc[4], int8x16_t x0, int8x16_t x1, int8x16_t x2,
                                                       int8x16_t x3, const int8x16_t w[4]) {
  const int16x8_t a = vreinterpretq_s16_s8(vzip1q_s8(x0, x1)), b = vreinterpretq_s16_s8(vzip1q_s8(x2, x3));
  const int16x8_t c = vreinterpretq_s16_s8(vzip2q_s8(x0, x1)), e = vreinterpretq_s16_s8(vzip2q_s8(x2, x3));
  acc[0] = vdotq_s32(acc[0], vreinterpretq_s8_s16(vzip1q_s16(a, b)), w[0]);
  acc[1] = vdotq_s32(acc[1], vreinterpretq_s8_s16(vzip2q_s16(a, b)), w[1]);
  acc[2] = vdotq_s32(acc[2], vreinterpretq_s8_s16(vzip1q_s16(c, e)), w[2]);
  acc[3] = vdotq_s32(acc[3], vreinterpretq_s8_s16(vzip2q_s16(c, e)), w[3]);
}

static inline __attribute__((always_inline)) void load_group(const int8_t *wg, size_t Op, size_t g, size_t c0,
                                                             int8x16_t w[4]) {
  const int8_t *p = wg + (g * Op + c0) * 4;
  for (int i = 0; i < 4; i++) w[i] = vld1q_s8(p + 16 * i);
}

/* ---- 3x3, stride 1 or 2, dilation 1, M = 1, C >= 16: taps 0-3 and 4-7 by SDOT, tap 8 by SMULL.
 * Loop order batch, output row, channel block, output column, weights in registers along a row. */

static inline __attribute__((always_inline)) int8x16_t pixel9(const qk_dw_ctx *k, size_t c0,
                                                              const int8_t *const p[9], const int8x16_t w[9]) {
  int32x4_t acc[4];
  qk_dw_acc_init(k, c0, acc);
  dot4(acc, vld1q_s8(p[0]), vld1q_s8(p[1]), vld1q_s8(p[2]), vld1q_s8(p[3]), w);
  dot4(acc, vld1q_s8(p[4]), vld1q_s8(p[5]), vld1q_s8(p[6]), vld1q_s8(p[7]), w + 4);
  qk_dw_mac1(acc, vld1q_s8(p[8]), w[8]);
  return qk_dw_finish(k, c0, acc);
}

static void row3x3(const qk_dw_ctx *k, const int8_t *wts, const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g,
                   const int8_t *const rows[3], const int8_t *zp, int8_t *y) {
  const size_t C = d->in_ch, W = d->in_w, s = d->stride_w, OW = g->out_w, pad = g->pad_left;
  size_t lo, hi;
  qk_dw_interior3(W, s, pad, OW, &lo, &hi);
  for (size_t c0 = 0; c0 < C; c0 = qk_neon_next_block(c0, C)) {
    int8x16_t w[9];
    load_group(wts, k->Op, 0, c0, w);
    load_group(wts, k->Op, 1, c0, w + 4);
    w[8] = vld1q_s8(wts + 8 * k->Op + c0); /* the remainder row follows the two groups */
    const int8_t *p[9];
    for (size_t ox = 0; ox < lo && ox < OW; ox++) {
      qk_dw_border9(rows, zp, ox, s, pad, W, C, c0, p);
      vst1q_s8(y + ox * C + c0, pixel9(k, c0, p, w));
    }
    if (lo < hi) {
      const int8_t *base[3];
      size_t step[3];
      for (int ky = 0; ky < 3; ky++) {
        base[ky] = rows[ky] ? rows[ky] + (lo * s - pad) * C + c0 : zp + c0;
        step[ky] = rows[ky] ? C : 0;
      }
      for (size_t ox = lo; ox < hi; ox++) {
        for (int ky = 0; ky < 3; ky++)
          for (int kx = 0; kx < 3; kx++) p[3 * ky + kx] = base[ky] + (size_t)kx * step[ky];
        vst1q_s8(y + ox * C + c0, pixel9(k, c0, p, w));
        for (int ky = 0; ky < 3; ky++) base[ky] += s * step[ky];
      }
    }
    for (size_t ox = hi > lo ? hi : lo; ox < OW; ox++) {
      qk_dw_border9(rows, zp, ox, s, pad, W, C, c0, p);
      vst1q_s8(y + ox * C + c0, pixel9(k, c0, p, w));
    }
  }
}

static void run3x3(const qk_dw_ctx *k, const int8_t *wts, const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g,
                   const int8_t *x, const int8_t *zp, int8_t *y) {
  const size_t H = d->in_h, W = d->in_w, C = d->in_ch, s = d->stride_h, pad = g->pad_top;
  for (size_t b = 0; b < d->batch; b++)
    for (size_t oy = 0; oy < g->out_h; oy++, y += g->out_w * C) {
      const int8_t *rows[3];
      for (size_t ky = 0; ky < 3; ky++) {
        const size_t iyp = oy * s + ky; /* input row + pad */
        rows[ky] = iyp >= pad && iyp - pad < H ? x + (b * H + iyp - pad) * W * C : NULL;
      }
      row3x3(k, wts, d, g, rows, zp, y);
    }
}

/* ---- general: any kernel, stride, dilation, multiplier ---- */

static inline __attribute__((always_inline)) void general_pixel(const qk_dw_ctx *k, const int8_t *wts,
                                                                const uint8_t *idx, const int8_t *const *ptr,
                                                                size_t T, size_t C, size_t O, size_t M,
                                                                const int8_t *zp, const int8_t *x_end, int8_t *y,
                                                                bool paired) {
  const bool small = C < NB, spread = M > 1;
  const size_t G = T / 4, Op = k->Op;
  const int8_t *wr = wts + 4 * G * Op; /* remainder taps */
  for (size_t c0 = 0; c0 < O; c0 = qk_neon_next_block(c0, O), idx += NB) {
    const size_t ic0 = qk_dw_block_ic(c0, C, M);
    const uint8x16_t ix = vld1q_u8(idx);
    int32x4_t acc[4];
    qk_dw_acc_init(k, c0, acc);
    for (size_t gi = 0; gi < G; gi++) {
      int8x16_t xv[4], w[4];
      for (int j = 0; j < 4; j++) {
        xv[j] = qk_dw_load_tap(ptr[4 * gi + (size_t)j], ic0, small, zp, x_end);
        if (spread) xv[j] = vqtbl1q_s8(xv[j], ix);
      }
      load_group(wts, Op, gi, c0, w);
      dot4(acc, xv[0], xv[1], xv[2], xv[3], w);
    }
    size_t t = 4 * G;
    const int8_t *wp = wr + c0;
    if (paired && t + 2 <= T) {
      int8x16_t xa = qk_dw_load_tap(ptr[t], ic0, small, zp, x_end);
      int8x16_t xb = qk_dw_load_tap(ptr[t + 1], ic0, small, zp, x_end);
      if (spread) xa = vqtbl1q_s8(xa, ix), xb = vqtbl1q_s8(xb, ix);
      qk_dw_mac2(acc, xa, vld1q_s8(wp), xb, vld1q_s8(wp + Op));
      t += 2, wp += 2 * Op;
    }
    for (; t < T; t++, wp += Op) {
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

void qk_int8_dwconv2d_16c4__neondot_run(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g, const void *packed,
                                        const int8_t *x, int8_t *y, void *workspace) {
  qk_dw_ctx k;
  qk_dw_ctx_init(&k, d, packed);
  const int8_t *wts = (const int8_t *)packed + qk_dw_head_bytes(d->out_ch);
  const uint8_t *idx = (const uint8_t *)(wts + qk_dw_taps(d) * k.Op);
  const int8_t *zp = qk_dw_zp_row(d, workspace);
  if (d->k_h == 3 && d->k_w == 3 && d->dilation_h == 1 && d->dilation_w == 1 && d->depth_multiplier == 1 &&
      d->stride_h == d->stride_w && (d->stride_h == 1 || d->stride_h == 2) && d->in_ch >= NB)
    run3x3(&k, wts, d, g, x, zp, y);
  else
    run_general(&k, wts, idx, d, g, x, zp, qk_dw_ptr_array(d, workspace), y);
}
