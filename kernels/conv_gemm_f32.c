/* Float Conv2D as im2col + GEMM over the float FC variants, the float twin of kernels/conv_gemm.c
 * (same reasons: the FC microkernels stream each activation row contiguously; the copy is
 * O(M*K) against O(M*N*K) multiply-adds and is done in blocks of rows that stay in L2; 1x1
 * stride-1 convolutions skip it because NHWC input already is the [M, C] matrix).
 *
 * Padded taps are filled with 0.0f, so they add 0 * w = +-0: no sum changes, except perhaps the
 * sign of an all-zero one, which the error bound cannot see. (An infinite weight would make a
 * padded tap NaN where the reference skips it; such a filter makes the unpadded outputs infinite
 * or NaN anyway.) The f16w conv variants run this same driver over the f16w FC microkernels, so
 * they stay bit-identical to the f32 conv variants on widened weights. */
#include <string.h>

#include "conv_gemm_f32.h"
#include "internal.h"

static size_t group_k(const qk_conv2d_f32_desc *d) { return d->k_h * d->k_w * (d->in_ch / d->groups); }

static size_t group_stride(const qk_fc_float_impl *fc, const qk_conv2d_f32_desc *d) {
  return qk_round_up(fc->packed_size(d->out_ch / d->groups, group_k(d)), 64);
}

static qk_fc_f32_desc fc_desc(const qk_conv2d_f32_desc *d) {
  return (qk_fc_f32_desc){.in_ch = group_k(d), .out_ch = d->out_ch / d->groups, .act_min = d->act_min,
                          .act_max = d->act_max};
}

static bool pointwise(const qk_conv2d_f32_desc *d) {
  return d->k_h == 1 && d->k_w == 1 && d->stride_h == 1 && d->stride_w == 1 && d->groups == 1;
}

size_t qk_conv_gemm_f32_packed_size(const qk_fc_float_impl *fc, const qk_conv2d_f32_desc *d) {
  return d->groups * group_stride(fc, d);
}

void qk_conv_gemm_f32_pack(const qk_fc_float_impl *fc, size_t wbytes, const qk_conv2d_f32_desc *d, const void *w,
                           const float *bias, void *packed) {
  const size_t gout = d->out_ch / d->groups, K = group_k(d), stride = group_stride(fc, d);
  const qk_fc_f32_desc f = fc_desc(d);
  for (size_t g = 0; g < d->groups; g++)
    fc->pack(&f, (const char *)w + g * gout * K * wbytes, bias ? bias + g * gout : NULL, (char *)packed + g * stride);
}

/* Rows per block: a multiple of the microkernel's MR, about 64 KiB of im2col data. */
static size_t block_rows(size_t mr, size_t K, size_t M) {
  if (mr == 0) mr = 1;
  size_t rows = (65536 / (K * sizeof(float))) / mr * mr;
  if (rows < mr) rows = mr;
  return rows < M ? rows : M;
}

size_t qk_conv_gemm_f32_workspace_size(size_t mr, const qk_conv2d_f32_desc *d, const qk_conv2d_geom *g) {
  if (pointwise(d)) return 0;
  const size_t M = d->batch * g->out_h * g->out_w, K = group_k(d);
  const size_t rows = block_rows(mr, K, M);
  return qk_round_up(rows * K * sizeof(float), 64) + (d->groups > 1 ? rows * (d->out_ch / d->groups) * sizeof(float) : 0);
}

/* n floats. Fixed-size memcpy calls compile to plain moves, so a short run (the 9 floats of a
 * 3-tap RGB filter row) is two 32-byte moves, the second overlapping the first, instead of a
 * library call. */
static inline void copy_floats(float *dst, const float *src, size_t n) {
  if (n >= 64) {
    memcpy(dst, src, n * sizeof *dst);
  } else if (n >= 8) {
    for (size_t i = 0; i + 8 < n; i += 8) memcpy(dst + i, src + i, 8 * sizeof *dst);
    memcpy(dst + n - 8, src + n - 8, 8 * sizeof *dst);
  } else if (n >= 4) {
    memcpy(dst, src, 4 * sizeof *dst);
    memcpy(dst + n - 4, src + n - 4, 4 * sizeof *dst);
  } else {
    for (size_t i = 0; i < n; i++) dst[i] = src[i];
  }
}

