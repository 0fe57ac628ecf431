/* int8 fully connected, SSE4.1: bit-exact with qk_ref_fc_int8 (SPEC.md §4).
 *
 * Tile: 6 rows x 8 output channels, K taken in pairs (c2). Per K pair, each row's two x values,
 * already int16 and stored twice, are broadcast by movddup (a plain load: SSE has no 32-bit
 * broadcast, and a pshufd per row and pair was the loop's most frequent instruction), and pmaddwd
 * multiplies them with 4 channels' weight pairs at once. Every accumulator lane is then one
 * output, so the epilogue needs no horizontal reduction; that matters for the MobileNet layers
 * with K = 16 or 24, where requantization is most of the work. 12 accumulators + 2 weight vectors
 * + 1 broadcast fit the 16 xmm registers.
 *
 * x is widened once per row tile into a stack buffer and reused by every channel panel. The
 * buffer also absorbs the K tail and the end of x, so the hot loop never does a partial load.
 * For K too long for the buffer, the rows are widened chunk by chunk inside each panel instead.
 * The epilogue takes requant.h's faster path when every shift in the panel is <= -1.
 *
 * Packed layout, one block per panel of 8 channels (the last panel has 4 when N mod 8 is 1..4):
 *   int32 bias[4 nv]         bias - input_zp * sum_k w, wrapping, so run() multiplies raw x
 *   qk_sse41_rq4 rq[nv]      requantization constants (requant.h)
 *   int8 w[kp][4 nv][2]      kp = round_up(K, 8) / 2 pairs, zero beyond K and beyond N
 * with nv = 2 (or 1) vectors of 4 channels. Every part is a multiple of 16 bytes. */
#include <pmmintrin.h>
#include <smmintrin.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "qk/fc.h"
#include "internal.h"
#include "variants.h"
#include "requant.h"

#define MR 6
/* 32 KiB of widened x (4 bytes per K): K up to 1360 for a full tile (8192 for batch 1) is widened
 * once. */
#define XBUF_ELEMS 8192

/* Bytes ahead in the packed weight stream: best of 256..4096 with weights cold. */
#define PREFETCH 2048

#define QK_INLINE static inline __attribute__((always_inline))

/* Accumulators are a plain GCC vector of uint32 (wrapping adds, as the reference). As __m128i,
 * each add goes through a cast to a 4 x int32 view, and GCC's PRE then carries both views across
 * the loop: twice the live registers, and 6 x 8 spilled. */
typedef uint32_t acc_v __attribute__((vector_size(16)));

static size_t kpairs(size_t k) { return qk_round_up(k, 8) / 2; }

static size_t panel_bytes(size_t nv, size_t kp) { return nv * (16 + sizeof(qk_sse41_rq4) + 8 * kp); }

size_t qk_int8_fc_6x8c2__sse41_packed_size(size_t n, size_t k) {
  const size_t kp = kpairs(k);
  const size_t rem = n % 8;
  size_t full, total;
  if (!qk_mul_size(n / 8, panel_bytes(2, kp), &full) ||
      !qk_add_size(full, rem == 0 ? 0 : panel_bytes(rem > 4 ? 2 : 1, kp), &total))
    return SIZE_MAX & ~(size_t)63; /* unallocatable, and rounding it up to 64 cannot wrap */
  return total;
}

void qk_int8_fc_6x8c2__sse41_pack(const qk_fc_int8_desc *d, const int8_t *w, const int32_t *bias,
                                  void *packed) {
  const size_t k = d->in_ch, n = d->out_ch, kp = kpairs(k);
  uint8_t *p = packed;
  for (size_t n0 = 0; n0 < n; n0 += 8) {
    const size_t nv = n - n0 > 4 ? 2 : 1, nc = 4 * nv;
    const size_t valid = n - n0 < nc ? n - n0 : nc;
    int32_t *pb = (int32_t *)(void *)p;
    qk_sse41_rq4 *rq = (qk_sse41_rq4 *)(void *)(p + 16 * nv);
    int8_t *pw = (int8_t *)(p + nv * (16 + sizeof(qk_sse41_rq4)));
    for (size_t c = 0; c < nc; c++) {
      uint32_t t = 0;
      if (c < valid) {
        const int8_t *row = w + (n0 + c) * k;
        uint32_t sum = 0;
        for (size_t i = 0; i < k; i++) sum += (uint32_t)(int32_t)row[i];
        t = (bias ? (uint32_t)bias[n0 + c] : 0u) - (uint32_t)d->input_zp * sum;
      }
      pb[c] = (int32_t)t;
    }
    for (size_t v = 0; v < nv; v++) {
      const size_t lo = 4 * v;
      qk_sse41_rq4_init(&rq[v], d->multiplier + n0 + lo, d->shift + n0 + lo,
                        valid > lo ? valid - lo : 0);
    }
    for (size_t j = 0; j < kp; j++)
      for (size_t c = 0; c < nc; c++)
        for (size_t h = 0; h < 2; h++) {
          const size_t kk = 2 * j + h;
          pw[(j * nc + c) * 2 + h] = c < valid && kk < k ? w[(n0 + c) * k + kk] : 0;
        }
    p += panel_bytes(nv, kp);
  }
}

