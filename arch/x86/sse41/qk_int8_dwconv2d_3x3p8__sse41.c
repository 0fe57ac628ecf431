/* int8 DepthwiseConv2D, SSE4.1: exact with qk_ref_dwconv2d_int8 (SPEC.md §5).
 *
 * Vectorized over channels (NHWC: they are contiguous), 8 per block. x is widened to int16 and
 * taps go in pairs: unpacking two taps' vectors interleaves them channel by channel, so pmaddwd
 * against weight pairs packed the same way leaves one int32 lane per channel holding
 * w_a x_a + w_b x_b (each product fits 15 bits, so nothing saturates). Two accumulators per block:
 * the low unpack covers channels 0-3, the high one 4-7.
 *
 * Borders: a tap outside the image reads a workspace row of input zero points, so it adds
 * w * zp; the pack folds -zp_in * sum(w) into the bias, which makes every pixel, border or not,
 * the plain sum of w * x. 3x3 kernels (any stride) take an unrolled path with the 9 tap pointers
 * computed per pixel; other kernels loop over a tap-pointer array kept in the workspace. Depth
 * multiplier M > 1 first repeats each input channel M times in the workspace.
 * Requantization is requant.h (exact for every multiplier, shift and both roundings).
 *
 * Packed layout: a 64-byte header, then per block of 8 channels: int32 bias[8], qk_sse41_rq4
 * rq[2], int16 w[pairs][2][8] (tap pairs, zero beyond the kernel and beyond out_ch). */
#include <smmintrin.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "qk/conv.h"
#include "internal.h"
#include "variants.h"
#include "requant.h"

#define QK_NAME(s) qk_int8_dwconv2d_3x3p8__sse41##s
#define QK_INLINE static inline __attribute__((always_inline))

typedef struct pk_head {
  uint32_t nblk, ntaps, npairs, blk_bytes, pad[12];
} pk_head;

_Static_assert(sizeof(pk_head) == 64, "64-byte header");

enum { NB = 8 };

static size_t pairs_of(const qk_conv2d_int8_desc *d) { return (d->k_h * d->k_w + 1) / 2; }
static size_t blk_bytes(size_t npairs) { return 32 + 2 * sizeof(qk_sse41_rq4) + npairs * 32; }

/* Channel held by lane j of accumulator v (0: low unpack, 1: high unpack). */
static size_t lane_channel(int v, int j) { return (size_t)j + 4 * (size_t)v; }

size_t QK_NAME(_packed_size)(const qk_conv2d_int8_desc *d) {
  return 64 + (d->out_ch + NB - 1) / NB * blk_bytes(pairs_of(d));
}

void QK_NAME(_pack)(const qk_conv2d_int8_desc *d, const int8_t *w, const int32_t *bias, void *packed) {
  const size_t O = d->out_ch, ntaps = d->k_h * d->k_w, npairs = pairs_of(d), bb = blk_bytes(npairs);
  pk_head *h = packed;
  memset(h, 0, sizeof *h);
  h->nblk = (uint32_t)((O + NB - 1) / NB);
  h->ntaps = (uint32_t)ntaps;
  h->npairs = (uint32_t)npairs;
  h->blk_bytes = (uint32_t)bb;
  for (size_t b = 0; b < h->nblk; b++) {
    uint8_t *blk = (uint8_t *)packed + 64 + b * bb;
    memset(blk, 0, bb);
    int32_t *bi = (int32_t *)blk;
    qk_sse41_rq4 *rq = (qk_sse41_rq4 *)(blk + 32);
    int16_t *wp = (int16_t *)(blk + 32 + 2 * sizeof(qk_sse41_rq4));
    for (int v = 0; v < 2; v++) {
      int32_t m[4], sh[4];
      for (int j = 0; j < 4; j++) {
        const size_t ch = b * NB + lane_channel(v, j);
        const bool valid = ch < O;
        uint32_t wsum = 0;
        for (size_t k = 0; k < ntaps; k++) {
          const int16_t wv = valid ? w[k * O + ch] : 0;
          wsum += (uint32_t)wv;
          wp[((k / 2) * 2 + (size_t)v) * 8 + 2 * (size_t)j + k % 2] = wv;
        }
        const uint32_t bv = valid && bias ? (uint32_t)bias[ch] : 0u;
        bi[v * 4 + j] = (int32_t)(bv - (uint32_t)d->input_zp * wsum);
        m[j] = valid ? d->multiplier[ch] : 0;
        sh[j] = valid ? d->shift[ch] : 0;
      }
      qk_sse41_rq4_init(&rq[v], m, sh, 4);
    }
  }
}

size_t QK_NAME(_workspace_size)(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g) {
  (void)g;
  const size_t zp = qk_round_up(d->out_ch, NB) + 64;
  const size_t taps = qk_round_up(d->k_h * d->k_w * sizeof(const int8_t *), 64);
  const size_t ex = d->depth_multiplier > 1 ? d->batch * d->in_h * d->in_w * d->out_ch : 0;
  return zp + taps + ex;
}

typedef struct run_ctx {
  size_t C, nblk, npairs, blk_bytes;
  const uint8_t *blocks;
  __m128i lo, hi;
  int32_t zp;
  qk_rounding mode;
} run_ctx;

/* 8 channels of one tap as int16; the channel tail is copied so nothing past x is read. */
QK_INLINE __m128i load8(const int8_t *p, size_t t) {
  if (t >= NB) return _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)(const void *)p));
  int8_t tmp[NB] = {0};
  memcpy(tmp, p, t);
  return _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)(const void *)tmp));
}

