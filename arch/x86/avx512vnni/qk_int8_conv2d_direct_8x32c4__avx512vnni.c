/* int8 Conv2D with few input channels (MobileNet's 3-channel stem), AVX-512 VNNI: a direct
 * convolution, bit-exact with qk_ref_conv2d_int8 (SPEC.md §5), used by the avx512vnni conv
 * variant for the shapes qk_int8_conv2d_direct_8x32c4__avx512vnni_applies() accepts.
 *
 * Why not im2col + the 6x64c4 GEMM: with K = 27 the im2col copies (nine 3-byte memcpy calls per
 * output pixel) cost three times the multiplies, and N = 32 fills half of a 64-wide tile.
 *
 * With dilation_w = 1 the taps of one kernel row are k_w * C contiguous bytes of an input row
 * (NHWC, OHWI weights), so the K axis is read in place as k_h runs of R = k_w * C bytes, each
 * padded to whole quads (QR = ceil(R / 4)): a quad is one broadcast dword multiplied against 16
 * output channels by vpdpbusd. The bytes past R in the last quad belong to the next pixel; their
 * weights are zero. Per output row, the k_h input rows are first copied into a workspace as
 * x + 128 (vpdpbusd multiplies unsigned by signed bytes) with the padding taps filled with
 * zp_in + 128: a skipped tap then contributes w * (zp + 128), which the folded bias removes, so it
 * contributes 0 exactly as TFLite's skipped tap does. The folded bias is
 * bias - (zp_in + 128) * sum(w), in int32 wrap arithmetic like the accumulation.
 *
 * Tile: 8 output pixels of one row x 32 output channels (two vectors of 16 int32), weights read
 * from L1, requantized with requant.h (per-channel constants), narrowed two pixels at a time. */
#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "qk/conv.h"
#include "internal.h"
#include "variants.h"
#include "int8_io.h"

enum { MR = 8, NR = 32 };

/* One block of 32 output channels in the packed buffer. */
typedef struct block_layout {
  size_t bias, rq, w, bytes;
} block_layout;

static size_t quads_per_row(const qk_conv2d_int8_desc *d) { return (d->k_w * d->in_ch + 3) / 4; }

static block_layout layout(const qk_conv2d_int8_desc *d) {
  const size_t q = d->k_h * quads_per_row(d);
  block_layout b = {0, NR * sizeof(int32_t), NR * sizeof(int32_t) + 2 * QK_RQ512_BYTES, 0};
  b.bytes = b.w + q * 2 * 64;
  return b;
}

bool qk_int8_conv2d_direct_8x32c4__avx512vnni_applies(const qk_conv2d_int8_desc *d) {
  const bool pointwise = d->k_h == 1 && d->k_w == 1 && d->stride_h == 1 && d->stride_w == 1;
  return d->groups == 1 && d->dilation_w == 1 && !pointwise && d->k_w * d->in_ch <= 16;
}

size_t qk_int8_conv2d_direct_8x32c4__avx512vnni_packed_size(const qk_conv2d_int8_desc *d) {
  return (d->out_ch + NR - 1) / NR * layout(d).bytes;
}

void qk_int8_conv2d_direct_8x32c4__avx512vnni_pack(const qk_conv2d_int8_desc *d, const int8_t *w,
                                                   const int32_t *bias, void *packed) {
  const block_layout L = layout(d);
  const size_t R = d->k_w * d->in_ch, QR = quads_per_row(d), N = d->out_ch;
  for (size_t n0 = 0; n0 < N; n0 += NR) {
    char *blk = (char *)packed + n0 / NR * L.bytes;
    int32_t *b = (int32_t *)(blk + L.bias), m[NR], sh[NR];
    int8_t *pw = (int8_t *)(blk + L.w);
    memset(blk, 0, L.bytes);
    for (size_t l = 0; l < NR; l++) {
      const size_t o = n0 + l;
      m[l] = o < N ? d->multiplier[o] : 0;
      sh[l] = o < N ? d->shift[o] : 0;
      if (o >= N) continue;
      int64_t sum = 0;
      for (size_t ky = 0; ky < d->k_h; ky++)
        for (size_t k = 0; k < R; k++) {
          const int8_t v = w[(o * d->k_h + ky) * R + k];
          sum += v;
          /* quad (ky, k / 4), vector l / 16, lane l % 16, byte k % 4 */
          pw[((ky * QR + k / 4) * 2 + l / 16) * 64 + (l % 16) * 4 + k % 4] = v;
        }
      const int64_t folded = (int64_t)(bias ? bias[o] : 0) - (int64_t)(d->input_zp + 128) * sum;
      b[l] = (int32_t)(uint32_t)(uint64_t)folded;
    }
    qk_rq512_prepare((int32_t *)(blk + L.rq), m, sh, d->rounding);
    qk_rq512_prepare((int32_t *)(blk + L.rq + QK_RQ512_BYTES), m + 16, sh + 16, d->rounding);
  }
}