/* n in [1, 7] bytes; never touches p[n]. */
static inline __m128i load_tail(const int8_t *p, size_t n) {
  uint64_t v = 0;
  size_t i = 0;
  if (n & 4) {
    uint32_t t;
    memcpy(&t, p, 4);
    v = t;
    i = 4;
  }
  if (n & 2) {
    uint16_t t;
    memcpy(&t, p + i, 2);
    v |= (uint64_t)t << (8 * i);
    i += 2;
  }
  if (n & 1) v |= (uint64_t)(uint8_t)p[i] << (8 * i);
  return _mm_cvtsi64_si128((long long)v);
}

/* Stores the low n bytes of v, n in [0, 15]. */
static inline void store_partial(int8_t *p, __m128i v, size_t n) {
  if (n & 8) {
    _mm_storel_epi64((__m128i *)(void *)p, v);
    v = _mm_unpackhi_epi64(v, v);
    p += 8;
  }
  if (n & 4) {
    const int32_t t = _mm_cvtsi128_si32(v);
    memcpy(p, &t, 4);
    v = _mm_srli_epi64(v, 32);
    p += 4;
  }
  if (n & 2) {
    const int16_t t = (int16_t)_mm_extract_epi16(v, 0);
    memcpy(p, &t, 2);
    v = _mm_srli_epi32(v, 16);
    p += 2;
  }
  if (n & 1) *p = (int8_t)_mm_extract_epi8(v, 0);
}

/* Widens rows [0, mr) of x (row stride ldx), columns [0, len), to int16 pairs, each pair stored
 * twice (8 bytes) so movddup broadcasts it with a plain load. Rows hold round_up(len, 8) / 2
 * pairs, zero past len so padded K pairs multiply zero weights by zero. */
static void widen_rows(int32_t *dst, size_t mr, const int8_t *x, size_t ldx, size_t len) {
  const size_t ld = qk_round_up(len, 8);
  for (size_t r = 0; r < mr; r++) {
    const int8_t *s = x + r * ldx;
    int32_t *o = dst + r * ld;
    for (size_t i = 0; i < len; i += 8) {
      const __m128i b = i + 8 <= len ? _mm_loadl_epi64((const __m128i *)(const void *)(s + i))
                                     : load_tail(s + i, len - i);
      const __m128i v = _mm_cvtepi8_epi16(b);
      _mm_store_si128((__m128i *)(void *)(o + i), _mm_unpacklo_epi32(v, v));
      _mm_store_si128((__m128i *)(void *)(o + i + 4), _mm_unpackhi_epi32(v, v));
    }
  }
}

/* Requantized rows r and r1 of one panel to int8, stored (two: r1 != r). Saturating packs keep
 * order and the clamp range lies inside int8, so clamping after them equals the reference's
 * clamp-then-narrow. */
