/* 16x8 Conv2D as im2col + GEMM over the 16x8 FC variants; the same design as the int8 driver in
 * conv_gemm.c (why im2col, blocking, the 1x1 fast path), with int16 rows and int64 bias.
 *
 * The 16x8 conv has no zero points (SPEC.md §5: the kernels apply no offsets and the check
 * requires 0), so a skipped tap is an int16 0 in the im2col row: w * 0 adds nothing, exactly as
 * TFLite skips it. The FC descriptor carries only K, N, the clamp and the per-channel multipliers
 * of the group. */
#include <string.h>

#include "conv_gemm_i16x8.h"
#include "internal.h"

static size_t group_k(const qk_conv2d_int8_desc *d) { return d->k_h * d->k_w * (d->in_ch / d->groups); }

static size_t group_stride(const qk_fc_i16x8_impl *fc, const qk_conv2d_int8_desc *d) {
  return qk_round_up(fc->packed_size(d->out_ch / d->groups, group_k(d)), 64);
}

static qk_fc_i16x8_desc fc_desc(const qk_conv2d_int8_desc *d, size_t g) {
  const size_t gout = d->out_ch / d->groups;
  return (qk_fc_i16x8_desc){.in_ch = group_k(d), .out_ch = gout, .act_min = d->act_min, .act_max = d->act_max,
                            .multiplier = d->multiplier + g * gout, .shift = d->shift + g * gout};
}

static bool pointwise(const qk_conv2d_int8_desc *d) {
  return d->k_h == 1 && d->k_w == 1 && d->stride_h == 1 && d->stride_w == 1 && d->groups == 1;
}

size_t qk_conv_gemm_i16x8_packed_size(const qk_fc_i16x8_impl *fc, const qk_conv2d_int8_desc *d) {
  return d->groups * group_stride(fc, d);
}

void qk_conv_gemm_i16x8_pack(const qk_fc_i16x8_impl *fc, const qk_conv2d_int8_desc *d, const int8_t *w,
                             const int64_t *bias, void *packed) {
  const size_t gout = d->out_ch / d->groups, K = group_k(d), stride = group_stride(fc, d);
  for (size_t g = 0; g < d->groups; g++) {
    const qk_fc_i16x8_desc f = fc_desc(d, g);
    fc->pack(&f, w + g * gout * K, bias ? bias + g * gout : NULL, (char *)packed + g * stride);
  }
}

/* Rows per block: a multiple of the microkernel's MR, about 32 KiB of im2col data. */
static size_t block_rows(size_t mr, size_t K, size_t M) {
  if (mr == 0) mr = 1;
  size_t rows = (32768 / (2 * K)) / mr * mr;
  if (rows < mr) rows = mr;
  return rows < M ? rows : M;
}

size_t qk_conv_gemm_i16x8_workspace_size(size_t mr, const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g) {
  if (pointwise(d)) return 0;
  const size_t M = d->batch * g->out_h * g->out_w, K = group_k(d);
  const size_t rows = block_rows(mr, K, M);
  return qk_round_up(rows * K * sizeof(int16_t), 64) + (d->groups > 1 ? rows * (d->out_ch / d->groups) * sizeof(int16_t) : 0);
}

static void im2col(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g, const int16_t *x, size_t grp,
                   size_t m0, size_t mb, int16_t *dst) {
  const size_t gin = d->in_ch / d->groups, C = d->in_ch;
  for (size_t m = m0; m < m0 + mb; m++) {
    const size_t ox = m % g->out_w, oy = m / g->out_w % g->out_h, b = m / g->out_w / g->out_h;
    for (size_t ky = 0; ky < d->k_h; ky++) {
      const long iy = (long)(oy * d->stride_h) - (long)g->pad_top + (long)(ky * d->dilation_h);
      for (size_t kx = 0; kx < d->k_w; kx++, dst += gin) {
        const long ix = (long)(ox * d->stride_w) - (long)g->pad_left + (long)(kx * d->dilation_w);
        if (iy < 0 || iy >= (long)d->in_h || ix < 0 || ix >= (long)d->in_w)
          memset(dst, 0, gin * sizeof *dst); /* skipped tap: the 16x8 zero point, 0 */
        else
          memcpy(dst, x + ((b * d->in_h + (size_t)iy) * d->in_w + (size_t)ix) * C + grp * gin, gin * sizeof *dst);
      }
    }
  }
}

void qk_conv_gemm_i16x8_run(const qk_fc_i16x8_impl *fc, size_t mr, const qk_conv2d_int8_desc *d,
                            const qk_conv2d_geom *g, const void *packed, const int16_t *x, int16_t *y, void *ws) {
  const size_t M = d->batch * g->out_h * g->out_w, O = d->out_ch, gout = O / d->groups, K = group_k(d);
  if (pointwise(d)) {
    const qk_fc_i16x8_desc f = fc_desc(d, 0);
    fc->run(&f, packed, M, x, y);
    return;
  }
  const size_t rows = block_rows(mr, K, M), stride = group_stride(fc, d);
  int16_t *cols = ws, *tmp = (int16_t *)(void *)((char *)ws + qk_round_up(rows * K * sizeof(int16_t), 64));
  for (size_t m0 = 0; m0 < M; m0 += rows) {
    const size_t mb = M - m0 < rows ? M - m0 : rows;
    for (size_t grp = 0; grp < d->groups; grp++) {
      const qk_fc_i16x8_desc f = fc_desc(d, grp);
      im2col(d, g, x, grp, m0, mb, cols);
      const void *pg = (const char *)packed + grp * stride;
      if (d->groups == 1) {
        fc->run(&f, pg, mb, cols, y + m0 * O);
      } else {
        fc->run(&f, pg, mb, cols, tmp);
        for (size_t i = 0; i < mb; i++) memcpy(y + (m0 + i) * O + grp * gout, tmp + i * gout, gout * sizeof *tmp);
      }
    }
  }
}