QK_INLINE __m128i requant(const run_ctx *c, __m128i acc, const qk_sse41_rq4 *rq) {
  const __m128i off = qk_sse41_rq4_offset(rq, c->mode, c->zp);
  if (c->mode == QK_ROUND_SINGLE)
    return rq->fast ? qk_sse41_requant_single_fast(acc, rq, off) : qk_sse41_requant_single(acc, rq, off);
  return rq->fast ? qk_sse41_requant_double_fast(acc, rq, off) : qk_sse41_requant_double(acc, rq, off);
}

/* All channel blocks of one output pixel from its tap pointers (channel 0 of each tap); nt is a
 * constant in the 3x3 copy, so the pair loop unrolls. */
QK_INLINE void pixel(const run_ctx *c, const size_t nt, const int8_t *const *tap, int8_t *y) {
  const size_t np = (nt + 1) / 2;
  for (size_t b = 0; b < c->nblk; b++) {
    const uint8_t *blk = c->blocks + b * c->blk_bytes;
    const qk_sse41_rq4 *rq = (const qk_sse41_rq4 *)(blk + 32);
    const __m128i *wp = (const __m128i *)(const void *)(blk + 32 + 2 * sizeof(qk_sse41_rq4));
    const size_t c0 = b * NB, t = c->C - c0 < NB ? c->C - c0 : NB;
    __m128i a0 = _mm_load_si128((const __m128i *)(const void *)blk);
    __m128i a1 = _mm_load_si128((const __m128i *)(const void *)(blk + 16));
#pragma GCC unroll 8
    for (size_t p = 0; p < np; p++) {
      const __m128i xa = load8(tap[2 * p] + c0, t);
      const __m128i xb = 2 * p + 1 < nt ? load8(tap[2 * p + 1] + c0, t) : xa; /* its weights are 0 */
      a0 = _mm_add_epi32(a0, _mm_madd_epi16(_mm_unpacklo_epi16(xa, xb), _mm_load_si128(wp + 2 * p)));
      a1 = _mm_add_epi32(a1, _mm_madd_epi16(_mm_unpackhi_epi16(xa, xb), _mm_load_si128(wp + 2 * p + 1)));
    }
    const __m128i s16 = _mm_packs_epi32(requant(c, a0, &rq[0]), requant(c, a1, &rq[1]));
    __m128i o = _mm_packs_epi16(s16, s16);
    o = _mm_min_epi8(_mm_max_epi8(o, c->lo), c->hi);
    if (t >= NB) {
      _mm_storel_epi64((__m128i *)(void *)(y + c0), o);
    } else {
      int8_t tmp[16];
      _mm_storeu_si128((__m128i *)(void *)tmp, o);
      memcpy(y + c0, tmp, t);
    }
  }
}

static void pixel9(const run_ctx *c, const int8_t *const *tap, int8_t *y) { pixel(c, 9, tap, y); }

void QK_NAME(_run)(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g, const void *packed, const int8_t *x,
                   int8_t *y, void *workspace) {
  const pk_head *h = packed;
  const size_t O = d->out_ch, M = d->depth_multiplier, KH = d->k_h, KW = d->k_w;
  int8_t *zprow = workspace;
  const size_t zlen = qk_round_up(O, NB) + 64;
  memset(zprow, d->input_zp, zlen);
  const int8_t **tap = (const int8_t **)(void *)(zprow + zlen);
  size_t C = d->in_ch;
  if (M > 1) { /* channel ic becomes channels ic M .. ic M + M - 1 */
    int8_t *xe = zprow + zlen + qk_round_up(KH * KW * sizeof(const int8_t *), 64);
    const size_t pixels = d->batch * d->in_h * d->in_w;
    for (size_t p = 0; p < pixels; p++)
      for (size_t ic = 0; ic < C; ic++) memset(xe + p * O + ic * M, x[p * C + ic], M);
    x = xe;
    C = O;
  }
  const run_ctx c = {
      .C = C, .nblk = h->nblk, .npairs = h->npairs, .blk_bytes = h->blk_bytes,
      .blocks = (const uint8_t *)packed + 64,
      .lo = _mm_set1_epi8((char)d->act_min), .hi = _mm_set1_epi8((char)d->act_max),
      .zp = d->output_zp, .mode = d->rounding,
  };
  const long H = (long)d->in_h, W = (long)d->in_w, pt = (long)g->pad_top, pl = (long)g->pad_left;
  const bool is3 = KH == 3 && KW == 3;
  for (size_t b = 0; b < d->batch; b++) {
    const int8_t *xb = x + b * d->in_h * d->in_w * C;
    for (size_t oy = 0; oy < g->out_h; oy++) {
      const long iy0 = (long)(oy * d->stride_h) - pt;
      for (size_t ox = 0; ox < g->out_w; ox++) {
        const long ix0 = (long)(ox * d->stride_w) - pl;
        for (size_t ky = 0; ky < KH; ky++) {
          const long iy = iy0 + (long)(ky * d->dilation_h);
          for (size_t kx = 0; kx < KW; kx++) {
            const long ix = ix0 + (long)(kx * d->dilation_w);
            const bool in = iy >= 0 && iy < H && ix >= 0 && ix < W;
            tap[ky * KW + kx] = in ? xb + ((size_t)iy * d->in_w + (size_t)ix) * C : zprow;
          }
        }
        int8_t *yp = y + ((b * g->out_h + oy) * g->out_w + ox) * O;
        if (is3) pixel9(&c, tap, yp);
        else pixel(&c, KH * KW, tap, yp);
      }
    }
  }
}
