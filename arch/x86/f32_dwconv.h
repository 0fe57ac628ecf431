/* The x86 float DepthwiseConv2D template, shared by the f32 and f16-weight variants of SSE4.1,
 * AVX2 and AVX-512 (NHWC, filter [1, k_h, k_w, out_ch], out_ch = in_ch * depth_multiplier).
 * One .c file per variant includes its ISA's vector helpers (arch/x86/<isa>/f32_vec_<isa>.h)
 * and then this.
 *
 * Vectors run along the channels, which are contiguous in NHWC. Every output is its bias plus
 * the taps' products in ascending (ky, kx) order, one fused multiply-add each (SSE4.1: a
 * multiply and an add), then the clamp.
 *  - 3x3 with depth multiplier 1 (every depthwise layer of MobileNetV2): per block of LANES
 *    channels, the 9 weight vectors and the bias stay in registers while the block sweeps a
 *    band of output rows, so each tap costs one input load and one FMA. Padded taps read zeros
 *    from the workspace and add 0 * w (see fd_band3x3).
 *  - anything else: pixel by pixel over the valid taps only, weights loaded per tap. With a
 *    depth multiplier M > 1, output channel o reads input channel o / M; each pixel's taps are
 *    first spread into the workspace ([taps][Cp]) so the same vector loop runs on them.
 *
 * Weights are tiny (k_h * k_w * C floats, read again for every pixel), so the f16w variants
 * widen them exactly at pack time and run this very code: bit-identical to the f32 variant on
 * widened weights by construction.
 *
 * Packed layout (channels padded with zeros to a multiple of LANES, Cp):
 *   float bias[Cp]
 *   float w[k_h * k_w][Cp]
 *
 * The includer defines FD_NAME(suffix) (the variant's function names) and FD_HALF (1: pack()
 * takes binary16 weights). */
#include <stdint.h>
#include <string.h>

#include "qk/float.h"
#include "internal.h"
#include "variants.h"

#define FD_INLINE static inline __attribute__((always_inline))
#define FD_UNROLL _Pragma("GCC unroll 9")
/* Input bytes per band of output rows: small enough for L2, so the channel blocks after the
 * first find the band's rows there (128 KiB to 1 MiB measured alike; whole-image sweeps of the
 * 112x112 layers, 1.6 to 4.8 MB, were 30-70% slower). */
#define FD_BAND_BYTES (256 * 1024)

static size_t fd_padded(size_t o) { return qk_round_up(o, FG_LANES); }

size_t FD_NAME(_packed_size)(const qk_conv2d_f32_desc *d) {
  size_t taps, n;
  if (!qk_mul_size(d->k_h, d->k_w, &taps) || !qk_add_size(taps, 1, &taps) || !qk_mul_size(taps, fd_padded(d->out_ch), &n) ||
      !qk_mul_size(n, sizeof(float), &n))
    return SIZE_MAX & ~(size_t)63; /* unallocatable, and rounding it up to 64 cannot wrap */
  return n;
}

void FD_NAME(_pack)(const qk_conv2d_f32_desc *d, const void *w, const float *bias, void *packed) {
  const size_t O = d->out_ch, Cp = fd_padded(O), taps = d->k_h * d->k_w;
  float *pb = packed, *pw = pb + Cp;
  for (size_t c = 0; c < Cp; c++) pb[c] = c < O && bias ? bias[c] : 0.0f;
  for (size_t t = 0; t < taps; t++)
    for (size_t c = 0; c < Cp; c++) {
      float v = 0.0f;
#if FD_HALF
      if (c < O) v = qk_f16_to_f32(((const uint16_t *)w)[t * O + c]);
#else
      if (c < O) v = ((const float *)w)[t * O + c];
#endif
      pw[t * Cp + c] = v;
    }
}

/* The register-resident path: 3x3 filters, one output channel per input channel. */
static bool fd_fast(const qk_conv2d_f32_desc *d) { return d->k_h == 3 && d->k_w == 3 && d->depth_multiplier == 1; }

/* The fast path reads padding from a zeroed image row; the general path with a depth multiplier
 * spreads each pixel's taps ([taps][Cp] floats). */
size_t FD_NAME(_workspace_size)(const qk_conv2d_f32_desc *d, const qk_conv2d_geom *g) {
  (void)g;
  if (fd_fast(d)) return d->in_w * d->in_ch * sizeof(float);
  return d->depth_multiplier > 1 ? d->k_h * d->k_w * fd_padded(d->out_ch) * sizeof(float) : 0;
}

FD_INLINE fg_vec fd_loadx(const float *p, size_t n) { return n == FG_LANES ? fg_loadu(p) : fg_load_part(p, n); }

