/* int8 fully connected, AVX2: bit-exact with qk_ref_fc_int8 (SPEC.md §4).
 *
 * Tile: 6 rows x 16 output channels, K taken in pairs (c2). Per K pair, each row's two x values
 * are broadcast as one int16 pair (vpbroadcastd from memory: a load, no shuffle) and vpmaddwd
 * multiplies them with 8 channels' weight pairs at once. Every accumulator lane is then one
 * output, so the epilogue needs no horizontal reduction; that matters for the MobileNet layers
 * with K = 16 or 24, where requantization is most of the work. 12 accumulators + 2 weight vectors
 * + 1 broadcast fit the 16 ymm registers.
 *
 * x is widened to int16 once per row tile into a stack buffer and reused by every channel panel.
 * The buffer also absorbs the K tail and the end of x, so the hot loop never does a partial load.
 * For K too long for the buffer, the rows are widened chunk by chunk inside each panel instead.
 *
 * Packed layout, one block per panel of 16 channels (the last panel has 8 when N mod 16 is 1..8):
 *   int32 bias[8 nv]         bias - input_zp * sum_k w, wrapping, so run() multiplies raw x
 *   qk_avx2_rq8 rq[nv]       requantization constants (requant.h)
 *   int8 w[kp][8 nv][2]      kp = round_up(K, 8) / 2 pairs, zero beyond K and beyond N
 * with nv = 2 (or 1) vectors of 8 channels. Every part is a multiple of 32 bytes. */
#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "qk/fc.h"
#include "internal.h"
#include "variants.h"
#include "requant.h"

#define MR 6
/* 24 KiB of widened x: K up to 2048 for a full tile (and 12288 for batch 1) is widened once. */
#define XBUF_ELEMS 12288

/* Bytes ahead in the packed weight stream: best of 256..4096 with weights cold. */
#define PREFETCH 2048

#define QK_INLINE static inline __attribute__((always_inline))

static size_t kpairs(size_t k) { return qk_round_up(k, 8) / 2; }

static size_t panel_bytes(size_t nv, size_t kp) { return nv * (32 + sizeof(qk_avx2_rq8) + 16 * kp); }

size_t qk_int8_fc_6x16c2__avx2_packed_size(size_t n, size_t k) {
  const size_t kp = kpairs(k);
  const size_t rem = n % 16;
  size_t full, total;
  if (!qk_mul_size(n / 16, panel_bytes(2, kp), &full) ||
      !qk_add_size(full, rem == 0 ? 0 : panel_bytes(rem > 8 ? 2 : 1, kp), &total))
    return SIZE_MAX & ~(size_t)63; /* unallocatable, and rounding it up to 64 cannot wrap */
  return total;
}

void qk_int8_fc_6x16c2__avx2_pack(const qk_fc_int8_desc *d, const int8_t *w, const int32_t *bias,
                                  void *packed) {
  const size_t k = d->in_ch, n = d->out_ch, kp = kpairs(k);
  uint8_t *p = packed;
  for (size_t n0 = 0; n0 < n; n0 += 16) {
    const size_t nv = n - n0 > 8 ? 2 : 1, nc = 8 * nv;
    const size_t valid = n - n0 < nc ? n - n0 : nc;
    int32_t *pb = (int32_t *)(void *)p;
    qk_avx2_rq8 *rq = (qk_avx2_rq8 *)(void *)(p + 32 * nv);
    int8_t *pw = (int8_t *)(p + nv * (32 + sizeof(qk_avx2_rq8)));
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
      const size_t lo = 8 * v;
      qk_avx2_rq8_init(&rq[v], d->multiplier + n0 + lo, d->shift + n0 + lo,
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

/* Stores the low n bytes of v, n in [0, 16]. */
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

/* Widens rows [0, mr) of x (row stride ldx), columns [0, len), to int16 rows of stride
 * round_up(len, 8), zero-filled past len so padded K pairs multiply zero weights by zero. */
static void widen_rows(int16_t *dst, size_t mr, const int8_t *x, size_t ldx, size_t len) {
  const size_t ld = qk_round_up(len, 8);
  for (size_t r = 0; r < mr; r++) {
    const int8_t *s = x + r * ldx;
    int16_t *o = dst + r * ld;
    size_t i = 0;
    for (; i + 16 <= len; i += 16)
      _mm256_storeu_si256((__m256i *)(void *)(o + i),
                         _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(s + i))));
    if (i + 8 <= len) {
      _mm_storeu_si128((__m128i *)(void *)(o + i),
                      _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)(const void *)(s + i))));
      i += 8;
    }
    if (i < len) _mm_storeu_si128((__m128i *)(void *)(o + i), _mm_cvtepi8_epi16(load_tail(s + i, len - i)));
  }
}

