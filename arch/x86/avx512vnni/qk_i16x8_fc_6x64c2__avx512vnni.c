/* 16x8 fully connected, AVX-512 VNNI: tiles of 6 rows x 64 channels, K packed by 2 for vpdpwssd
 * (int16 pairs x int16 pairs summed into int32 lanes). Bit-exact with qk_ref_fc_i16x8 (SPEC.md
 * §4, §1.5). The arithmetic and the int32 -> int64 flush bound are in ../i16x8_fc_common.h:
 * negated int16 weights, int32 partials over at most QK_I16X8_FLUSH_PAIRS = 256 pairs (512 K),
 * each folded into int64 by vpmuldq with -rm; the int64 start value holds bias * rm + 2^(t-1),
 * so the requantization is a vpsravq away.
 *
 * x is read in place: each row's K pair is a vpbroadcastd from memory (no conversion pass, unlike
 * int8's x ^ 0x80). For odd K the last pair is one int16 widened with a zero, so nothing past a
 * row is touched; its weight partner is zero anyway.
 *
 * Packed buffer: one block per 64 channels; the last block holds only the nv = ceil(rest / 16)
 * vectors it needs. Block: [rq16 x nv | weights: kp pairs x nv x 64 B], kp = ceil(K / 2), lane l
 * of vector j is channel 16 j + l, zero padded in K and N. Narrow blocks (nv <= 2) use 12-row
 * tiles so a tile still has >= 12 independent accumulators. */
#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "qk/i16x8.h"
#include "internal.h"
#include "variants.h"
#include "../i16x8_fc_common.h"

#define QK_NAME(s) qk_i16x8_fc_6x64c2__avx512vnni##s

enum { MR = 6, NR = 64, MP = 12 };

#define QK_INLINE static inline __attribute__((always_inline))

/* Accumulators are a plain GCC vector of 16 int32, vpdpwssd's own view: kept as __m512i (8 x
 * int64), every update casts between the two views and GCC's PRE carries both across the loop,
 * which spills half the tile. */
typedef int32_t acc_v __attribute__((vector_size(64)));

/* acc += pairs of b times pairs of w, lane by lane (vpdpwssd, wrapping). */
QK_INLINE acc_v dot(acc_v acc, __m512i b, __m512i w) { return (acc_v)_mm512_dpwssd_epi32((__m512i)acc, b, w); }

/* Requantization constants of one vector of 16 channels; vpmuldq and vpsravq work on qwords,
 * so even and odd channels get separate rows (qword i holds channel 2i, resp. 2i + 1). */
typedef struct rq16 {
  _Alignas(64) int64_t ie[8], io[8]; /* bias * rm + 2^(t-1) */
  int32_t me[16], mo[16];            /* -rm in the low dword of each qword */
  int64_t te[8], to[8];              /* t = 15 - shift */
} rq16;

static size_t kpairs(size_t k) { return (k + 1) / 2; }
static size_t block_bytes(size_t nv, size_t k) { return nv * (sizeof(rq16) + 64 * kpairs(k)); }
static size_t last_nv(size_t n) { return (n - (n - 1) / NR * NR + 15) / 16; }

size_t QK_NAME(_packed_size)(size_t n, size_t k) {
  size_t full, total;
  if (!qk_mul_size((n - 1) / NR, block_bytes(4, k), &full) || !qk_add_size(full, block_bytes(last_nv(n), k), &total))
    return SIZE_MAX & ~(size_t)63; /* unallocatable, and rounding it up to 64 cannot wrap */
  return total;
}

void QK_NAME(_pack)(const qk_fc_i16x8_desc *d, const int8_t *w, const int64_t *bias, void *packed) {
  const size_t N = d->out_ch, K = d->in_ch, kp = kpairs(K);
  uint8_t *blk = packed;
  for (size_t n0 = 0; n0 < N; n0 += NR) {
    const size_t nv = N - n0 >= NR ? 4 : last_nv(N);
    rq16 *rq = (rq16 *)(void *)blk;
    int16_t *wp = (int16_t *)(void *)(blk + nv * sizeof(rq16));
    for (size_t j = 0; j < nv; j++) {
      memset(&rq[j], 0, sizeof rq[j]);
      for (size_t l = 0; l < 16; l++) {
        const size_t o = n0 + 16 * j + l, q = l / 2;
        const bool in = o < N;
        const qk_i16x8_chan c = qk_i16x8_chan_make(in ? d->multiplier[o] : 0, in ? d->shift[o] : 0,
                                                   in && bias ? bias[o] : 0, 0);
        (l & 1 ? rq[j].io : rq[j].ie)[q] = c.init;
        (l & 1 ? rq[j].mo : rq[j].me)[2 * q] = c.neg_rm;
        (l & 1 ? rq[j].to : rq[j].te)[q] = c.t;
        for (size_t p = 0; p < kp; p++)
          for (size_t h = 0; h < 2; h++) {
            const size_t k = 2 * p + h;
            wp[((p * nv + j) * 16 + l) * 2 + h] = (int16_t)(in && k < K ? -w[o * K + k] : 0);
          }
      }
    }
    blk += block_bytes(nv, K);
  }
}

