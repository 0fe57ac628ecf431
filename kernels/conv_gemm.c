/* Conv2D as im2col + GEMM over the FC variants.
 *
 * Why im2col and not an indirection buffer: the FC microkernels read each activation row as one
 * contiguous K-byte stream, which is what makes them fast; an indirection buffer would need a
 * second, pointer-chasing microkernel per ISA. The copy is O(M*K) against O(M*N*K) multiplies,
 * done in blocks of rows small enough to stay in L2, and 1x1 stride-1 convolutions skip it: the
 * input already is the [M, C] matrix. Skipped taps are filled with the input zero point, which
 * contributes (zp - zp) * w = 0 exactly as TFLite's skipped taps do. */
#include <string.h>

#include "conv_gemm.h"
#include "internal.h"

static size_t group_k(const qk_conv2d_int8_desc *d) { return d->k_h * d->k_w * (d->in_ch / d->groups); }

static size_t group_stride(const qk_fc_int8_impl *fc, const qk_conv2d_int8_desc *d) {
  return qk_round_up(fc->packed_size(d->out_ch / d->groups, group_k(d)), 64);
}

static qk_fc_int8_desc fc_desc(const qk_conv2d_int8_desc *d, size_t g) {
  const size_t gout = d->out_ch / d->groups;
  return (qk_fc_int8_desc){.in_ch = group_k(d), .out_ch = gout, .input_zp = d->input_zp,
                           .output_zp = d->output_zp, .act_min = d->act_min, .act_max = d->act_max,
                           .rounding = d->rounding, .multiplier = d->multiplier + g * gout,
                           .shift = d->shift + g * gout};
}

static bool pointwise(const qk_conv2d_int8_desc *d) {
  return d->k_h == 1 && d->k_w == 1 && d->stride_h == 1 && d->stride_w == 1 && d->groups == 1;
}

size_t qk_conv_gemm_packed_size(const qk_fc_int8_impl *fc, const qk_conv2d_int8_desc *d) {
  return d->groups * group_stride(fc, d);
}

void qk_conv_gemm_pack(const qk_fc_int8_impl *fc, const qk_conv2d_int8_desc *d, const int8_t *w,
                       const int32_t *bias, void *packed) {
  const size_t gout = d->out_ch / d->groups, K = group_k(d), stride = group_stride(fc, d);
  for (size_t g = 0; g < d->groups; g++) {
    const qk_fc_int8_desc f = fc_desc(d, g);
    fc->pack(&f, w + g * gout * K, bias ? bias + g * gout : NULL, (char *)packed + g * stride);
  }
}

/* Rows per block: a multiple of the microkernel's MR, about 32 KiB of im2col data. */
static size_t block_rows(size_t mr, size_t K, size_t M) {
  if (mr == 0) mr = 1;
  size_t rows = (32768 / K) / mr * mr;
  if (rows < mr) rows = mr;
  return rows < M ? rows : M;
}

size_t qk_conv_gemm_workspace_size(size_t mr, const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g) {
  if (pointwise(d)) return 0;
  const size_t M = d->batch * g->out_h * g->out_w, K = group_k(d);
  const size_t rows = block_rows(mr, K, M);
  return qk_round_up(rows * K, 64) + (d->groups > 1 ? rows * (d->out_ch / d->groups) : 0);
}

static void im2col(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g, const int8_t *x, size_t grp,
                   size_t m0, size_t mb, int8_t *dst) {
  const size_t gin = d->in_ch / d->groups, C = d->in_ch;
  for (size_t m = m0; m < m0 + mb; m++) {
    const size_t ox = m % g->out_w, oy = m / g->out_w % g->out_h, b = m / g->out_w / g->out_h;
    for (size_t ky = 0; ky < d->k_h; ky++) {
      const long iy = (long)(oy * d->stride_h) - (long)g->pad_top + (long)(ky * d->dilation_h);
      for (size_t kx = 0; kx < d->k_w; kx++, dst += gin) {
        const long ix = (long)(ox * d->stride_w) - (long)g->pad_left + (long)(kx * d->dilation_w);
        if (iy < 0 || iy >= (long)d->in_h || ix < 0 || ix >= (long)d->in_w)
          memset(dst, (int8_t)d->input_zp, gin);
        else
          memcpy(dst, x + ((b * d->in_h + (size_t)iy) * d->in_w + (size_t)ix) * C + grp * gin, gin);
      }
    }
  }
}

void qk_conv_gemm_run(const qk_fc_int8_impl *fc, size_t mr, const qk_conv2d_int8_desc *d,
                      const qk_conv2d_geom *g, const void *packed, const int8_t *x, int8_t *y, void *ws) {
  const size_t M = d->batch * g->out_h * g->out_w, O = d->out_ch, gout = O / d->groups, K = group_k(d);
  if (pointwise(d)) {
    const qk_fc_int8_desc f = fc_desc(d, 0);
    fc->run(&f, packed, M, x, y);
    return;
  }
  const size_t rows = block_rows(mr, K, M), stride = group_stride(fc, d);
  int8_t *cols = ws, *tmp = (int8_t *)ws + qk_round_up(rows * K, 64);
  for (size_t m0 = 0; m0 < M; m0 += rows) {
    const size_t mb = M - m0 < rows ? M - m0 : rows;
    for (size_t grp = 0; grp < d->groups; grp++) {
      const qk_fc_int8_desc f = fc_desc(d, grp);
      im2col(d, g, x, grp, m0, mb, cols);
      const void *pg = (const char *)packed + grp * stride;
      if (d->groups == 1) {
        fc->run(&f, pg, mb, cols, y + m0 * O);
      } else {
        fc->run(&f, pg, mb, cols, tmp);
        for (size_t i = 0; i < mb; i++) memcpy(y + (m0 + i) * O + grp * gout, tmp + i * gout, gout);
      }
    }
  }
}
