/* Dynamic-range DepthwiseConv2D, AVX-512 VNNI: bit-exact with qk_ref_dwconv2d_dynamic (TFLite's
 * depthwise EvalHybridPerChannel).
 *
 * The image is quantized as a whole by dynamic_gemm.h's qkd_quantize (u8 = q + 128). A lane is one
 * output channel and vpdpbusd adds 4 u8 x s8 products into it, so its 4 bytes are 4 kernel rows
 * of one tap column: per output row, each group of 4 kernel rows is interleaved once into a row
 * buffer of dwords (input columns x channels), and every output pixel then costs k_w vpdpbusd per
 * group (3 for a 3x3 kernel) per 16 channels.
 *
 * Taps outside the image hold u = offset + 128, that is q = offset; kernel rows past k_h have zero
 * weights. So every slot adds w * u, and starting the accumulator at -(offset + 128) * sum(w) (sum
 * over all taps, packed) leaves sum w * (q - offset) over the taps inside the image: the
 * reference's int32, exactly (int32 wraps, the final value fits).
 *
 * Epilogue in the reference's order, products pinned by qkd_mul (never fused):
 * y = float(acc) * (s_w * s_img) + bias, then max(lo, .) and min(hi, .) with the bound first (the
 * reference's `v < lo ? lo : v > hi ? hi : v`). A missing bias is -0.0f: v + -0 == v for every v.
 *
 * 3-row kernels at vertical stride and dilation 1: a buffer of input rows y .. y + 3 serves output
 * rows y and y + 1 (taps w0 w1 w2 0, then 0 w0 w1 w2), which halves the interleaving; the pack
 * keeps that second weight set after the first.
 *
 * Depth multiplier M > 1 first copies each quantized channel M times, which makes it the M = 1
 * problem on out_ch channels.
 *
 * Packed (Cp = out_ch rounded up to 16, G = ceil(k_h / 4)): float s_w[Cp] | float bias[Cp] |
 * int32 sum_w[Cp] | dword weights [G][k_w][Cp], byte r of a dword = kernel row 4 g + r | for
 * k_h = 3 only, the shifted set [k_w][Cp] (byte r = kernel row r - 1, byte 0 zero).
 * Workspace: the u8 image (round_up(H W C, 64) + 64), the M-times copy when M > 1, and the
 * row buffer [G][Wi][Cp] dwords, Wi = (out_w - 1) stride_w + (k_w - 1) dilation_w + 1. */
#include <string.h>

#include "qk/float.h"
#include "variants.h"
#include "dynamic_gemm.h"

#define NAME(s) qk_dynamic_dwconv2d_16c4__avx512vnni##s

static size_t cpad(const qk_conv2d_f32_desc *d) { return qk_round_up(d->out_ch, 16); }
static size_t kgroups(const qk_conv2d_f32_desc *d) { return (d->k_h + 3) / 4; }
static size_t in_cols(const qk_conv2d_f32_desc *d, const qk_conv2d_geom *g) {
  return (g->out_w - 1) * d->stride_w + (d->k_w - 1) * d->dilation_w + 1;
}
static size_t image_bytes(const qk_conv2d_f32_desc *d) { return qk_round_up(d->in_h * d->in_w * d->in_ch, 64) + 64; }
static size_t copy_bytes(const qk_conv2d_f32_desc *d) {
  return d->depth_multiplier > 1 ? qk_round_up(d->in_h * d->in_w * d->out_ch, 64) : 0;
}

size_t NAME(_packed_size)(const qk_conv2d_dynamic_desc *dd) {
  const qk_conv2d_f32_desc *d = &dd->conv;
  return cpad(d) * 4 * (3 + kgroups(d) * d->k_w + (d->k_h == 3 ? d->k_w : 0));
}

static bool row_pairs(const qk_conv2d_f32_desc *d) { return d->k_h == 3 && d->stride_h == 1 && d->dilation_h == 1; }