FD_INLINE void fd_storey(float *p, fg_vec v, size_t n, fg_vec lo, fg_vec hi) {
  v = fg_max(lo, fg_min(hi, v));
  if (n == FG_LANES) fg_store(p, v);
  else fg_store_part(p, v, n);
}

/* bias + the 9 taps in (ky, kx) order; q[t] points at tap t's n channels. */
FD_INLINE fg_vec fd_taps9(size_t n, const float *const q[9], fg_vec b, const fg_vec w[9]) {
  fg_vec acc = b;
  FD_UNROLL for (size_t t = 0; t < 9; t++) acc = fg_fma(fd_loadx(q[t], n), w[t], acc);
  return acc;
}

/* One band of output rows [oy0, oy1) of an image for one channel block (n channels from c), 3x3,
 * depth multiplier 1. The block's 9 weight vectors and bias stay in registers while it sweeps
 * the band row by row, so each input line is fetched into L1 once per block and then serves all
 * the taps that read it (a block's 3-row window is a few KiB even for 112-pixel rows). A padded
 * row reads `zero` (W * C floats of zeros) instead; edge pixels read it for columns outside the
 * image: a padded tap adds 0 * w, which changes no sum but the sign of an all-zero one. Interior
 * pixels [ox_lo, ox_hi) just step their tap pointers by sw pixels. n is the constant LANES for
 * full blocks, so their loads and stores are plain; the last block of C mod LANES channels takes
 * the partial ones, which touch nothing past channel C. */
FD_INLINE void fd_band3x3(size_t n, const qk_conv2d_f32_desc *d, const qk_conv2d_geom *g, const float *img,
                          const float *zero, size_t oy0, size_t oy1, size_t ox_lo, size_t ox_hi, size_t c,
                          const float *pb, const float *pw, size_t Cp, float *yimg, fg_vec lo, fg_vec hi) {
  const size_t H = d->in_h, W = d->in_w, C = d->in_ch, sw = d->stride_w, dw = d->dilation_w, out_w = g->out_w;
  const fg_vec b = fg_load(pb + c);
  fg_vec w[9];
  FD_UNROLL for (size_t t = 0; t < 9; t++) w[t] = fg_load(pw + t * Cp + c);
  for (size_t oy = oy0; oy < oy1; oy++) {
    float *y = yimg + oy * out_w * C + c;
    const float *r[3];
    for (size_t ky = 0; ky < 3; ky++) {
      const long iy = (long)(oy * d->stride_h) - (long)g->pad_top + (long)(ky * d->dilation_h);
      r[ky] = iy >= 0 && iy < (long)H ? img + (size_t)iy * W * C + c : zero + c;
    }
    for (size_t ox = 0; ox < out_w; ox++) {
      const float *q[9];
      if (ox >= ox_lo && ox < ox_hi) { /* the interior run, up to ox_hi */
        const size_t ix0 = ox * sw - g->pad_left, tap = dw * C;
        const float *p0 = r[0] + ix0 * C, *p1 = r[1] + ix0 * C, *p2 = r[2] + ix0 * C;
        for (; ox < ox_hi; ox++, p0 += sw * C, p1 += sw * C, p2 += sw * C) {
          const float *const t9[9] = {p0, p0 + tap, p0 + 2 * tap, p1, p1 + tap, p1 + 2 * tap, p2, p2 + tap, p2 + 2 * tap};
          fd_storey(y + ox * C, fd_taps9(n, t9, b, w), n, lo, hi);
        }
        if (ox == out_w) break;
      }
      const long ix0 = (long)(ox * sw) - (long)g->pad_left;
      FD_UNROLL for (size_t t = 0; t < 9; t++) {
        const long ix = ix0 + (long)(t % 3 * dw);
        q[t] = ix >= 0 && ix < (long)W ? r[t / 3] + (size_t)ix * C : zero + c;
      }
      fd_storey(y + ox * C, fd_taps9(n, q, b, w), n, lo, hi);
    }
  }
}

/* Filter taps k in [0, n) whose input index i0 + k * dil lies in [0, len) form [*lo, *hi). */
static void fd_range(long i0, size_t dil, size_t n, size_t len, size_t *lo, size_t *hi) {
  size_t l = 0, h = n;
  while (l < n && i0 + (long)(l * dil) < 0) l++;
  while (h > l && i0 + (long)((h - 1) * dil) >= (long)len) h--;
  *lo = l, *hi = h;
}

