/* Dynamic-range Conv2D (NHWC, filter [O, kh, kw, C/groups]), 4 output pixels x 16 channels, K in
 * groups of 4, armv8.2-a dotprod. Bit for bit equal to qk_ref_conv2d_dynamic (TFLite's
 * EvalHybridPerChannel): each batch image is quantized as one row, then im2col + the SDOT
 * microkernel of dyn_neondot.h, with the conv epilogue (float)acc * s_w * s_img (+ bias).
 *
 * im2col works on 4 output pixels at a time into a small buffer (4 x Kp bytes, stays in L1); taps
 * outside the image hold the row's offset (see dyn_neondot.h for why that is exact). A 1x1
 * stride-1 convolution needs no copy: its rows are the quantized pixels themselves, read Kp bytes
 * at a time (bytes past the group's channels meet zero weights; the image buffer has 16 bytes of
 * slack at its end for the last pixel).
 * Workspace: the quantized image (+ 16 bytes, rounded to 64), then the im2col buffer. */
#include <arm_neon.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dyn_neondot.h"
#include "variants.h"

static size_t group_k(const qk_conv2d_f32_desc *c) { return c->k_h * c->k_w * (c->in_ch / c->groups); }
static size_t image_bytes(const qk_conv2d_f32_desc *c) { return (c->in_h * c->in_w * c->in_ch + 16 + 63) / 64 * 64; }
static bool direct(const qk_conv2d_f32_desc *c) {
  return c->k_h == 1 && c->k_w == 1 && c->stride_h == 1 && c->stride_w == 1;
}

size_t qk_dynamic_conv2d_4x16c4__neondot_packed_size(const qk_conv2d_dynamic_desc *d) {
  const qk_conv2d_f32_desc *c = &d->conv;
  return QK_DYN_HEAD + c->groups * qk_dyn_group_bytes(c->out_ch / c->groups, group_k(c));
}

void qk_dynamic_conv2d_4x16c4__neondot_pack(const qk_conv2d_dynamic_desc *d, const int8_t *w, const float *bias,
                                            void *packed) {
  const qk_conv2d_f32_desc *c = &d->conv;
  const size_t gout = c->out_ch / c->groups, K = group_k(c), gbytes = qk_dyn_group_bytes(gout, K);
  int32_t *head = packed;
  memset(head, 0, QK_DYN_HEAD);
  head[0] = bias != NULL;
  for (size_t g = 0; g < c->groups; g++)
    qk_dyn_pack_group(gout, K, w + g * gout * K, d->w_scale + g * gout, bias ? bias + g * gout : NULL,
                      (char *)packed + QK_DYN_HEAD + g * gbytes);
}

size_t qk_dynamic_conv2d_4x16c4__neondot_workspace_size(const qk_conv2d_dynamic_desc *d, const qk_conv2d_geom *g) {
  (void)g;
  return image_bytes(&d->conv) + QK_DYN_MR * qk_dyn_kp(group_k(&d->conv));
}

/* The im2col row of output pixel (oy, ox) for group grp. */
static void im2col_row(const qk_conv2d_f32_desc *c, const qk_conv2d_geom *g, const int8_t *qimg, size_t grp,
                       size_t oy, size_t ox, int8_t fill, size_t kp, int8_t *dst) {
  const size_t gin = c->in_ch / c->groups, C = c->in_ch;
  const long iy0 = (long)(oy * c->stride_h) - (long)g->pad_top, ix0 = (long)(ox * c->stride_w) - (long)g->pad_left;
  int8_t *p = dst;
  for (size_t ky = 0; ky < c->k_h; ky++) {
    const long iy = iy0 + (long)(ky * c->dilation_h);
    for (size_t kx = 0; kx < c->k_w; kx++, p += gin) {
      const long ix = ix0 + (long)(kx * c->dilation_w);
      if (iy < 0 || iy >= (long)c->in_h || ix < 0 || ix >= (long)c->in_w) memset(p, fill, gin);
      else memcpy(p, qimg + ((size_t)iy * c->in_w + (size_t)ix) * C + grp * gin, gin);
    }
  }
  memset(p, 0, kp - (size_t)(p - dst));
}