void NAME(_pack)(const qk_conv2d_dynamic_desc *dd, const int8_t *w, const float *bias, void *packed) {
  const qk_conv2d_f32_desc *d = &dd->conv;
  const size_t O = d->out_ch, Cp = cpad(d);
  float *sw = packed, *b = sw + Cp;
  int32_t *sum = (int32_t *)(void *)(b + Cp);
  uint8_t *wq = (uint8_t *)(sum + Cp);
  memset(packed, 0, NAME(_packed_size)(dd));
  for (size_t c = 0; c < Cp; c++) {
    sw[c] = c < O ? dd->w_scale[c] : 0.0f;
    b[c] = c < O && bias ? bias[c] : -0.0f;
  }
  for (size_t ky = 0; ky < d->k_h; ky++)
    for (size_t kx = 0; kx < d->k_w; kx++)
      for (size_t c = 0; c < O; c++) {
        const int8_t v = w[(ky * d->k_w + kx) * O + c];
        wq[((ky / 4 * d->k_w + kx) * Cp + c) * 4 + ky % 4] = (uint8_t)v;
        if (d->k_h == 3) wq[((d->k_w + kx) * Cp + c) * 4 + ky + 1] = (uint8_t)v;
        sum[c] = (int32_t)((uint32_t)sum[c] + (uint32_t)(int32_t)v);
      }
}

size_t NAME(_workspace_size)(const qk_conv2d_dynamic_desc *dd, const qk_conv2d_geom *g) {
  const qk_conv2d_f32_desc *d = &dd->conv;
  return image_bytes(d) + copy_bytes(d) + kgroups(d) * in_cols(d, g) * cpad(d) * 4;
}

static const uint32_t *weights(const qk_conv2d_f32_desc *d, const void *packed) {
  return (const uint32_t *)packed + 3 * cpad(d);
}

/* Interleaves input rows y0 + r dilation_h, r < nrows (pad beyond), into buf[Wi][Cp]. */
static void build_rows(const qk_conv2d_f32_desc *d, const qk_conv2d_geom *g, const uint8_t *src, size_t C,
                       long y0, size_t nrows, size_t Wi, uint8_t pad, uint32_t *buf) {
  const size_t Cp = qk_round_up(C, 16);
  const __m512i padv = _mm512_set1_epi8((char)pad);
  const __m128i padx = _mm512_castsi512_si128(padv);
  const uint8_t *rows[4];
  bool any = false;
  for (size_t r = 0; r < 4; r++) {
    const long iy = y0 + (long)(r * d->dilation_h);
    rows[r] = r < nrows && iy >= 0 && iy < (long)d->in_h ? src + (size_t)iy * d->in_w * C : NULL;
    any |= rows[r] != NULL;
  }
  for (size_t xi = 0; xi < Wi; xi++) {
    uint32_t *dst = buf + xi * Cp;
    const long ix = (long)xi - (long)g->pad_left;
    if (!any || ix < 0 || ix >= (long)d->in_w) {
      for (size_t c = 0; c < Cp; c += 16) _mm512_storeu_si512(dst + c, padv);
      continue;
    }
    for (size_t c = 0; c < Cp; c += 16) {
      const __mmask16 m = qkd_mask16(C - c);
      __m512i v[4];
      for (size_t r = 0; r < 4; r++)
        v[r] = _mm512_cvtepu8_epi32(rows[r] ? _mm_mask_loadu_epi8(padx, m, rows[r] + (size_t)ix * C + c) : padx);
      const __m512i lo = _mm512_or_si512(v[0], _mm512_slli_epi32(v[1], 8));
      const __m512i hi = _mm512_or_si512(_mm512_slli_epi32(v[2], 16), _mm512_slli_epi32(v[3], 24));
      _mm512_storeu_si512(dst + c, _mm512_or_si512(lo, hi));
    }
  }
}

/* One output row, 16 channels at a time; KW is a constant in the 3x3 instance so its weights stay
 * in registers across the row. */
