/* 16x8 fully connected on ymm registers, the body shared by qk_i16x8_fc_6x16c2__avx2 (vpmaddwd
 * + vpaddd) and qk_i16x8_fc_6x16c2__avxvnni (VEX vpdpwssd): the two differ only in the
 * multiply-accumulate, so the including file defines, before including this once:
 *   QK_NAME(suffix)  the variant's function names;
 *   acc_v            the accumulator type, a GCC vector of 8 x 32-bit in the view of the
 *                    instruction (kept as __m256i, each update casts between views and GCC's PRE
 *                    carries both across the loop, spilling the tile);
 *   dot(acc, b, w)   acc + b.pairs x w.pairs per int32 lane, wrapping.
 * Bit-exact with qk_ref_fc_i16x8 (SPEC.md §4, §1.5). The arithmetic and the int32 -> int64 flush
 * bound are in i16x8_fc_common.h: negated int16 weights, int32 partials over at most
 * QK_I16X8_FLUSH_PAIRS = 256 pairs (512 K), each folded into int64 by vpmuldq with -rm onto a
 * start value bias * rm + 2^(t-1) + 2^62; AVX2 has no vpsraq, so the shift is logical and the
 * low dword is corrected by qk_i16x8_shift_fix(t).
 *
 * Tile: 6 rows x 16 channels (2 ymm), K by pairs: per pair, each row's two x values are one
 * vpbroadcastd from x itself (no conversion pass), multiplied against 8 channels' weight pairs.
 * 12 accumulators + 2 weight vectors + 1 broadcast (+ 1 product for vpmaddwd) fit 16 ymm. A
 * one-vector block (the N tail of 1..8 channels) takes 12 rows at a time instead. For odd K the
 * last pair is one int16 widened with a zero, so nothing past a row is read.
 *
 * Packed layout, one block per 16 channels (nv = 2 vectors of 8; the last block has nv = 1 when
 * N mod 16 is 1..8): [rq8 x nv | int16 weights: kp pairs x nv x 8 channels x 2], kp = ceil(K/2),
 * lane l of vector j = channel 8 j + l, zero padded in K and N. Every part is 32-byte aligned. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "qk/i16x8.h"
#include "internal.h"
#include "variants.h"
#include "i16x8_fc_common.h"

enum { MR = 6, NR = 16, MP = 12 };

#define QK_INLINE static inline __attribute__((always_inline))

/* Requantization constants of 8 channels; qword i of the even (odd) rows is channel 2i (2i+1). */
typedef struct rq8 {
  _Alignas(32) int64_t ie[4], io[4]; /* bias * rm + 2^(t-1) + 2^62 */
  int32_t me[8], mo[8];              /* -rm in the low dword of each qword */
  int64_t te[4], to[4];              /* t = 15 - shift */
  int32_t fix[8];                    /* qk_i16x8_shift_fix(t), channel order */
} rq8;

static size_t kpairs(size_t k) { return (k + 1) / 2; }
static size_t block_bytes(size_t nv, size_t k) { return nv * (sizeof(rq8) + 32 * kpairs(k)); }
static size_t last_nv(size_t n) { return n - (n - 1) / NR * NR > 8 ? 2 : 1; }

size_t QK_NAME(_packed_size)(size_t n, size_t k) {
  size_t full, total;
  if (!qk_mul_size((n - 1) / NR, block_bytes(2, k), &full) || !qk_add_size(full, block_bytes(last_nv(n), k), &total))
    return SIZE_MAX & ~(size_t)63; /* unallocatable, and rounding it up to 64 cannot wrap */
  return total;
}

void QK_NAME(_pack)(const qk_fc_i16x8_desc *d, const int8_t *w, const int64_t *bias, void *packed) {
  const size_t N = d->out_ch, K = d->in_ch, kp = kpairs(K);
  uint8_t *blk = packed;
  for (size_t n0 = 0; n0 < N; n0 += NR) {
    const size_t nv = N - n0 >= NR ? 2 : last_nv(N);
    rq8 *rq = (rq8 *)(void *)blk;
    int16_t *wp = (int16_t *)(void *)(blk + nv * sizeof(rq8));
    for (size_t j = 0; j < nv; j++) {
      memset(&rq[j], 0, sizeof rq[j]);
      for (size_t l = 0; l < 8; l++) {
        const size_t o = n0 + 8 * j + l, q = l / 2;
        const bool in = o < N;
        const qk_i16x8_chan c = qk_i16x8_chan_make(in ? d->multiplier[o] : 0, in ? d->shift[o] : 0,
                                                   in && bias ? bias[o] : 0, QK_I16X8_SHIFT_BIAS);
        (l & 1 ? rq[j].io : rq[j].ie)[q] = c.init;
        (l & 1 ? rq[j].mo : rq[j].me)[2 * q] = c.neg_rm;
        (l & 1 ? rq[j].to : rq[j].te)[q] = c.t;
        rq[j].fix[l] = qk_i16x8_shift_fix(c.t);
        for (size_t p = 0; p < kp; p++)
          for (size_t h = 0; h < 2; h++) {
            const size_t k = 2 * p + h;
            wp[((p * nv + j) * 8 + l) * 2 + h] = (int16_t)(in && k < K ? -w[o * K + k] : 0);
          }
      }
    }
    blk += block_bytes(nv, K);
  }
}

