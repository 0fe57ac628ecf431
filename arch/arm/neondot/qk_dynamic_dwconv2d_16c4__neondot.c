/* Dynamic-range DepthwiseConv2D, armv8.2-a dotprod: bit-exact with qk_ref_dwconv2d_dynamic (TFLite's
 * depthwise EvalHybridPerChannel). The scheme is the AVX-512 VNNI variant's, in signed bytes:
 *
 * - The image is quantized as a whole by dyn_neondot.h's qk_dyn_quantize (int8 q). A lane is one
 *   output channel and SDOT adds 4 s8 x s8 products into it, so its 4 bytes are 4 kernel rows of
 *   one tap column: per output row (per two for 3-row kernels at vertical stride and dilation 1,
 *   taps w0 w1 w2 0 and 0 w0 w1 w2 on rows y .. y + 3), input rows are interleaved once into a row
 *   buffer [Wi][Cp] with two rounds of zips (channel order kept), and every output pixel costs
 *   k_w SDOT per group of 4 kernel rows per 4 channels.
 * - Taps outside the image hold q = offset and kernel rows past k_h have zero weights, so every
 *   slot adds w q; starting from -offset * sum(w) over all taps leaves sum w (q - offset) over the
 *   taps inside the image, the reference's int32 (wrapping like it).
 * - Epilogue y = float(acc) * (s_w * s_img) + bias (-0.0f if none: v + -0 == v), FMUL then FADD,
 *   never FMLA (ISO C: GCC does not contract), then the reference's clamp (qk_f32_clamp).
 *
 * Packed (Cp = out_ch rounded up to 16, G = ceil(k_h / 4)): float s_w[Cp] | float bias[Cp] |
 * int32 sum_w[Cp] | 4-byte weights [G][k_w][Cp] | for k_h = 3, the shifted set [k_w][Cp].
 * Workspace: the int8 image and, for depth multiplier M > 1, its M-times channel copy, each with
 * 16 zeroed bytes of slack that the 16-channel loads of the last pixel may read (their lanes meet
 * zero weights); then the row buffer. */
#include <arm_neon.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dyn_neondot.h"
#include "variants.h"

#define NAME(s) qk_dynamic_dwconv2d_16c4__neondot##s

static size_t cpad(const qk_conv2d_f32_desc *d) { return (d->out_ch + 15) / 16 * 16; }
static size_t kgroups(const qk_conv2d_f32_desc *d) { return (d->k_h + 3) / 4; }
static size_t in_cols(const qk_conv2d_f32_desc *d, const qk_conv2d_geom *g) {
  return (g->out_w - 1) * d->stride_w + (d->k_w - 1) * d->dilation_w + 1;
}
static size_t round64(size_t n) { return (n + 63) / 64 * 64; }
static size_t image_bytes(const qk_conv2d_f32_desc *d) { return round64(d->in_h * d->in_w * d->in_ch + 16); }
static size_t copy_bytes(const qk_conv2d_f32_desc *d) {
  return d->depth_multiplier > 1 ? round64(d->in_h * d->in_w * d->out_ch + 16) : 0;
}
static bool row_pairs(const qk_conv2d_f32_desc *d) { return d->k_h == 3 && d->stride_h == 1 && d->dilation_h == 1; }

size_t NAME(_packed_size)(const qk_conv2d_dynamic_desc *dd) {
  const qk_conv2d_f32_desc *d = &dd->conv;
  return cpad(d) * 4 * (3 + kgroups(d) * d->k_w + (d->k_h == 3 ? d->k_w : 0));
}

