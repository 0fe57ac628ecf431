/* Dynamic-range DepthwiseConv2D, AVX2: bit-exact with qk_ref_dwconv2d_dynamic (TFLite's depthwise
 * EvalHybridPerChannel). The AVX-512 VNNI variant documents the scheme; here, without VNNI:
 *
 * - The image is quantized to int16 q by dynamic_gemm.h's qkd_quantize. A lane is one output
 *   channel and vpmaddwd adds 2 int16 products into it, so its dword holds 2 kernel rows of one
 *   tap column as d = q - offset (within +-255). Per output row, each pair of kernel rows is
 *   interleaved once into a row buffer ([Wi][Cp] dwords; unpacklo / unpackhi on 16-byte halves
 *   keep the channel order); each pixel then costs k_w vpmaddwd per pair per 8 channels.
 * - Taps outside the image and kernel rows past k_h hold d = 0, which is what skipping them
 *   means, so no correction term. |w d| <= 128 * 255 and a pair sum stays far from vpmaddwd's
 *   only overflow (both products -32768 * -32768).
 * - Epilogue y = float(acc) * (s_w * s_img) + bias (-0.0f if none), products pinned by qkd8_mul,
 *   then max(lo, .) and min(hi, .), bound first.
 *
 * Packed (Cp = out_ch rounded up to 8, G = ceil(k_h / 2)): float s_w[Cp] | float bias[Cp] |
 * dword weights [G][k_w][Cp], int16 r of a dword = kernel row 2 g + r. Workspace: the int16
 * image (and its M-times channel copy when depth_multiplier M > 1), each with 16 elements of
 * slack that the 8-channel loads of the last pixel may read (their lanes meet zero weights),
 * then the row buffer. */
#include <string.h>

#include "qk/float.h"
#include "variants.h"
#include "dynamic_gemm.h"

#define NAME(s) qk_dynamic_dwconv2d_8c2__avx2##s

static size_t cpad(const qk_conv2d_f32_desc *d) { return qk_round_up(d->out_ch, 8); }
static size_t kgroups(const qk_conv2d_f32_desc *d) { return (d->k_h + 1) / 2; }
static size_t in_cols(const qk_conv2d_f32_desc *d, const qk_conv2d_geom *g) {
  return (g->out_w - 1) * d->stride_w + (d->k_w - 1) * d->dilation_w + 1;
}
static size_t image_elems(const qk_conv2d_f32_desc *d) { return qk_round_up(d->in_h * d->in_w * d->in_ch, 16) + 16; }
static size_t copy_elems(const qk_conv2d_f32_desc *d) {
  return d->depth_multiplier > 1 ? qk_round_up(d->in_h * d->in_w * d->out_ch, 16) + 16 : 0;
}

size_t NAME(_packed_size)(const qk_conv2d_dynamic_desc *dd) {
  const qk_conv2d_f32_desc *d = &dd->conv;
  return cpad(d) * 4 * (2 + kgroups(d) * d->k_w);
}

void NAME(_pack)(const qk_conv2d_dynamic_desc *dd, const int8_t *w, const float *bias, void *packed) {
  const qk_conv2d_f32_desc *d = &dd->conv;
  const size_t O = d->out_ch, Cp = cpad(d);
  float *sw = packed, *b = sw + Cp;
  int16_t *wq = (int16_t *)(void *)(b + Cp);
  memset(packed, 0, NAME(_packed_size)(dd));
  for (size_t c = 0; c < Cp; c++) {
    sw[c] = c < O ? dd->w_scale[c] : 0.0f;
    b[c] = c < O && bias ? bias[c] : -0.0f;
  }
  for (size_t ky = 0; ky < d->k_h; ky++)
    for (size_t kx = 0; kx < d->k_w; kx++)
      for (size_t c = 0; c < O; c++) wq[((ky / 2 * d->k_w + kx) * Cp + c) * 2 + ky % 2] = w[(ky * d->k_w + kx) * O + c];
}

size_t NAME(_workspace_size)(const qk_conv2d_dynamic_desc *dd, const qk_conv2d_geom *g) {
  const qk_conv2d_f32_desc *d = &dd->conv;
  return (image_elems(d) + copy_elems(d)) * 2 + kgroups(d) * in_cols(d, g) * cpad(d) * 4;
}

