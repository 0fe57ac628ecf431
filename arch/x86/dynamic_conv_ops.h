/* The dynamic-range Conv2D operation over an ISA's GEMM engine (<isa>/dynamic_gemm.h, included
 * first, with QK_NAME defined): each image is quantized as a whole (TFLite's
 * EvalHybridPerChannel), then im2col + GEMM with the reference conv epilogue
 * y = float(acc) * s_w * s_img + bias. Bit-exact with qk_ref_conv2d_dynamic.
 *
 * The reference sums w * (q - offset) over in-bounds taps only. im2col fills skipped taps with
 * q = offset, which adds w * (offset - offset) = 0 per skipped tap, so over all taps
 * sum w * (q - offset) is the same int32; the engine starts its accumulators at
 * qkd_c_init(offset) * rowsum(w) to take the offset (and its own encoding bias) out.
 * 1x1 stride-1 convolutions skip im2col: the quantized image already is the [H*W, C] matrix
 * (a group reads its channel slice with row stride C; reads past the slice meet zero weights).
 *
 * Packed: one block list per group, each rounded to 64 bytes; a missing bias is stored as
 * -0.0f, the one addend that leaves every float unchanged (the reference adds nothing then).
 * Workspace: the quantized image, round_up(H*W*C, 64) + 64 elements (rows are read up to a
 * K step past their end), then an im2col block of about 32 KiB. */
#ifndef QK_X86_DYNAMIC_CONV_OPS_H
#define QK_X86_DYNAMIC_CONV_OPS_H

QKD_DEFINE_GEMM

static size_t group_k(const qk_conv2d_f32_desc *d) { return d->k_h * d->k_w * (d->in_ch / d->groups); }
static size_t group_bytes(const qk_conv2d_f32_desc *d) {
  return qk_round_up(qkd_packed_bytes(d->out_ch / d->groups, group_k(d)), 64);
}
static bool pointwise(const qk_conv2d_f32_desc *d) {
  return d->k_h == 1 && d->k_w == 1 && d->stride_h == 1 && d->stride_w == 1;
}
static size_t image_elems(const qk_conv2d_f32_desc *d) { return qk_round_up(d->in_h * d->in_w * d->in_ch, 64) + 64; }
/* im2col rows per block: a multiple of the 12-row panel, about 32 KiB. */
static size_t block_rows(size_t row_bytes, size_t m) {
  size_t rows = 32768 / row_bytes / 12 * 12;
  if (rows < 12) rows = 12;
  return rows < m ? rows : m;
}

size_t QK_NAME(_packed_size)(const qk_conv2d_dynamic_desc *d) { return d->conv.groups * group_bytes(&d->conv); }

void QK_NAME(_pack)(const qk_conv2d_dynamic_desc *dd, const int8_t *w, const float *bias, void *packed) {
  const qk_conv2d_f32_desc *d = &dd->conv;
  const size_t gout = d->out_ch / d->groups, K = group_k(d);
  for (size_t g = 0; g < d->groups; g++)
    qkd_pack(gout, K, w + g * gout * K, K, dd->w_scale + g * gout, bias ? bias + g * gout : NULL, -0.0f,
             (char *)packed + g * group_bytes(d));
}

size_t QK_NAME(_workspace_size)(const qk_conv2d_dynamic_desc *dd, const qk_conv2d_geom *g) {
  const qk_conv2d_f32_desc *d = &dd->conv;
  const size_t img = image_elems(d) * sizeof(qkd_elem);
  if (pointwise(d)) return img;
  const size_t lda = qk_round_up(group_k(d), QKD_KR);
  return img + block_rows(lda * sizeof(qkd_elem), g->out_h * g->out_w) * lda * sizeof(qkd_elem);
}

/* Rows [m0, m0 + rows) of group grp's im2col matrix; skipped taps and the K padding get `fill`. */
static void im2col(const qk_conv2d_f32_desc *d, const qk_conv2d_geom *g, const qkd_elem *img, size_t grp,
                   size_t m0, size_t rows, size_t lda, qkd_elem fill, qkd_elem *dst) {
  const size_t gin = d->in_ch / d->groups, C = d->in_ch, K = group_k(d);
  for (size_t m = m0; m < m0 + rows; m++, dst += lda) {
    const size_t ox = m % g->out_w, oy = m / g->out_w;
    qkd_elem *p = dst;
    for (size_t ky = 0; ky < d->k_h; ky++) {
      const long iy = (long)(oy * d->stride_h) - (long)g->pad_top + (long)(ky * d->dilation_h);
      for (size_t kx = 0; kx < d->k_w; kx++, p += gin) {
        const long ix = (long)(ox * d->stride_w) - (long)g->pad_left + (long)(kx * d->dilation_w);
        if (iy < 0 || iy >= (long)d->in_h || ix < 0 || ix >= (long)d->in_w) qkd_fill(p, fill, gin);
        else memcpy(p, img + ((size_t)iy * d->in_w + (size_t)ix) * C + grp * gin, gin * sizeof *p);
      }
    }
    qkd_fill(dst + K, fill, lda - K);
  }
}

void QK_NAME(_run)(const qk_conv2d_dynamic_desc *dd, const qk_conv2d_geom *g, const void *packed, const float *x,
                   float *y, void *workspace) {
  const qk_conv2d_f32_desc *d = &dd->conv;
  const size_t C = d->in_ch, O = d->out_ch, gin = C / d->groups, gout = O / d->groups, K = group_k(d);
  const size_t image = d->in_h * d->in_w * C, M = g->out_h * g->out_w;
  qkd_elem *img = workspace, *col = img + image_elems(d);
  const bool direct = pointwise(d);
  const size_t lda = direct ? C : qk_round_up(K, QKD_KR);
  const size_t rows = direct ? M : block_rows(lda * sizeof(qkd_elem), M);
  for (size_t b = 0; b < d->batch; b++) {
    const qkd_qparams p = qkd_quantize(x + b * image, image, dd->asymmetric, img);
    qkd_tile t = {
        .lda = lda, .groups = qk_round_up(K, QKD_KR) / QKD_KR, .c_init = qkd_c_init(p.offset),
        .mode = QKD_EPI_CONV, .s_img = p.scale, .lo = d->act_min, .hi = d->act_max, .ldy = O,
    };
    for (size_t grp = 0; grp < d->groups; grp++) {
      t.blk = (const uint8_t *)packed + grp * group_bytes(d);
      for (size_t m0 = 0; m0 < M; m0 += rows) {
        const size_t mb = M - m0 < rows ? M - m0 : rows;
        if (direct) {
          t.a = img + m0 * C + grp * gin;
        } else {
          im2col(d, g, img, grp, m0, mb, lda, qkd_encode(p.offset), col);
          t.a = col;
        }
        t.y = y + (b * M + m0) * O + grp * gout;
        qkd_gemm(t, mb, gout, K);
      }
    }
  }
}

#endif