void NAME(_pack)(const qk_conv2d_dynamic_desc *dd, const int8_t *w, const float *bias, void *packed) {
  const qk_conv2d_f32_desc *d = &dd->conv;
  const size_t O = d->out_ch, Cp = cpad(d);
  float *sw = packed, *b = sw + Cp;
  int32_t *sum = (int32_t *)(void *)(b + Cp);
  int8_t *wq = (int8_t *)(sum + Cp);
  memset(packed, 0, NAME(_packed_size)(dd));
  for (size_t c = 0; c < Cp; c++) {
    sw[c] = c < O ? dd->w_scale[c] : 0.0f;
    b[c] = c < O && bias ? bias[c] : -0.0f;
  }
  for (size_t ky = 0; ky < d->k_h; ky++)
    for (size_t kx = 0; kx < d->k_w; kx++)
      for (size_t c = 0; c < O; c++) {
        const int8_t v = w[(ky * d->k_w + kx) * O + c];
        wq[((ky / 4 * d->k_w + kx) * Cp + c) * 4 + ky % 4] = v;
        if (d->k_h == 3) wq[((d->k_w + kx) * Cp + c) * 4 + ky + 1] = v;
        sum[c] = (int32_t)((uint32_t)sum[c] + (uint32_t)(int32_t)v);
      }
}

size_t NAME(_workspace_size)(const qk_conv2d_dynamic_desc *dd, const qk_conv2d_geom *g) {
  const qk_conv2d_f32_desc *d = &dd->conv;
  return image_bytes(d) + copy_bytes(d) + kgroups(d) * in_cols(d, g) * cpad(d) * 4;
}

static const int8_t *weights(const qk_conv2d_f32_desc *d, const void *packed) {
  return (const int8_t *)packed + 3 * 4 * cpad(d);
}

/* Interleaves input rows y0 + r dilation_h, r < nrows (the offset beyond), into buf[Wi][Cp]. */
static void build_rows(const qk_conv2d_f32_desc *d, const qk_conv2d_geom *g, const int8_t *src, size_t C, long y0,
                       size_t nrows, size_t Wi, int8_t pad, int8_t *buf) {
  const size_t Cp = (C + 15) / 16 * 16;
  const int8x16_t padv = vdupq_n_s8(pad);
  const int8_t *rows[4];
  bool any = false;
  for (size_t r = 0; r < 4; r++) {
    const long iy = y0 + (long)(r * d->dilation_h);
    rows[r] = r < nrows && iy >= 0 && iy < (long)d->in_h ? src + (size_t)iy * d->in_w * C : NULL;
    any |= rows[r] != NULL;
  }
  for (size_t xi = 0; xi < Wi; xi++) {
    int8_t *dst = buf + xi * Cp * 4;
    const long ix = (long)xi - (long)g->pad_left;
    if (!any || ix < 0 || ix >= (long)d->in_w) {
      for (size_t c = 0; c < 4 * Cp; c += 16) vst1q_s8(dst + c, padv);
      continue;
    }
    for (size_t c = 0; c < Cp; c += 16) {
      int8x16_t v[4];
      for (size_t r = 0; r < 4; r++) v[r] = rows[r] ? vld1q_s8(rows[r] + (size_t)ix * C + c) : padv;
      const int16x8_t a0 = vreinterpretq_s16_s8(vzip1q_s8(v[0], v[1])), a1 = vreinterpretq_s16_s8(vzip2q_s8(v[0], v[1]));
      const int16x8_t b0 = vreinterpretq_s16_s8(vzip1q_s8(v[2], v[3])), b1 = vreinterpretq_s16_s8(vzip2q_s8(v[2], v[3]));
      int8_t *o = dst + 4 * c;
      vst1q_s8(o, vreinterpretq_s8_s16(vzip1q_s16(a0, b0)));
      vst1q_s8(o + 16, vreinterpretq_s8_s16(vzip2q_s16(a0, b0)));
      vst1q_s8(o + 32, vreinterpretq_s8_s16(vzip1q_s16(a1, b1)));
      vst1q_s8(o + 48, vreinterpretq_s8_s16(vzip2q_s16(a1, b1)));
    }
  }
}