/* Interleaves kernel rows 2 j, 2 j + 1 of output row oy as d = q - offset into buf[Wi][Cp]. */
static void build_rows(const qk_conv2d_f32_desc *d, const qk_conv2d_geom *g, const int16_t *src, size_t C,
                       size_t oy, size_t j, size_t Wi, int32_t offset, int32_t *buf) {
  const size_t Cp = qk_round_up(C, 8);
  const __m128i off = _mm_set1_epi16((short)offset), zero = _mm_setzero_si128();
  const int16_t *rows[2];
  for (size_t r = 0; r < 2; r++) {
    const size_t ky = 2 * j + r;
    const long iy = (long)(oy * d->stride_h) - (long)g->pad_top + (long)(ky * d->dilation_h);
    rows[r] = ky < d->k_h && iy >= 0 && iy < (long)d->in_h ? src + (size_t)iy * d->in_w * C : NULL;
  }
  for (size_t xi = 0; xi < Wi; xi++) {
    int32_t *dst = buf + xi * Cp;
    const long ix = (long)xi - (long)g->pad_left;
    if ((!rows[0] && !rows[1]) || ix < 0 || ix >= (long)d->in_w) {
      memset(dst, 0, Cp * 4);
      continue;
    }
    const int16_t *p0 = rows[0] ? rows[0] + (size_t)ix * C : NULL, *p1 = rows[1] ? rows[1] + (size_t)ix * C : NULL;
    for (size_t c = 0; c < Cp; c += 8) {
      const __m128i d0 = p0 ? _mm_sub_epi16(_mm_loadu_si128((const __m128i *)(const void *)(p0 + c)), off) : zero;
      const __m128i d1 = p1 ? _mm_sub_epi16(_mm_loadu_si128((const __m128i *)(const void *)(p1 + c)), off) : zero;
      _mm256_storeu_si256((__m256i *)(void *)(dst + c),
                          _mm256_set_m128i(_mm_unpackhi_epi16(d0, d1), _mm_unpacklo_epi16(d0, d1)));
    }
  }
}

/* One output row, 8 channels at a time; KW is a constant in the 3x3 instance. */
static inline __attribute__((always_inline)) void row_pass(const qk_conv2d_f32_desc *d, const qk_conv2d_geom *g,
                                                           const void *packed, const int32_t *buf, size_t Wi,
                                                           size_t G, const size_t KW, float s_img, float *y) {
  const size_t O = d->out_ch, Cp = cpad(d), sw = d->stride_w, dw = d->dilation_w;
  const float *swp = packed, *bp = swp + Cp;
  const int32_t *wq = (const int32_t *)(const void *)(bp + Cp);
  const __m256 lo = _mm256_set1_ps(d->act_min), hi = _mm256_set1_ps(d->act_max), simg = _mm256_set1_ps(s_img);
  for (size_t c = 0; c < Cp; c += 8) {
    const __m256 scale = qkd8_mul(_mm256_loadu_ps(swp + c), simg);
    const __m256 bias = _mm256_loadu_ps(bp + c);
    for (size_t ox = 0; ox < g->out_w; ox++) {
      __m256i acc = _mm256_setzero_si256();
      for (size_t j = 0; j < G; j++) {
        const int32_t *in = buf + (j * Wi + ox * sw) * Cp + c;
        const int32_t *wj = wq + j * KW * Cp + c;
        for (size_t kx = 0; kx < KW; kx++)
          acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(const void *)(in + kx * dw * Cp)),
                                                        _mm256_loadu_si256((const __m256i *)(const void *)(wj + kx * Cp))));
      }
      __m256 v = _mm256_add_ps(qkd8_mul(_mm256_cvtepi32_ps(acc), scale), bias);
      qkd8_store(y + ox * O + c, _mm256_min_ps(hi, _mm256_max_ps(lo, v)), O - c);
    }
  }
}

void NAME(_run)(const qk_conv2d_dynamic_desc *dd, const qk_conv2d_geom *g, const void *packed, const float *x,
                float *y, void *workspace) {
  const qk_conv2d_f32_desc *d = &dd->conv;
  const size_t C = d->in_ch, O = d->out_ch, M = d->depth_multiplier, G = kgroups(d), Wi = in_cols(d, g);
  const size_t image = d->in_h * d->in_w * C, pixels = d->in_h * d->in_w;
  int16_t *img = workspace, *wide = img + image_elems(d);
  int32_t *buf = (int32_t *)(void *)(wide + copy_elems(d));
  /* The slack past the images: defined values (they only meet zero weights). */
  memset(img + qk_round_up(image, 16), 0, 16 * 2);
  if (M > 1) memset(wide + pixels * O, 0, (copy_elems(d) - pixels * O) * 2);
  for (size_t b = 0; b < d->batch; b++) {
    const qkd_qparams p = qkd_quantize(x + b * image, image, dd->asymmetric, img);
    const int16_t *src = img;
    if (M > 1) {
      for (size_t i = 0; i < pixels; i++)
        for (size_t ic = 0; ic < C; ic++)
          for (size_t m = 0; m < M; m++) wide[i * O + ic * M + m] = img[i * C + ic];
      src = wide;
    }
    float *yb = y + b * g->out_h * g->out_w * O;
    for (size_t oy = 0; oy < g->out_h; oy++) {
      for (size_t j = 0; j < G; j++) build_rows(d, g, src, O, oy, j, Wi, p.offset, buf + j * Wi * cpad(d));
      float *yr = yb + oy * g->out_w * O;
      if (d->k_w == 3) row_pass(d, g, packed, buf, Wi, G, 3, p.scale, yr);
      else row_pass(d, g, packed, buf, Wi, G, d->k_w, p.scale, yr);
    }
  }
}
