/* The dynamic-range Conv2D operation over an ISA's GEMM engine (<isa>/dynamic_gemm.h, included
 * first, with QK_NAME defined): each image is quantized as a whole (TFLite's
 * EvalHybridPerChannel), then im2col + GEMM with the reference conv epilogue
 * y = float(acc) * s_w * s_img + bias. Bit-exact with qk_ref_conv2d_dynamic.
 *
 * The reference sums w * (q - offset) over in-bounds taps only. im2col fills skipped taps with
 * q = offset, which adds w * (offset - offset) = 0 per skipped tap, so over all taps
 * sum w * (q - offset) is the same int32; the engine adds qkd_c_init(offset) * rowsum(w) to its
 * sums to take the offset (and its own encoding bias) out.
 * 1x1 stride-1 convolutions skip im2col: the quantized image already is the [H*W, C] matrix
 * (a group reads its channel slice with row stride C; reads past the slice meet zero weights).
 *
 * Packed: one block list per group, each rounded to 64 bytes; a missing bias is stored as
 * -0.0f, the one addend that leaves every float unchanged (the reference adds nothing then).
 * Workspace: the quantized image, round_up(H*W*C, 64) + 64 elements (rows are read up to a
 * K step past their end, im2col taps up to 15 bytes), then an im2col block of about 32 KiB + 64. */
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
  /* + 64: the copy excess past the block's last row. */
  return img + block_rows(lda * sizeof(qkd_elem), g->out_h * g->out_w) * lda * sizeof(qkd_elem) + 64;
}

/* Copies n elements as 16-byte pieces, so a 3-channel tap costs one load and one store rather
 * than a memcpy call: it reads and writes up to 15 bytes past the n elements. im2col writes every
 * row front to back, so the excess is overwritten by the next tap, fill or row; the image and
 * im2col buffers carry the slack for the last one. */
static inline void qkd_copy16(qkd_elem *dst, const qkd_elem *src, size_t n) {
  for (size_t b = 0; b < n * sizeof *dst; b += 16) memcpy((char *)dst + b, (const char *)src + b, 16);
}

/* Fills n elements from pat (16 bytes of the fill element), with the same excess as qkd_copy16. */
static inline void qkd_fill16(qkd_elem *dst, const qkd_elem *pat, size_t n) {
  for (size_t b = 0; b < n * sizeof *dst; b += 16) memcpy((char *)dst + b, pat, 16);
}

/* Rows [m0, m0 + rows) of group grp's im2col matrix; skipped taps and the K padding get `fill`
 * (pat: 16 bytes of it). A kernel row wholly inside the image is one contiguous run of the input
 * when groups == 1 and dilation_w == 1, and is copied as one. */
static void im2col(const qk_conv2d_f32_desc *d, const qk_conv2d_geom *g, const qkd_elem *img, size_t grp,
                   size_t m0, size_t rows, size_t lda, const qkd_elem *pat, qkd_elem *dst) {
  const size_t gin = d->in_ch / d->groups, C = d->in_ch, K = group_k(d), W = d->in_w;
  const size_t run = d->k_w * C; /* elements of a whole kernel row */
  const bool runs = d->groups == 1 && d->dilation_w == 1;
  const long span = (long)((d->k_w - 1) * d->dilation_w);
  /* A kernel row of at most 16 bytes (the stem: 3 taps x 3 channels) is one 16-byte copy. */
  const bool short_runs = runs && run * sizeof(qkd_elem) <= 16;
  const long yspan = (long)((d->k_h - 1) * d->dilation_h);
  size_t ox = m0 % g->out_w, oy = m0 / g->out_w;
  for (size_t m = 0; m < rows; m++, dst += lda) {
    const long ix0 = (long)(ox * d->stride_w) - (long)g->pad_left;
    const bool cols_in = runs && ix0 >= 0 && ix0 + span < (long)W;
    long iy = (long)(oy * d->stride_h) - (long)g->pad_top;
    if (short_runs && cols_in && iy >= 0 && iy + yspan < (long)d->in_h) {
      /* The whole window inside the image: k_h copies, each spilling into the next one's place,
       * the last into the K padding, which the fill then overwrites (spilling into the next row
       * or the buffer's slack). */
      const qkd_elem *src = img + ((size_t)iy * W + (size_t)ix0) * C;
      for (size_t ky = 0; ky < d->k_h; ky++) memcpy(dst + ky * run, src + ky * d->dilation_h * W * C, 16);
      memcpy(dst + K, pat, 16);
      if (++ox == g->out_w) ox = 0, oy++;
      continue;
    }
    qkd_elem *p = dst;
    for (size_t ky = 0; ky < d->k_h; ky++, iy += (long)d->dilation_h) {
      const bool row_in = iy >= 0 && iy < (long)d->in_h;
      const qkd_elem *src = row_in ? img + (size_t)iy * W * C + grp * gin : img;
      if (row_in && cols_in) {
        qkd_copy16(p, src + (size_t)ix0 * C, run);
        p += run;
        continue;
      }
      long ix = ix0;
      for (size_t kx = 0; kx < d->k_w; kx++, p += gin, ix += (long)d->dilation_w) {
        if (!row_in || ix < 0 || ix >= (long)W) qkd_fill16(p, pat, gin);
        else qkd_copy16(p, src + (size_t)ix * C, gin);
      }
    }
    for (size_t k = K; k < lda; k++) dst[k] = pat[0];
    if (++ox == g->out_w) ox = 0, oy++;
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
    qkd_elem pat[16 / sizeof(qkd_elem)];
    qkd_fill(pat, qkd_encode(p.offset), 16 / sizeof(qkd_elem));
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
          im2col(d, g, img, grp, m0, mb, lda, pat, col);
          t.a = col;
        }
        t.y = y + (b * M + m0) * O + grp * gout;
        qkd_gemm(t, mb, gout, K);
      }
    }
  }
}

#endif