/* One output row, 16 channels at a time. */
static void row_pass(const qk_conv2d_f32_desc *d, const qk_conv2d_geom *g, const void *packed, const int8_t *wq,
                     const int8_t *buf, size_t Wi, size_t G, int32_t offset, float s_img, float *y) {
  const size_t O = d->out_ch, Cp = cpad(d), KW = d->k_w, sw = d->stride_w, dw = d->dilation_w;
  const float *swp = packed, *bp = swp + Cp;
  const int32_t *sum = (const int32_t *)(const void *)(bp + Cp);
  const float32x4_t lo = vdupq_n_f32(d->act_min), hi = vdupq_n_f32(d->act_max), simg = vdupq_n_f32(s_img);
  const int32x4_t neg_off = vdupq_n_s32(-offset);
  for (size_t c = 0; c < Cp; c += 16) {
    float32x4_t scale[4], bias[4];
    int32x4_t init[4];
    for (int j = 0; j < 4; j++) {
      scale[j] = vmulq_f32(vld1q_f32(swp + c + 4 * j), simg);
      bias[j] = vld1q_f32(bp + c + 4 * j);
      init[j] = vmulq_s32(vld1q_s32(sum + c + 4 * j), neg_off);
    }
    for (size_t ox = 0; ox < g->out_w; ox++) {
      int32x4_t acc[4] = {init[0], init[1], init[2], init[3]};
      for (size_t j = 0; j < G; j++) {
        const int8_t *in = buf + ((j * Wi + ox * sw) * Cp + c) * 4, *wj = wq + ((j * KW) * Cp + c) * 4;
        for (size_t kx = 0; kx < KW; kx++) {
          const int8_t *ip = in + kx * dw * Cp * 4, *wp = wj + kx * Cp * 4;
          for (int q = 0; q < 4; q++) acc[q] = vdotq_s32(acc[q], vld1q_s8(ip + 16 * q), vld1q_s8(wp + 16 * q));
        }
      }
      float32x4_t v[4];
      for (int q = 0; q < 4; q++)
        v[q] = qk_f32_clamp(vaddq_f32(vmulq_f32(vcvtq_f32_s32(acc[q]), scale[q]), bias[q]), lo, hi);
      qk_dyn_store(y + ox * O + c, v, O - c < 16 ? O - c : 16);
    }
  }
}

void NAME(_run)(const qk_conv2d_dynamic_desc *dd, const qk_conv2d_geom *g, const void *packed, const float *x,
                float *y, void *workspace) {
  const qk_conv2d_f32_desc *d = &dd->conv;
  const size_t C = d->in_ch, O = d->out_ch, M = d->depth_multiplier, G = kgroups(d), Wi = in_cols(d, g);
  const size_t image = d->in_h * d->in_w * C, pixels = d->in_h * d->in_w;
  int8_t *img = workspace, *wide = img + image_bytes(d), *buf = wide + copy_bytes(d);
  if (M > 1) memset(wide + pixels * O, 0, copy_bytes(d) - pixels * O);
  for (size_t b = 0; b < d->batch; b++) {
    float s_img;
    int32_t offset;
    qk_dyn_quantize(x + b * image, image, image + 16, dd->asymmetric, img, &s_img, &offset);
    const int8_t *src = img;
    if (M > 1) {
      for (size_t i = 0; i < pixels; i++)
        for (size_t ic = 0; ic < C; ic++) memset(wide + i * O + ic * M, img[i * C + ic], M);
      src = wide;
    }
    const int8_t pad = (int8_t)offset;
    float *yb = y + b * g->out_h * g->out_w * O;
    if (row_pairs(d)) {
      const int8_t *wa = weights(d, packed), *wb = wa + d->k_w * cpad(d) * 4;
      for (size_t oy = 0; oy < g->out_h; oy += 2) {
        const bool two = oy + 1 < g->out_h;
        build_rows(d, g, src, O, (long)oy - (long)g->pad_top, two ? 4 : 3, Wi, pad, buf);
        float *yr = yb + oy * g->out_w * O;
        row_pass(d, g, packed, wa, buf, Wi, 1, offset, s_img, yr);
        if (two) row_pass(d, g, packed, wb, buf, Wi, 1, offset, s_img, yr + g->out_w * O);
      }
      continue;
    }
    for (size_t oy = 0; oy < g->out_h; oy++) {
      for (size_t j = 0; j < G; j++) {
        const long y0 = (long)(oy * d->stride_h) - (long)g->pad_top + (long)(4 * j * d->dilation_h);
        const size_t left = d->k_h - 4 * j;
        build_rows(d, g, src, O, y0, left < 4 ? left : 4, Wi, pad, buf + j * Wi * cpad(d) * 4);
      }
      row_pass(d, g, packed, weights(d, packed), buf, Wi, G, offset, s_img, yb + oy * g->out_w * O);
    }
  }
}