/* mr pixel rows a[] against every block of group grp; outputs at y (pixel stride O). */
static inline __attribute__((always_inline)) void pixels(const size_t mr, const qk_conv2d_dynamic_desc *d,
                                                         const char *gblocks, const int8_t *const a[QK_DYN_MR],
                                                         float s_img, int32_t offset, bool has_bias, float *y) {
  const qk_conv2d_f32_desc *c = &d->conv;
  const size_t gout = c->out_ch / c->groups, O = c->out_ch, K = group_k(c), kp = qk_dyn_kp(K);
  const size_t block = qk_dyn_block_bytes(K);
  const float32x4_t lo = vdupq_n_f32(c->act_min), hi = vdupq_n_f32(c->act_max), simg = vdupq_n_f32(s_img);
  for (size_t n0 = 0; n0 < gout; n0 += QK_DYN_NR) {
    const char *b = gblocks + n0 / QK_DYN_NR * block;
    const float *pb = (const float *)b, *ps = pb + QK_DYN_NR;
    const int32_t *prs = (const int32_t *)(ps + 2 * QK_DYN_NR);
    int32x4_t acc[QK_DYN_MR][4];
    qk_dyn_dot(mr, a, kp, (const int8_t *)(b + 256), acc);
    const size_t nr = gout - n0 < QK_DYN_NR ? gout - n0 : QK_DYN_NR;
#pragma GCC unroll 4
    for (size_t r = 0; r < mr; r++) {
      float32x4_t v[4];
      for (int j = 0; j < 4; j++) {
        const int32x4_t s = vmlsq_n_s32(acc[r][j], vld1q_s32(prs + 4 * j), offset);
        float32x4_t t = vmulq_f32(vmulq_f32(vcvtq_f32_s32(s), vld1q_f32(ps + 4 * j)), simg);
        if (has_bias) t = vaddq_f32(t, vld1q_f32(pb + 4 * j));
        v[j] = qk_f32_clamp(t, lo, hi);
      }
      qk_dyn_store(y + r * O + n0, v, nr);
    }
  }
}

void qk_dynamic_conv2d_4x16c4__neondot_run(const qk_conv2d_dynamic_desc *d, const qk_conv2d_geom *g,
                                           const void *packed, const float *x, float *y, void *workspace) {
  const qk_conv2d_f32_desc *c = &d->conv;
  const size_t image = c->in_h * c->in_w * c->in_ch, P = g->out_h * g->out_w, O = c->out_ch;
  const size_t gin = c->in_ch / c->groups, gout = O / c->groups, K = group_k(c), kp = qk_dyn_kp(K);
  const size_t gbytes = qk_dyn_group_bytes(gout, K);
  const bool has_bias = ((const int32_t *)packed)[0] != 0, dir = direct(c);
  int8_t *qimg = workspace, *cols = (int8_t *)workspace + image_bytes(c);
  for (size_t b = 0; b < c->batch; b++) {
    float s_img;
    int32_t offset;
    qk_dyn_quantize(x + b * image, image, image + 16, d->asymmetric, qimg, &s_img, &offset);
    for (size_t grp = 0; grp < c->groups; grp++) {
      const char *gblocks = (const char *)packed + QK_DYN_HEAD + grp * gbytes;
      for (size_t p0 = 0; p0 < P; p0 += QK_DYN_MR) {
        const size_t mr = P - p0 < QK_DYN_MR ? P - p0 : QK_DYN_MR;
        const int8_t *a[QK_DYN_MR];
        for (size_t r = 0; r < QK_DYN_MR; r++) {
          const size_t p = p0 + (r < mr ? r : 0);
          if (dir) {
            a[r] = qimg + p * c->in_ch + grp * gin; /* output pixel p is input pixel p */
          } else {
            if (r < mr) im2col_row(c, g, qimg, grp, p / g->out_w, p % g->out_w, (int8_t)offset, kp, cols + r * kp);
            a[r] = cols + (r < mr ? r : 0) * kp;
          }
        }
        float *yp = y + (b * P + p0) * O + grp * gout;
        switch (mr) {
          case 4: pixels(4, d, gblocks, a, s_img, offset, has_bias, yp); break;
          case 3: pixels(3, d, gblocks, a, s_img, offset, has_bias, yp); break;
          case 2: pixels(2, d, gblocks, a, s_img, offset, has_bias, yp); break;
          default: pixels(1, d, gblocks, a, s_img, offset, has_bias, yp); break;
        }
      }
    }
  }
}