/* Padded input row: the taps of (out_w - 1) * stride_w + k_w columns, plus the over-read of the
 * last quad (at most 3 bytes). */
static size_t row_bytes(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g) {
  return qk_round_up(((g->out_w - 1) * d->stride_w + d->k_w) * d->in_ch + 4, 64);
}

size_t qk_int8_conv2d_direct_8x32c4__avx512vnni_workspace_size(const qk_conv2d_int8_desc *d,
                                                               const qk_conv2d_geom *g) {
  return d->k_h * row_bytes(d, g);
}

/* dst[0, n) = src[0, n) + 128 as unsigned bytes. */
static void copy_u8(uint8_t *dst, const int8_t *src, size_t n) {
  const __m512i bias = _mm512_set1_epi8((char)0x80);
  for (; n >= 64; n -= 64, src += 64, dst += 64)
    _mm512_storeu_si512(dst, _mm512_xor_si512(_mm512_loadu_si512(src), bias));
  if (n) {
    const __mmask64 k = qk512_mask64(n);
    _mm512_mask_storeu_epi8(dst, k, _mm512_xor_si512(_mm512_maskz_loadu_epi8(k, src), bias));
  }
}

/* The k_h padded rows output row oy of image b reads, at stride rb. */
static void stage_rows(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g, const int8_t *x, size_t b, size_t oy,
                       uint8_t *rows, size_t rb) {
  const size_t C = d->in_ch, cols = (g->out_w - 1) * d->stride_w + d->k_w;
  const uint8_t fill = (uint8_t)(d->input_zp + 128);
  const size_t left = g->pad_left < cols ? g->pad_left : cols;
  const size_t n = cols - left < d->in_w ? cols - left : d->in_w;
  for (size_t ky = 0; ky < d->k_h; ky++) {
    uint8_t *r = rows + ky * rb;
    const long iy = (long)(oy * d->stride_h) - (long)g->pad_top + (long)(ky * d->dilation_h);
    if (iy < 0 || iy >= (long)d->in_h) {
      memset(r, fill, rb);
      continue;
    }
    memset(r, fill, left * C);
    copy_u8(r + left * C, x + ((b * d->in_h + (size_t)iy) * d->in_w) * C, n * C);
    memset(r + (left + n) * C, fill, rb - (left + n) * C);
  }
}

typedef struct run_ctx {
  const uint8_t *rows;
  size_t rb, kh, qr, step; /* row stride, kernel rows, quads per row, bytes between pixels */
  __m512i zp, lo, hi;
} run_ctx;