typedef struct tile_args {
  const int16_t *x; /* row 0 of the tile; rows are K apart */
  size_t k;
  const __m256i *w; /* kp pairs x nv vectors */
  const rq8 *rq;
  int16_t *y;
  size_t ldy, valid; /* output row stride; channels of the block to store */
  __m256i lo, hi;    /* clamp, as int16 */
  int64_t (*part)[2][2][4]; /* int64 partials between chunks (K > 512): [row][vector][even, odd] */
} tile_args;

QK_INLINE __m256i bcast_pair(const int16_t *p) {
  int32_t v;
  memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

/* Stores the low n int16 of v, n in [1, 16], never past y[n - 1]. */
QK_INLINE void store_i16(int16_t *y, __m256i v, size_t n) {
  if (n == 16) {
    _mm256_storeu_si256((__m256i *)(void *)y, v);
    return;
  }
  __m128i h = _mm256_castsi256_si128(v);
  if (n & 8) {
    _mm_storeu_si128((__m128i *)(void *)y, h);
    h = _mm256_extracti128_si256(v, 1);
    y += 8;
  }
  if (n & 4) {
    _mm_storel_epi64((__m128i *)(void *)y, h);
    h = _mm_unpackhi_epi64(h, h);
    y += 4;
  }
  if (n & 2) {
    const int32_t t = _mm_cvtsi128_si32(h);
    memcpy(y, &t, 4);
    h = _mm_srli_epi64(h, 32);
    y += 2;
  }
  if (n & 1) *y = (int16_t)_mm_cvtsi128_si32(h);
}

/* Clamps and stores one row of int32 results. vpackssdw saturates to int16, which commutes with a
 * clamp inside the int16 range; vpermq undoes its per-128-bit-lane interleave. */
QK_INLINE void store_row(const size_t nv, const tile_args *t, const acc_v *v, int16_t *y) {
  __m256i p = _mm256_packs_epi32((__m256i)v[0], (__m256i)v[nv - 1]);
  p = _mm256_permute4x64_epi64(p, 0xD8);
  p = _mm256_min_epi16(_mm256_max_epi16(p, t->lo), t->hi);
  store_i16(y, p, t->valid);
}

/* mr rows x nv vectors of one block over all of K, then requantized and stored. */
QK_INLINE void tile(const size_t mr, const size_t nv, const tile_args *t) {
  const size_t K = t->k, kp = kpairs(K), full = K / 2;
  int64_t(*part)[2][2][4] = t->part;
  /* Rows of accumulators to zero: a single row also uses acc[1..3] (below). */
  const size_t zr = mr == 1 ? 4 : mr;
  for (size_t c0 = 0;; c0 += QK_I16X8_FLUSH_PAIRS) {
    /* This chunk: pairs [c0, c1), at most QK_I16X8_FLUSH_PAIRS of them (the flush bound). */
    const size_t c1 = kp - c0 < QK_I16X8_FLUSH_PAIRS ? kp : c0 + QK_I16X8_FLUSH_PAIRS;
    const size_t cf = c1 < full ? c1 : full; /* whole pairs of this chunk end here */
    /* Declared per chunk: live across the chunk loop, GCC spills the accumulators. */
    acc_v acc[MP][2];
#pragma GCC unroll 12
    for (size_t r = 0; r < zr; r++)
#pragma GCC unroll 2
      for (size_t j = 0; j < nv; j++) acc[r][j] = (acc_v){0};
    const __m256i *w = t->w + c0 * nv;
    const int16_t *x = t->x + 2 * c0;
    size_t p = c0;
    if (mr == 1) {
      /* One row has only nv dependency chains: 4 sets of pairs (acc[1..3] are free) cover the
       * multiply-add latency; their int32 sum is the chunk's sum, exact as it fits. */
      for (; p + 4 <= cf; p += 4, w += 4 * nv, x += 8)
#pragma GCC unroll 4
        for (size_t s = 0; s < 4; s++) {
          const __m256i b = bcast_pair(x + 2 * s);
#pragma GCC unroll 2
          for (size_t j = 0; j < nv; j++) acc[s][j] = dot(acc[s][j], b, _mm256_load_si256(w + s * nv + j));
        }
#pragma GCC unroll 2
      for (size_t j = 0; j < nv; j++)
        acc[0][j] = (acc_v)_mm256_add_epi32(_mm256_add_epi32((__m256i)acc[0][j], (__m256i)acc[1][j]),
                                            _mm256_add_epi32((__m256i)acc[2][j], (__m256i)acc[3][j]));
    }
    for (; p < cf; p++, w += nv, x += 2) {
      __m256i wv[2];
#pragma GCC unroll 2
      for (size_t j = 0; j < nv; j++) wv[j] = _mm256_load_si256(w + j);
#pragma GCC unroll 12
      for (size_t r = 0; r < mr; r++) {
        const __m256i b = bcast_pair(x + r * K);
#pragma GCC unroll 2
        for (size_t j = 0; j < nv; j++) acc[r][j] = dot(acc[r][j], b, wv[j]);
      }
    }
    if (p < c1) { /* odd K: the last pair is (x[K-1], 0) */
#pragma GCC unroll 12
      for (size_t r = 0; r < mr; r++) {
        const __m256i b = _mm256_set1_epi32((int32_t)(uint16_t)x[r * K]);
#pragma GCC unroll 2
        for (size_t j = 0; j < nv; j++) acc[r][j] = dot(acc[r][j], b, _mm256_load_si256(w + j));
      }
    }
    /* Flush: int64 += (-S) * (-rm), even and odd channels apart; after the last chunk, shift. */
    const bool first = c0 == 0, last = c1 == kp;
#pragma GCC unroll 12
    for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 2
      for (size_t j = 0; j < nv; j++) {
        const rq8 *q = &t->rq[j];
        const __m256i a = (__m256i)acc[r][j];
        const __m256i se = _mm256_load_si256((const __m256i *)(const void *)(first ? q->ie : part[r][j][0]));
        const __m256i so = _mm256_load_si256((const __m256i *)(const void *)(first ? q->io : part[r][j][1]));
        const __m256i pe =
            _mm256_add_epi64(se, _mm256_mul_epi32(a, _mm256_load_si256((const __m256i *)(const void *)q->me)));
        const __m256i po = _mm256_add_epi64(
            so, _mm256_mul_epi32(_mm256_srli_epi64(a, 32), _mm256_load_si256((const __m256i *)(const void *)q->mo)));
        if (last) {
          const __m256i re = _mm256_srlv_epi64(pe, _mm256_load_si256((const __m256i *)(const void *)q->te));
          const __m256i ro = _mm256_srlv_epi64(po, _mm256_load_si256((const __m256i *)(const void *)q->to));
          const __m256i v = _mm256_blend_epi32(re, _mm256_slli_epi64(ro, 32), 0xAA);
          acc[r][j] = (acc_v)_mm256_add_epi32(v, _mm256_load_si256((const __m256i *)(const void *)q->fix));
        } else {
          _mm256_store_si256((__m256i *)(void *)part[r][j][0], pe);
          _mm256_store_si256((__m256i *)(void *)part[r][j][1], po);
        }
      }
    if (last) {
#pragma GCC unroll 12
      for (size_t r = 0; r < mr; r++) store_row(nv, t, acc[r], t->y + r * t->ldy);
      return;
    }
  }
}

typedef void (*tile_fn)(const tile_args *);
#define QK_TILE(mr, nv) \
  static void tile_##mr##x##nv(const tile_args *t) { tile(mr, nv, t); }
#define QK_TILES(mr) QK_TILE(mr, 1) QK_TILE(mr, 2)
QK_TILES(1)
QK_TILES(2)
QK_TILES(3)
QK_TILES(4)
QK_TILES(5)
QK_TILES(6)
QK_TILE(12, 1)
#undef QK_TILES
#undef QK_TILE
static const tile_fn tiles[MR + 1][2] = {{NULL, NULL},         {tile_1x1, tile_1x2}, {tile_2x1, tile_2x2},
                                         {tile_3x1, tile_3x2}, {tile_4x1, tile_4x2}, {tile_5x1, tile_5x2},
                                         {tile_6x1, tile_6x2}};

void QK_NAME(_run)(const qk_fc_i16x8_desc *d, const void *packed, size_t batch, const int16_t *x, int16_t *y) {
  const size_t K = d->in_ch, N = d->out_ch;
  _Alignas(32) int64_t part[MP][2][2][4];
  tile_args t = {.k = K, .ldy = N, .lo = _mm256_set1_epi16((short)d->act_min), .hi = _mm256_set1_epi16((short)d->act_max),
                 .part = part};
  for (size_t m = 0; m < batch; m += MP) {
    const size_t mr = batch - m < MP ? batch - m : MP;
    const uint8_t *blk = packed;
    for (size_t n0 = 0; n0 < N; n0 += NR) {
      const size_t nv = N - n0 >= NR ? 2 : last_nv(N);
      t.rq = (const rq8 *)(const void *)blk;
      t.w = (const __m256i *)(const void *)(blk + nv * sizeof(rq8));
      t.valid = N - n0 < NR ? N - n0 : NR;
      if (mr == MP && nv == 1) {
        t.x = x + m * K, t.y = y + m * N + n0;
        tile_12x1(&t);
      } else {
        for (size_t r = 0; r < mr; r += MR) {
          const size_t n = mr - r < MR ? mr - r : MR;
          t.x = x + (m + r) * K, t.y = y + (m + r) * N + n0;
          tiles[n][nv - 1](&t);
        }
      }
      blk += block_bytes(nv, K);
    }
  }
}