static void im2col(const qk_conv2d_f32_desc *d, const qk_conv2d_geom *g, const float *x, size_t grp, size_t m0,
                   size_t mb, float *dst) {
  const size_t gin = d->in_ch / d->groups, C = d->in_ch, kw = d->k_w;
  /* With dilation 1 the k_w taps of a filter row are adjacent pixels: one run of k_w * gin
   * floats when the group is all channels (gin == C) and the run lies inside the image row. For
   * an output row whose k_h input rows all exist, those rows' starts are kept in rows[]. */
  enum { MAX_ROWS = 16 };
  const bool runs = d->dilation_w == 1 && gin == C && d->k_h <= MAX_ROWS;
  const float *rows[MAX_ROWS];
  bool rows_ok = false;
  /* Output pixel m0's coordinates, then stepped along (no division per pixel). */
  size_t ox = m0 % g->out_w, oy = m0 / g->out_w % g->out_h, b = m0 / g->out_w / g->out_h;
  for (size_t m = m0; m < m0 + mb; m++) {
    if (m == m0 || ox == 0) { /* a new output row */
      const long iy0 = (long)(oy * d->stride_h) - (long)g->pad_top;
      rows_ok = runs && iy0 >= 0 && iy0 + (long)((d->k_h - 1) * d->dilation_h) < (long)d->in_h;
      for (size_t ky = 0; rows_ok && ky < d->k_h; ky++)
        rows[ky] = x + (b * d->in_h + (size_t)iy0 + ky * d->dilation_h) * d->in_w * C;
    }
    const long ix0 = (long)(ox * d->stride_w) - (long)g->pad_left;
    const bool inside = runs && ix0 >= 0 && ix0 + (long)kw <= (long)d->in_w;
    if (inside && rows_ok) {
      for (size_t ky = 0; ky < d->k_h; ky++, dst += kw * C) copy_floats(dst, rows[ky] + (size_t)ix0 * C, kw * C);
    } else {
      for (size_t ky = 0; ky < d->k_h; ky++) {
        const long iy = (long)(oy * d->stride_h) - (long)g->pad_top + (long)(ky * d->dilation_h);
        if (iy < 0 || iy >= (long)d->in_h) {
          memset(dst, 0, kw * gin * sizeof *dst); /* all-zero bytes are +0.0f */
          dst += kw * gin;
          continue;
        }
        const float *row = x + (b * d->in_h + (size_t)iy) * d->in_w * C + grp * gin;
        for (size_t kx = 0; kx < kw; kx++, dst += gin) {
          const long ix = ix0 + (long)(kx * d->dilation_w);
          if (ix < 0 || ix >= (long)d->in_w) memset(dst, 0, gin * sizeof *dst);
          else copy_floats(dst, row + (size_t)ix * C, gin);
        }
      }
    }
    if (++ox == g->out_w) {
      ox = 0;
      if (++oy == g->out_h) oy = 0, b++;
    }
  }
}

void qk_conv_gemm_f32_run(const qk_fc_float_impl *fc, size_t mr, const qk_conv2d_f32_desc *d, const qk_conv2d_geom *g,
                          const void *packed, const float *x, float *y, void *ws) {
  const size_t M = d->batch * g->out_h * g->out_w, O = d->out_ch, gout = O / d->groups, K = group_k(d);
  const qk_fc_f32_desc f = fc_desc(d);
  if (pointwise(d)) {
    fc->run(&f, packed, M, x, y);
    return;
  }
  const size_t rows = block_rows(mr, K, M), stride = group_stride(fc, d);
  float *cols = ws, *tmp = (float *)(void *)((char *)ws + qk_round_up(rows * K * sizeof(float), 64));
  for (size_t m0 = 0; m0 < M; m0 += rows) {
    const size_t mb = M - m0 < rows ? M - m0 : rows;
    for (size_t grp = 0; grp < d->groups; grp++) {
      im2col(d, g, x, grp, m0, mb, cols);
      const void *pg = (const char *)packed + grp * stride;
      if (d->groups == 1) {
        fc->run(&f, pg, mb, cols, y + m0 * O);
      } else {
        fc->run(&f, pg, mb, cols, tmp);
        for (size_t i = 0; i < mb; i++) memcpy(y + (m0 + i) * O + grp * gout, tmp + i * gout, gout * sizeof *y);
      }
    }
  }
}