/* mr (<= MR) pixels starting at column ox, channels [n0, n0 + nn) of block blk, into y (pixel stride ys). */
QK_INLINE void tile(const run_ctx *c, const char *blk, const block_layout *L, size_t ox, int mr, int8_t *y,
                    size_t ys, size_t nn, bool single, bool lshift) {
  const __m512i *bias = (const __m512i *)(blk + L->bias);
  const __m512i *w = (const __m512i *)(blk + L->w);
  __m512i acc[2 * MR];
  for (int p = 0; p < mr; p++) acc[2 * p] = bias[0], acc[2 * p + 1] = bias[1];
  const uint8_t *base = c->rows + ox * c->step;
  for (size_t ky = 0; ky < c->kh; ky++, base += c->rb)
    for (size_t j = 0; j < c->qr; j++, w += 2) {
      const __m512i w0 = _mm512_load_si512(w), w1 = _mm512_load_si512(w + 1);
      for (int p = 0; p < mr; p++) {
        int32_t q;
        memcpy(&q, base + p * c->step + 4 * j, 4);
        const __m512i xq = _mm512_set1_epi32(q);
        acc[2 * p] = _mm512_dpbusd_epi32(acc[2 * p], xq, w0);
        acc[2 * p + 1] = _mm512_dpbusd_epi32(acc[2 * p + 1], xq, w1);
      }
    }
  const char *rq = blk + L->rq;
  for (int p = 0; p < mr; p++) {
    acc[2 * p] = single ? qk_rq512_single(acc[2 * p], rq) : qk_rq512_double(acc[2 * p], rq, lshift);
    acc[2 * p + 1] = single ? qk_rq512_single(acc[2 * p + 1], rq + QK_RQ512_BYTES)
                            : qk_rq512_double(acc[2 * p + 1], rq + QK_RQ512_BYTES, lshift);
  }
  const __mmask32 keep = nn >= 32 ? ~(__mmask32)0 : ((__mmask32)1 << nn) - 1;
  for (int p = 0; p < mr; p += 2) {
    const int q = p + 1 < mr ? p + 1 : p;
    const __m512i v[4] = {acc[2 * p], acc[2 * p + 1], acc[2 * q], acc[2 * q + 1]};
    const __m512i bytes = qk512_narrow_s8(v, c->zp, c->lo, c->hi);
    _mm256_mask_storeu_epi8(y + (size_t)p * ys, keep, _mm512_castsi512_si256(bytes));
    if (q != p) _mm256_mask_storeu_epi8(y + (size_t)q * ys, keep, _mm512_extracti64x4_epi64(bytes, 1));
  }
}

/* One output row: every 32-channel block, every group of MR pixels (the tail with mr < MR). */
QK_INLINE void row(const run_ctx *c, const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g, const void *packed,
                   int8_t *y, bool single, bool lshift) {
  const block_layout L = layout(d);
  const size_t N = d->out_ch;
  for (size_t n0 = 0; n0 < N; n0 += NR) {
    const char *blk = (const char *)packed + n0 / NR * L.bytes;
    const size_t nn = N - n0 < NR ? N - n0 : NR;
    size_t ox = 0;
    for (; ox + MR <= g->out_w; ox += MR) tile(c, blk, &L, ox, MR, y + ox * N + n0, N, nn, single, lshift);
    switch (g->out_w - ox) {
#define TAIL(k) \
  case k: tile(c, blk, &L, ox, k, y + ox * N + n0, N, nn, single, lshift); break;
      TAIL(1) TAIL(2) TAIL(3) TAIL(4) TAIL(5) TAIL(6) TAIL(7)
#undef TAIL
      default: break;
    }
  }
}

static void row_single(const run_ctx *c, const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g, const void *p,
                       int8_t *y) {
  row(c, d, g, p, y, true, false);
}
static void row_double(const run_ctx *c, const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g, const void *p,
                       int8_t *y) {
  row(c, d, g, p, y, false, false);
}
static void row_double_ls(const run_ctx *c, const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g, const void *p,
                          int8_t *y) {
  row(c, d, g, p, y, false, true);
}

void qk_int8_conv2d_direct_8x32c4__avx512vnni_run(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g,
                                                  const void *packed, const int8_t *x, int8_t *y, void *ws) {
  const block_layout L = layout(d);
  bool lshift = false;
  for (size_t n0 = 0; n0 < d->out_ch && d->rounding == QK_ROUND_DOUBLE; n0 += NR)
    lshift |= qk_rq512_any_left_shift((const char *)packed + n0 / NR * L.bytes + L.rq, 2);
  void (*const fn)(const run_ctx *, const qk_conv2d_int8_desc *, const qk_conv2d_geom *, const void *, int8_t *) =
      d->rounding == QK_ROUND_SINGLE ? row_single : lshift ? row_double_ls : row_double;
  run_ctx c = {.rows = ws, .rb = row_bytes(d, g), .kh = d->k_h, .qr = quads_per_row(d),
               .step = d->stride_w * d->in_ch, .zp = _mm512_set1_epi32(d->output_zp),
               .lo = _mm512_set1_epi8((char)d->act_min), .hi = _mm512_set1_epi8((char)d->act_max)};
  const size_t ystride = g->out_w * d->out_ch;
  for (size_t b = 0; b < d->batch; b++)
    for (size_t oy = 0; oy < g->out_h; oy++) {
      stage_rows(d, g, x, b, oy, ws, c.rb);
      fn(&c, d, g, packed, y + (b * g->out_h + oy) * ystride);
    }
}