static inline __attribute__((always_inline)) void row_pass(const qk_conv2d_f32_desc *d, const qk_conv2d_geom *g,
                                                           const void *packed, const uint32_t *wq,
                                                           const uint32_t *buf, size_t Wi, const size_t G,
                                                           const size_t KW, int32_t corr, float s_img, float *y) {
  const size_t O = d->out_ch, Cp = cpad(d), sw = d->stride_w, dw = d->dilation_w;
  const float *swp = packed, *bp = swp + Cp;
  const int32_t *sum = (const int32_t *)(const void *)(bp + Cp);
  const __m512 lo = _mm512_set1_ps(d->act_min), hi = _mm512_set1_ps(d->act_max), simg = _mm512_set1_ps(s_img);
  for (size_t c = 0; c < Cp; c += 16) {
    const __mmask16 m = qkd_mask16(O - c);
    const __m512 scale = qkd_mul(_mm512_loadu_ps(swp + c), simg);
    const __m512 bias = _mm512_loadu_ps(bp + c);
    const __m512i init = _mm512_mullo_epi32(_mm512_loadu_si512(sum + c), _mm512_set1_epi32(corr));
    __m512i w3[3];
    for (size_t kx = 0; kx < 3; kx++) w3[kx] = G == 1 && KW == 3 ? _mm512_loadu_si512(wq + kx * Cp + c) : init;
    for (size_t ox = 0; ox < g->out_w; ox++) {
      __m512i acc = init;
      for (size_t j = 0; j < G; j++) {
        const uint32_t *in = buf + (j * Wi + ox * sw) * Cp + c;
        const uint32_t *wj = wq + j * KW * Cp + c;
        for (size_t kx = 0; kx < KW; kx++)
          acc = _mm512_dpbusd_epi32(acc, _mm512_loadu_si512(in + kx * dw * Cp),
                                    G == 1 && KW == 3 ? w3[kx] : _mm512_loadu_si512(wj + kx * Cp));
      }
      __m512 v = _mm512_add_ps(qkd_mul(_mm512_cvtepi32_ps(acc), scale), bias);
      v = _mm512_min_ps(hi, _mm512_max_ps(lo, v));
      _mm512_mask_storeu_ps(y + ox * O + c, m, v);
    }
  }
}

void NAME(_run)(const qk_conv2d_dynamic_desc *dd, const qk_conv2d_geom *g, const void *packed, const float *x,
                float *y, void *workspace) {
  const qk_conv2d_f32_desc *d = &dd->conv;
  const size_t C = d->in_ch, O = d->out_ch, M = d->depth_multiplier, G = kgroups(d), Wi = in_cols(d, g);
  const size_t image = d->in_h * d->in_w * C;
  uint8_t *img = workspace, *wide = img + image_bytes(d);
  uint32_t *buf = (uint32_t *)(void *)(wide + copy_bytes(d));
  for (size_t b = 0; b < d->batch; b++) {
    const qkd_qparams p = qkd_quantize(x + b * image, image, dd->asymmetric, img);
    const uint8_t *src = img;
    if (M > 1) {
      for (size_t i = 0; i < d->in_h * d->in_w; i++)
        for (size_t ic = 0; ic < C; ic++) memset(wide + i * O + ic * M, img[i * C + ic], M);
      src = wide;
    }
    const uint8_t pad = (uint8_t)(p.offset + 128);
    const int32_t corr = -(p.offset + 128);
    float *yb = y + b * g->out_h * g->out_w * O;
    if (row_pairs(d)) {
      const uint32_t *wa = weights(d, packed), *wb = wa + d->k_w * cpad(d);
      for (size_t oy = 0; oy < g->out_h; oy += 2) {
        const bool two = oy + 1 < g->out_h;
        build_rows(d, g, src, O, (long)oy - (long)g->pad_top, two ? 4 : 3, Wi, pad, buf);
        float *yr = yb + oy * g->out_w * O;
        if (d->k_w == 3) {
          row_pass(d, g, packed, wa, buf, Wi, 1, 3, corr, p.scale, yr);
          if (two) row_pass(d, g, packed, wb, buf, Wi, 1, 3, corr, p.scale, yr + g->out_w * O);
        } else {
          row_pass(d, g, packed, wa, buf, Wi, 1, d->k_w, corr, p.scale, yr);
          if (two) row_pass(d, g, packed, wb, buf, Wi, 1, d->k_w, corr, p.scale, yr + g->out_w * O);
        }
      }
      continue;
    }
    for (size_t oy = 0; oy < g->out_h; oy++) {
      for (size_t j = 0; j < G; j++) {
        const long y0 = (long)(oy * d->stride_h) - (long)g->pad_top + (long)(4 * j * d->dilation_h);
        const size_t left = d->k_h - 4 * j;
        build_rows(d, g, src, O, y0, left < 4 ? left : 4, Wi, pad, buf + j * Wi * cpad(d));
      }
      float *yr = yb + oy * g->out_w * O;
      if (d->k_w == 3 && G == 1) row_pass(d, g, packed, weights(d, packed), buf, Wi, 1, 3, corr, p.scale, yr);
      else row_pass(d, g, packed, weights(d, packed), buf, Wi, G, d->k_w, corr, p.scale, yr);
    }
  }
}