typedef struct tile_args {
  const int16_t *x; /* row 0 of the tile; rows are K apart */
  size_t k;
  const __m512i *w; /* kp pairs x nv vectors */
  const rq16 *rq;
  int16_t *y;
  size_t ldy, valid; /* output row stride; channels of the block to store */
  __m512i lo, hi;    /* clamp, as int16 */
  int64_t (*part)[4][2][8]; /* int64 partials between chunks (K > 512): [row][vector][even, odd] */
} tile_args;

QK_INLINE __m512i bcast_pair(const int16_t *p) {
  int32_t v;
  memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

/* Clamps and stores one row's nv vectors of int32 results (channel order within the block).
 * vpackssdw saturates to int16, which commutes with a clamp inside the int16 range; it also
 * interleaves its two inputs per 128-bit lane, which vpermq undoes. */
QK_INLINE void store_row(const size_t nv, const tile_args *t, const acc_v *v, int16_t *y) {
  const __m512i order = _mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7);
#pragma GCC unroll 2
  for (size_t j = 0; j < nv; j += 2) {
    __m512i p = _mm512_packs_epi32((__m512i)v[j], (__m512i)v[j + 1 < nv ? j + 1 : j]);
    p = _mm512_min_epi16(_mm512_max_epi16(_mm512_permutexvar_epi64(order, p), t->lo), t->hi);
    const size_t left = t->valid - 16 * j;
    const __mmask32 m = left >= 32 ? ~(__mmask32)0 : (((__mmask32)1 << left) - 1);
    _mm512_mask_storeu_epi16(y + 16 * j, m, p);
  }
}