QK_INLINE void store_rows(const size_t nv, acc_v a0, acc_v a1, acc_v b0, acc_v b1, bool two, int8_t *y0,
                          int8_t *y1, size_t valid, __m128i lo, __m128i hi) {
  __m128i v;
  if (nv == 2)
    v = _mm_packs_epi16(_mm_packs_epi32((__m128i)a0, (__m128i)a1), _mm_packs_epi32((__m128i)b0, (__m128i)b1));
  else {
    const __m128i t = _mm_packs_epi32((__m128i)a0, (__m128i)b0);
    v = _mm_packs_epi16(t, t);
  }
  v = _mm_min_epi8(_mm_max_epi8(v, lo), hi);
  /* nv == 2: row r in bytes 0-7, row r1 in 8-15; nv == 1: row r in 0-3, row r1 in 4-7. */
  const __m128i v1 = nv == 2 ? _mm_unpackhi_epi64(v, v) : _mm_srli_epi64(v, 32);
  if (valid == 4 * nv) {
    if (nv == 2) {
      _mm_storel_epi64((__m128i *)(void *)y0, v);
      if (two) _mm_storel_epi64((__m128i *)(void *)y1, v1);
    } else {
      const int32_t t0 = _mm_cvtsi128_si32(v), t1 = _mm_cvtsi128_si32(v1);
      memcpy(y0, &t0, 4);
      if (two) memcpy(y1, &t1, 4);
    }
  } else {
    store_partial(y0, v, valid);
    if (two) store_partial(y1, v1, valid);
  }
}

/* One panel (4 nv channels starting at column 0 of y) for rows [0, mr). The accumulators are
 * named variables, not an array: GCC keeps those in registers, an array it spills. */
QK_INLINE void panel(const size_t mr, const size_t nv, const bool single, const qk_fc_int8_desc *d,
                     const uint8_t *p, const int8_t *x, int32_t *xb, size_t kc, int8_t *y,
                     size_t valid) {
  const size_t k = d->in_ch, n = d->out_ch;
  const int32_t *pb = (const int32_t *)(const void *)p;
  const qk_sse41_rq4 *rq = (const qk_sse41_rq4 *)(const void *)(p + 16 * nv);
  const int8_t *w = (const int8_t *)(p + nv * (16 + sizeof(qk_sse41_rq4)));

  const __m128i b0 = _mm_load_si128((const __m128i *)(const void *)pb);
  const __m128i b1 = nv == 2 ? _mm_load_si128((const __m128i *)(const void *)(pb + 4)) : b0;
  acc_v c00 = (acc_v)b0, c01 = (acc_v)b1, c10 = (acc_v)b0, c11 = (acc_v)b1, c20 = (acc_v)b0;
  acc_v c21 = (acc_v)b1, c30 = (acc_v)b0, c31 = (acc_v)b1, c40 = (acc_v)b0, c41 = (acc_v)b1;
  acc_v c50 = (acc_v)b0, c51 = (acc_v)b1;
  const bool whole = k <= kc;
  for (size_t k0 = 0;;) {
    const size_t len = whole ? k : (k - k0 < kc ? k - k0 : kc);
    if (!whole) widen_rows(xb, mr, x + k0, k, len);
    const size_t ld = qk_round_up(len, 8);
    const int32_t *x0 = xb, *x1 = x0 + ld, *x2 = x1 + ld, *x3 = x2 + ld, *x4 = x3 + ld, *x5 = x4 + ld;
    for (size_t j = 0; j < ld; j += 2) {
      const __m128i w0 = _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)(const void *)w));
      const __m128i w1 =
          nv == 2 ? _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)(const void *)(w + 8))) : w0;
      /* Batch 1 streams the weights once: the hardware prefetcher alone leaves DRAM latency
       * exposed (measured 20-30% slower with cold weights). */
      _mm_prefetch((const char *)w + PREFETCH, _MM_HINT_T0);
      w += 8 * nv;
#define QK_ROW(r)                                                                \
  if (mr > r) {                                                                  \
    const double *px = (const double *)(const void *)(x##r + j);                 \
    const __m128i xv = _mm_castpd_si128(_mm_loaddup_pd(px));                     \
    c##r##0 += (acc_v)_mm_madd_epi16(xv, w0);                                    \
    if (nv == 2) c##r##1 += (acc_v)_mm_madd_epi16(xv, w1);                       \
  }
      QK_ROW(0) QK_ROW(1) QK_ROW(2) QK_ROW(3) QK_ROW(4) QK_ROW(5)
#undef QK_ROW
    }
    if (whole) break;
    k0 += kc;
    if (k0 >= k) break;
  }

  const qk_rounding mode = single ? QK_ROUND_SINGLE : QK_ROUND_DOUBLE;
  const __m128i o0 = qk_sse41_rq4_offset(&rq[0], mode, d->output_zp);
  const __m128i o1 = nv == 2 ? qk_sse41_rq4_offset(&rq[1], mode, d->output_zp) : o0;