/* Requantized rows r and r1 (r1 == r when mr is odd) of one panel to int8, stored. Saturating
 * packs keep order and the clamp range lies inside int8, so clamping after them equals the
 * reference's clamp-then-narrow. The permute undoes the packs' 128-bit lane interleave. */
QK_INLINE void store_rows(const size_t nv, __m256i a0, __m256i a1, __m256i b0, __m256i b1, bool two,
                          int8_t *y0, int8_t *y1, size_t valid, __m256i lo, __m256i hi) {
  __m256i v;
  if (nv == 2) v = _mm256_packs_epi16(_mm256_packs_epi32(a0, a1), _mm256_packs_epi32(b0, b1));
  else {
    const __m256i t = _mm256_packs_epi32(a0, b0);
    v = _mm256_packs_epi16(t, t);
  }
  v = _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  v = _mm256_min_epi8(_mm256_max_epi8(v, lo), hi);
  /* nv == 2: row r in bytes 0-15, row r1 in 16-31; nv == 1: row r in 0-7, row r1 in 8-15. */
  const __m128i v0 = _mm256_castsi256_si128(v);
  const __m128i v1 = nv == 2 ? _mm256_extracti128_si256(v, 1) : _mm_unpackhi_epi64(v0, v0);
  if (valid == 16) {
    _mm_storeu_si128((__m128i *)(void *)y0, v0);
    if (two) _mm_storeu_si128((__m128i *)(void *)y1, v1);
  } else if (valid == 8) {
    _mm_storel_epi64((__m128i *)(void *)y0, v0);
    if (two) _mm_storel_epi64((__m128i *)(void *)y1, v1);
  } else {
    store_partial(y0, v0, valid);
    if (two) store_partial(y1, v1, valid);
  }
}

/* One panel (8 nv channels starting at column 0 of y) for rows [0, mr). The accumulators are
 * named variables, not an array: GCC keeps those in registers, an array it spills. */