/* mr rows x nv vectors of one block over all of K, then requantized and stored. */
QK_INLINE void tile(const size_t mr, const size_t nv, const tile_args *t) {
  const size_t K = t->k, kp = kpairs(K), full = K / 2;
  int64_t(*part)[4][2][8] = t->part;
  /* Rows of accumulators to zero: a single row also uses acc[1..3] (below). */
  const size_t zr = mr == 1 ? 4 : mr;
  for (size_t c0 = 0;; c0 += QK_I16X8_FLUSH_PAIRS) {
    /* This chunk: pairs [c0, c1), at most QK_I16X8_FLUSH_PAIRS of them (the flush bound). */
    const size_t c1 = kp - c0 < QK_I16X8_FLUSH_PAIRS ? kp : c0 + QK_I16X8_FLUSH_PAIRS;
    const size_t cf = c1 < full ? c1 : full; /* whole pairs of this chunk end here */
    /* Declared per chunk: live across the chunk loop, GCC spills the accumulators. */
    acc_v acc[MP][4];
#pragma GCC unroll 12
    for (size_t r = 0; r < zr; r++)
#pragma GCC unroll 4
      for (size_t j = 0; j < nv; j++) acc[r][j] = (acc_v){0};
    const __m512i *w = t->w + c0 * nv;
    const int16_t *x = t->x + 2 * c0;
    size_t p = c0;
    if (mr == 1) {
      /* One row has only nv dependency chains: 4 sets of pairs (acc[1..3] are free) cover
       * vpdpwssd's latency; their int32 sum is the chunk's sum, exact as it fits. */
      for (; p + 4 <= cf; p += 4, w += 4 * nv, x += 8)
#pragma GCC unroll 4
        for (size_t s = 0; s < 4; s++) {
          const __m512i b = bcast_pair(x + 2 * s);
#pragma GCC unroll 4
          for (size_t j = 0; j < nv; j++) acc[s][j] = dot(acc[s][j], b, _mm512_load_si512(w + s * nv + j));
        }
#pragma GCC unroll 4
      for (size_t j = 0; j < nv; j++)
        acc[0][j] = (acc_v)_mm512_add_epi32(_mm512_add_epi32((__m512i)acc[0][j], (__m512i)acc[1][j]),
                                            _mm512_add_epi32((__m512i)acc[2][j], (__m512i)acc[3][j]));
    }
    for (; p < cf; p++, w += nv, x += 2) {
      __m512i wv[4];
#pragma GCC unroll 4
      for (size_t j = 0; j < nv; j++) wv[j] = _mm512_load_si512(w + j);
#pragma GCC unroll 12
      for (size_t r = 0; r < mr; r++) {
        const __m512i b = bcast_pair(x + r * K);
#pragma GCC unroll 4
        for (size_t j = 0; j < nv; j++) acc[r][j] = dot(acc[r][j], b, wv[j]);
      }
    }
    if (p < c1) { /* odd K: the last pair is (x[K-1], 0) */
#pragma GCC unroll 12
      for (size_t r = 0; r < mr; r++) {
        const __m512i b = _mm512_set1_epi32((int32_t)(uint16_t)x[r * K]);
#pragma GCC unroll 4
        for (size_t j = 0; j < nv; j++) acc[r][j] = dot(acc[r][j], b, _mm512_load_si512(w + j));
      }
    }
    /* Flush: int64 += (-S) * (-rm), even and odd channels apart; after the last chunk, shift. */
    const bool first = c0 == 0, last = c1 == kp;
#pragma GCC unroll 12
    for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 4
      for (size_t j = 0; j < nv; j++) {
        const rq16 *q = &t->rq[j];
        const __m512i se = _mm512_load_si512(first ? q->ie : part[r][j][0]);
        const __m512i so = _mm512_load_si512(first ? q->io : part[r][j][1]);
        const __m512i pe = _mm512_add_epi64(se, _mm512_mul_epi32((__m512i)acc[r][j], _mm512_load_si512(q->me)));
        const __m512i po =
            _mm512_add_epi64(so, _mm512_mul_epi32(_mm512_srli_epi64((__m512i)acc[r][j], 32), _mm512_load_si512(q->mo)));
        if (last) {
          const __m512i re = _mm512_srav_epi64(pe, _mm512_load_si512(q->te));
          const __m512i ro = _mm512_srav_epi64(po, _mm512_load_si512(q->to));
          acc[r][j] = (acc_v)_mm512_mask_shuffle_epi32(re, 0xAAAA, ro, _MM_PERM_CDAB);
        } else {
          _mm512_store_si512(part[r][j][0], pe);
          _mm512_store_si512(part[r][j][1], po);
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
#define QK_TILES(mr) QK_TILE(mr, 1) QK_TILE(mr, 2) QK_TILE(mr, 3) QK_TILE(mr, 4)
QK_TILES(1)
QK_TILES(2)
QK_TILES(3)
QK_TILES(4)
QK_TILES(5)
QK_TILES(6)
QK_TILE(12, 1)
QK_TILE(12, 2)
#define QK_ROW(mr) {tile_##mr##x1, tile_##mr##x2, tile_##mr##x3, tile_##mr##x4}
static const tile_fn tiles[MR + 1][4] = {
    {NULL, NULL, NULL, NULL}, QK_ROW(1), QK_ROW(2), QK_ROW(3), QK_ROW(4), QK_ROW(5), QK_ROW(6)};

void QK_NAME(_run)(const qk_fc_i16x8_desc *d, const void *packed, size_t batch, const int16_t *x, int16_t *y) {
  const size_t K = d->in_ch, N = d->out_ch;
  _Alignas(64) int64_t part[MP][4][2][8];
  tile_args t = {.k = K, .ldy = N, .lo = _mm512_set1_epi16((short)d->act_min), .hi = _mm512_set1_epi16((short)d->act_max),
                 .part = part};
  for (size_t m = 0; m < batch; m += MP) {
    const size_t mr = batch - m < MP ? batch - m : MP;
    const uint8_t *blk = packed;
    for (size_t n0 = 0; n0 < N; n0 += NR) {
      const size_t nv = N - n0 >= NR ? 4 : last_nv(N);
      t.rq = (const rq16 *)(const void *)blk;
      t.w = (const __m512i *)(const void *)(blk + nv * sizeof(rq16));
      t.valid = N - n0 < NR ? N - n0 : NR;
      if (mr == MP && nv <= 2) {
        t.x = x + m * K, t.y = y + m * N + n0;
        (nv == 1 ? tile_12x1 : tile_12x2)(&t);
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