#define QK_RQ(c, v, f)                                                           \
  c = (acc_v)(single ? qk_sse41_requant_single##f((__m128i)c, &rq[v], o##v)     \
                     : qk_sse41_requant_double##f((__m128i)c, &rq[v], o##v))
#define QK_RQ_ROW(r, f)                \
  if (mr > r) {                        \
    QK_RQ(c##r##0, 0, f);              \
    if (nv == 2) QK_RQ(c##r##1, 1, f); \
  }
  if (rq[0].fast && (nv == 1 || rq[1].fast)) {
    QK_RQ_ROW(0, _fast) QK_RQ_ROW(1, _fast) QK_RQ_ROW(2, _fast)
    QK_RQ_ROW(3, _fast) QK_RQ_ROW(4, _fast) QK_RQ_ROW(5, _fast)
  } else {
    QK_RQ_ROW(0, ) QK_RQ_ROW(1, ) QK_RQ_ROW(2, ) QK_RQ_ROW(3, ) QK_RQ_ROW(4, ) QK_RQ_ROW(5, )
  }
#undef QK_RQ_ROW
#undef QK_RQ

  const __m128i lo = _mm_set1_epi8((char)d->act_min), hi = _mm_set1_epi8((char)d->act_max);
  store_rows(nv, c00, c01, c10, c11, mr > 1, y, y + n, valid, lo, hi);
  if (mr > 2) store_rows(nv, c20, c21, c30, c31, mr > 3, y + 2 * n, y + 3 * n, valid, lo, hi);
  if (mr > 4) store_rows(nv, c40, c41, c50, c51, mr > 5, y + 4 * n, y + 5 * n, valid, lo, hi);
}

/* All panels for one tile of mr rows; mr and the rounding mode are constants in each copy. */
QK_INLINE void tile(const size_t mr, const bool single, const qk_fc_int8_desc *d, const uint8_t *p,
                    const int8_t *x, int32_t *xb, size_t kc, int8_t *y) {
  const size_t n = d->out_ch, kp = kpairs(d->in_ch);
  size_t n0 = 0;
  for (; n0 + 8 <= n; n0 += 8) {
    panel(mr, 2, single, d, p, x, xb, kc, y + n0, 8);
    p += panel_bytes(2, kp);
  }
  if (n0 < n) {
    if (n - n0 > 4) panel(mr, 2, single, d, p, x, xb, kc, y + n0, n - n0);
    else panel(mr, 1, single, d, p, x, xb, kc, y + n0, n - n0);
  }
}

typedef void (*tile_fn)(const qk_fc_int8_desc *, const uint8_t *, const int8_t *, int32_t *, size_t,
                        int8_t *);
#define TILE_FN(m, s)                                                                             \
  static void tile_##m##_##s(const qk_fc_int8_desc *d, const uint8_t *p, const int8_t *x,        \
                             int32_t *xb, size_t kc, int8_t *y) {                                \
    tile(m, s, d, p, x, xb, kc, y);                                                              \
  }
TILE_FN(1, 0) TILE_FN(2, 0) TILE_FN(3, 0) TILE_FN(4, 0) TILE_FN(5, 0) TILE_FN(6, 0)
TILE_FN(1, 1) TILE_FN(2, 1) TILE_FN(3, 1) TILE_FN(4, 1) TILE_FN(5, 1) TILE_FN(6, 1)
static const tile_fn tiles[2][MR] = {
    {tile_1_0, tile_2_0, tile_3_0, tile_4_0, tile_5_0, tile_6_0},
    {tile_1_1, tile_2_1, tile_3_1, tile_4_1, tile_5_1, tile_6_1},
};

void qk_int8_fc_6x8c2__sse41_run(const qk_fc_int8_desc *d, const void *packed, size_t batch,
                                 const int8_t *x, int8_t *y) {
  _Alignas(64) int32_t xb[XBUF_ELEMS];
  const size_t k = d->in_ch, n = d->out_ch;
  const tile_fn *fns = tiles[d->rounding == QK_ROUND_SINGLE];
  for (size_t m0 = 0; m0 < batch; m0 += MR) {
    const size_t mr = batch - m0 < MR ? batch - m0 : MR;
    const size_t kc = XBUF_ELEMS / mr & ~(size_t)7;
    const int8_t *xr = x + m0 * k;
    if (k <= kc) widen_rows(xb, mr, xr, k, k);
    fns[mr - 1](d, packed, xr, xb, kc, y + m0 * n);
  }
}