/* One output pixel, any kernel and depth multiplier: valid taps only, ascending (ky, kx). */
static void fd_pixel(const qk_conv2d_f32_desc *d, const qk_conv2d_geom *g, const float *img, size_t oy, size_t ox,
                     const float *pb, const float *pw, float *out, float *ws, fg_vec lo, fg_vec hi) {
  const size_t C = d->in_ch, O = d->out_ch, M = d->depth_multiplier, Cp = fd_padded(O), kw = d->k_w;
  const size_t dh = d->dilation_h, dw = d->dilation_w;
  const long iy0 = (long)(oy * d->stride_h) - (long)g->pad_top, ix0 = (long)(ox * d->stride_w) - (long)g->pad_left;
  size_t ky0, ky1, kx0, kx1;
  fd_range(iy0, dh, d->k_h, d->in_h, &ky0, &ky1);
  fd_range(ix0, dw, kw, d->in_w, &kx0, &kx1);
  if (M > 1) /* spread: output channel o of tap t reads input channel o / M */
    for (size_t ky = ky0; ky < ky1; ky++)
      for (size_t kx = kx0; kx < kx1; kx++) {
        const float *px = img + ((size_t)(iy0 + (long)(ky * dh)) * d->in_w + (size_t)(ix0 + (long)(kx * dw))) * C;
        float *dst = ws + (ky * kw + kx) * Cp;
        for (size_t o = 0; o < O; o++) dst[o] = px[o / M];
      }
  for (size_t c = 0; c < O; c += FG_LANES) {
    const size_t n = O - c < FG_LANES ? O - c : FG_LANES;
    fg_vec acc = fg_load(pb + c);
    for (size_t ky = ky0; ky < ky1; ky++)
      for (size_t kx = kx0; kx < kx1; kx++) {
        const size_t t = ky * kw + kx;
        const float *src = M > 1 ? ws + t * Cp + c
                                 : img + ((size_t)(iy0 + (long)(ky * dh)) * d->in_w + (size_t)(ix0 + (long)(kx * dw))) * C + c;
        acc = fg_fma(fd_loadx(src, n), fg_load(pw + t * Cp + c), acc);
      }
    fd_storey(out + c, acc, n, lo, hi);
  }
}

void FD_NAME(_run)(const qk_conv2d_f32_desc *d, const qk_conv2d_geom *g, const void *packed, const float *x, float *y,
                   void *ws) {
  const size_t H = d->in_h, W = d->in_w, C = d->in_ch, O = d->out_ch, Cp = fd_padded(O);
  const size_t sw = d->stride_w, dw = d->dilation_w;
  const float *pb = packed, *pw = pb + Cp;
  const fg_vec lo = fg_set1(d->act_min), hi = fg_set1(d->act_max);
  if (!fd_fast(d)) {
    for (size_t b = 0; b < d->batch; b++)
      for (size_t oy = 0; oy < g->out_h; oy++)
        for (size_t ox = 0; ox < g->out_w; ox++)
          fd_pixel(d, g, x + b * H * W * C, oy, ox, pb, pw, y + ((b * g->out_h + oy) * g->out_w + ox) * O, ws, lo, hi);
    return;
  }
  float *zero = ws;
  memset(zero, 0, W * C * sizeof *zero); /* all-zero bytes are +0.0f */
  /* Output columns whose three taps are all inside the row: ox * sw - pad_left >= 0 and
   * ox * sw - pad_left + 2 * dw <= W - 1. */
  size_t ox_lo = (g->pad_left + sw - 1) / sw, ox_hi = 0;
  if (W + g->pad_left >= 2 * dw + 1) ox_hi = (W - 1 + g->pad_left - 2 * dw) / sw + 1;
  if (ox_hi > g->out_w) ox_hi = g->out_w;
  if (ox_lo > ox_hi) ox_lo = ox_hi;
  /* Bands of output rows whose input rows fit in FD_BAND_BYTES. */
  size_t band = FD_BAND_BYTES / (W * C * sizeof(float) + 1);
  band = band > 2 * d->dilation_h ? (band - 2 * d->dilation_h) / d->stride_h : 1;
  if (band == 0) band = 1;
  for (size_t b = 0; b < d->batch; b++) {
    const float *img = x + b * H * W * C;
    float *yimg = y + b * g->out_h * g->out_w * C;
    for (size_t oy0 = 0; oy0 < g->out_h; oy0 += band) {
      const size_t oy1 = g->out_h - oy0 < band ? g->out_h : oy0 + band;
      size_t c = 0;
      for (; c + FG_LANES <= C; c += FG_LANES)
        fd_band3x3(FG_LANES, d, g, img, zero, oy0, oy1, ox_lo, ox_hi, c, pb, pw, Cp, yimg, lo, hi);
      if (c < C) fd_band3x3(C - c, d, g, img, zero, oy0, oy1, ox_lo, ox_hi, c, pb, pw, Cp, yimg, lo, hi);
    }
  }
}