QK_INLINE void panel(const size_t mr, const size_t nv, const bool single, const qk_fc_int8_desc *d,
                     const uint8_t *p, const int8_t *x, int16_t *xb, size_t kc, int8_t *y,
                     size_t valid) {
  const size_t k = d->in_ch, n = d->out_ch;
  const int32_t *pb = (const int32_t *)(const void *)p;
  const qk_avx2_rq8 *rq = (const qk_avx2_rq8 *)(const void *)(p + 32 * nv);
  const int8_t *w = (const int8_t *)(p + nv * (32 + sizeof(qk_avx2_rq8)));

  const __m256i b0 = _mm256_load_si256((const __m256i *)(const void *)pb);
  const __m256i b1 = nv == 2 ? _mm256_load_si256((const __m256i *)(const void *)(pb + 8)) : b0;
  __m256i c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1;
  __m256i c30 = b0, c31 = b1, c40 = b0, c41 = b1, c50 = b0, c51 = b1;
  const bool whole = k <= kc;
  for (size_t k0 = 0;;) {
    const size_t len = whole ? k : (k - k0 < kc ? k - k0 : kc);
    if (!whole) widen_rows(xb, mr, x + k0, k, len);
    const size_t ld = qk_round_up(len, 8), kp = ld / 2;
    const int16_t *x0 = xb, *x1 = x0 + ld, *x2 = x1 + ld, *x3 = x2 + ld, *x4 = x3 + ld, *x5 = x4 + ld;
    for (size_t j = 0; j < kp; j++) {
      const __m256i w0 = _mm256_cvtepi8_epi16(_mm_load_si128((const __m128i *)(const void *)w));
      const __m256i w1 =
          nv == 2 ? _mm256_cvtepi8_epi16(_mm_load_si128((const __m128i *)(const void *)(w + 16))) : w0;
      /* Batch 1 streams the weights once: the hardware prefetcher alone leaves DRAM latency
       * exposed (measured 20-30% slower with cold weights). */
      _mm_prefetch((const char *)w + PREFETCH, _MM_HINT_T0);
      w += 16 * nv;
#define QK_ROW(r)                                                              \
  if (mr > r) {                                                                \
    int32_t pair;                                                              \
    memcpy(&pair, x##r + 2 * j, 4);                                            \
    const __m256i xv = _mm256_set1_epi32(pair);                                \
    c##r##0 = _mm256_add_epi32(c##r##0, _mm256_madd_epi16(xv, w0));            \
    if (nv == 2) c##r##1 = _mm256_add_epi32(c##r##1, _mm256_madd_epi16(xv, w1)); \
  }
      QK_ROW(0) QK_ROW(1) QK_ROW(2) QK_ROW(3) QK_ROW(4) QK_ROW(5)
#undef QK_ROW
    }
    if (whole) break;
    k0 += kc;
    if (k0 >= k) break;
  }

  const qk_rounding mode = single ? QK_ROUND_SINGLE : QK_ROUND_DOUBLE;
  const __m256i o0 = qk_avx2_rq8_offset(&rq[0], mode, d->output_zp);
  const __m256i o1 = nv == 2 ? qk_avx2_rq8_offset(&rq[1], mode, d->output_zp) : o0;
#define QK_RQ(c, v) \
  c = single ? qk_avx2_requant_single(c, &rq[v], o##v) : qk_avx2_requant_double(c, &rq[v], o##v)
#define QK_RQ_ROW(r) \
  if (mr > r) {      \
    QK_RQ(c##r##0, 0); \
    if (nv == 2) QK_RQ(c##r##1, 1); \
  }
  QK_RQ_ROW(0) QK_RQ_ROW(1) QK_RQ_ROW(2) QK_RQ_ROW(3) QK_RQ_ROW(4) QK_RQ_ROW(5)
#undef QK_RQ_ROW
#undef QK_RQ

  const __m256i lo = _mm256_set1_epi8((char)d->act_min), hi = _mm256_set1_epi8((char)d->act_max);
  store_rows(nv, c00, c01, c10, c11, mr > 1, y, y + n, valid, lo, hi);
  if (mr > 2) store_rows(nv, c20, c21, c30, c31, mr > 3, y + 2 * n, y + 3 * n, valid, lo, hi);
  if (mr > 4) store_rows(nv, c40, c41, c50, c51, mr > 5, y + 4 * n, y + 5 * n, valid, lo, hi);
}

/* All panels for one tile of mr rows; mr and the rounding mode are constants in each copy. */
QK_INLINE void tile(const size_t mr, const bool single, const qk_fc_int8_desc *d, const uint8_t *p,
                    const int8_t *x, int16_t *xb, size_t kc, int8_t *y) {
  const size_t n = d->out_ch, kp = kpairs(d->in_ch);
  size_t n0 = 0;
  for (; n0 + 16 <= n; n0 += 16) {
    panel(mr, 2, single, d, p, x, xb, kc, y + n0, 16);
    p += panel_bytes(2, kp);
  }
  if (n0 < n) {
    if (n - n0 > 8) panel(mr, 2, single, d, p, x, xb, kc, y + n0, n - n0);
    else panel(mr, 1, single, d, p, x, xb, kc, y + n0, n - n0);
  }
}

typedef void (*tile_fn)(const qk_fc_int8_desc *, const uint8_t *, const int8_t *, int16_t *, size_t,
                        int8_t *);
#define TILE_FN(m, s)                                                                             \
  static void tile_##m##_##s(const qk_fc_int8_desc *d, const uint8_t *p, const int8_t *x,        \
                             int16_t *xb, size_t kc, int8_t *y) {                                \
    tile(m, s, d, p, x, xb, kc, y);                                                              \
  }
TILE_FN(1, 0) TILE_FN(2, 0) TILE_FN(3, 0) TILE_FN(4, 0) TILE_FN(5, 0) TILE_FN(6, 0)
TILE_FN(1, 1) TILE_FN(2, 1) TILE_FN(3, 1) TILE_FN(4, 1) TILE_FN(5, 1) TILE_FN(6, 1)
static const tile_fn tiles[2][MR] = {
    {tile_1_0, tile_2_0, tile_3_0, tile_4_0, tile_5_0, tile_6_0},
    {tile_1_1, tile_2_1, tile_3_1, tile_4_1, tile_5_1, tile_6_1},
};

void qk_int8_fc_6x16c2__avx2_run(const qk_fc_int8_desc *d, const void *packed, size_t batch,
                                 const int8_t *x, int8_t *y) {
  _Alignas(64) int16_t xb[XBUF_ELEMS];
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
