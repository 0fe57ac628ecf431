/* int8 fully connected, AVX-VNNI (VEX vpdpbusd on ymm): tiles of 6 rows x 16 channels, K packed
 * by 4. Exact with qk_ref_fc_int8. vpdpbusd multiplies u8 by s8, so activations are turned into
 * u8 by x ^ 0x80 (= x + 128) and the pack folds bias[o] - (zp_in + 128) * sum_k w[o,k] into the
 * accumulators' initial value; every sum wraps in 32 bits like the reference's.
 *
 * Packed buffer: one block per 16 channels; a last block of at most 8 channels holds one vector.
 * Block: [bias nv x 32 B | requant nv x QK_RQ256_BYTES | weights: Kp/4 groups x nv x 32 B],
 * Kp = K rounded up to 4, zero padded. One-vector blocks use 12-row tiles (12 accumulators). */
#include <immintrin.h>
#include <stdbool.h>
#include <string.h>

#include "qk/fc.h"
#include "internal.h"
#include "variants.h"
#include "requant.h"

#define QK_NAME(s) qk_int8_fc_6x16c4__avxvnni##s

enum { MR = 6, NR = 16, MP = 12 /* rows per converted panel */ };
/* Panel row length: MP x KC bytes on the stack. Longer rows run in chunks of KC with partial
 * accumulators kept in a small stack buffer; re-converting per block costs 1/16 of the MACs. */
enum { KC = 2048 };
/* Weight prefetch distance for the 1-2 row tiles, which stream the weights from memory. */
enum { PF_BYTES = 1024 };

#define QK_INLINE static inline __attribute__((always_inline))

static size_t block_bytes(size_t nv, size_t k) {
  return nv * (32 + QK_RQ256_BYTES) + qk_round_up(k, 4) * 8 * nv;
}
static size_t last_nv(size_t n) { return n - (n - 1) / NR * NR > 8 ? 2 : 1; }

size_t QK_NAME(_packed_size)(size_t n, size_t k) {
  return (n - 1) / NR * block_bytes(2, k) + block_bytes(last_nv(n), k);
}

void QK_NAME(_pack)(const qk_fc_int8_desc *d, const int8_t *w, const int32_t *bias, void *packed) {
  const size_t N = d->out_ch, K = d->in_ch, groups = qk_round_up(K, 4) / 4;
  uint8_t *blk = packed;
  for (size_t n0 = 0; n0 < N; n0 += NR) {
    const size_t nv = N - n0 >= NR ? 2 : last_nv(N);
    int32_t *b = (int32_t *)blk;
    int8_t *wp = (int8_t *)(blk + nv * (32 + QK_RQ256_BYTES));
    for (size_t j = 0; j < nv; j++) {
      int32_t m[8], sh[8];
      for (int l = 0; l < 8; l++) {
        const size_t o = n0 + (size_t)qk_rq256_channel((int)nv, (int)j, l);
        uint32_t sum = 0;
        for (size_t g = 0; g < groups; g++)
          for (size_t q = 0; q < 4; q++) {
            const size_t k = 4 * g + q;
            const int8_t v = o < N && k < K ? w[o * K + k] : 0;
            wp[(g * nv + j) * 32 + (size_t)l * 4 + q] = v;
            sum += (uint32_t)(int32_t)v;
          }
        const uint32_t bo = o < N && bias ? (uint32_t)bias[o] : 0u;
        b[j * 8 + (size_t)l] = (int32_t)(bo - (uint32_t)(d->input_zp + 128) * sum);
        m[l] = o < N ? d->multiplier[o] : 0;
        sh[l] = o < N ? d->shift[o] : 0;
      }
      qk_rq256_prepare((int32_t *)(blk + nv * 32 + j * QK_RQ256_BYTES), m, sh, d->rounding);
    }
    blk += block_bytes(nv, K);
  }
}

/* x ^ 0x80 for `rows` rows of `len` bytes (stride ldx) into the panel (stride lda, a multiple of
 * 32 >= len); the row tails are copied by bytes so nothing past a row is read, and the panel's
 * tail up to the next group of 4 gets harmless 0x80s (their weights are zero). */
static void convert(size_t rows, const int8_t *x, size_t ldx, size_t len, uint8_t *panel, size_t lda) {
  const __m256i flip = _mm256_set1_epi8((char)0x80);
  for (size_t r = 0; r < rows; r++) {
    const int8_t *src = x + r * ldx;
    uint8_t *dst = panel + r * lda;
    size_t k = 0;
    for (; k + 32 <= len; k += 32)
      _mm256_store_si256((__m256i *)(dst + k),
                         _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(src + k)), flip));
    for (; k < len; k++) dst[k] = (uint8_t)(src[k] ^ (int8_t)0x80);
    for (; k & 3; k++) dst[k] = 0x80;
  }
}

typedef struct run_ctx {
  __m256i zp, lo, hi;
  bool dbl;
} run_ctx;

/* Requantization flavour of a block: single rounding, double, double with left shifts. */
enum { RQ_SINGLE, RQ_DOUBLE, RQ_DOUBLE_LS };

typedef struct tile_args {
  const uint8_t *a; /* converted rows, stride lda */
  size_t lda, groups;
  const __m256i *w;     /* weights of these groups: nv vectors per group */
  const int32_t *init;  /* row r, vector j starts from init[r * init_stride + 8 j] */
  size_t init_stride;   /* 0: the packed bias, shared by all rows */
  const uint8_t *rq;    /* requant constants; NULL: store raw accumulators to part */
  int rq_mode;
  int32_t *part;        /* [mr][nv][8] */
  int8_t *y;
  size_t ldy, valid; /* valid output bytes of the block */
} tile_args;

/* Stores the row pair in r (row A low half, row B high half); B is skipped when pair is false. */
QK_INLINE void store2(__m256i r, size_t nv, const tile_args *t, size_t row, bool pair) {
  if (nv == 1) r = _mm256_shuffle_epi32(r, 0x08);
  int8_t *ya = t->y + row * t->ldy;
  const size_t full = 8 * nv;
  if (t->valid == full) {
    if (nv == 2) {
      _mm_storeu_si128((__m128i *)ya, _mm256_castsi256_si128(r));
      if (pair) _mm_storeu_si128((__m128i *)(ya + t->ldy), _mm256_extracti128_si256(r, 1));
    } else {
      _mm_storel_epi64((__m128i *)ya, _mm256_castsi256_si128(r));
      if (pair) _mm_storel_epi64((__m128i *)(ya + t->ldy), _mm256_extracti128_si256(r, 1));
    }
    return;
  }
  _Alignas(32) int8_t tmp[32];
  _mm256_store_si256((__m256i *)tmp, r);
  memcpy(ya, tmp, t->valid);
  if (pair) memcpy(ya + t->ldy, tmp + 16, t->valid);
}

QK_INLINE __m256i requant(int mode, __m256i acc, const void *rq, __m256i off) {
  const __m256i v = mode == RQ_SINGLE   ? qk_rq256_single(acc, rq)
                    : mode == RQ_DOUBLE ? qk_rq256_double(acc, rq, false)
                                        : qk_rq256_double(acc, rq, true);
  return _mm256_add_epi32(v, off);
}

/* Requantizes and stores the mr x nv accumulators, a row pair at a time so that registers free
 * up as it goes; mode is a constant in each copy. */
QK_INLINE void epilogue(const size_t mr, const size_t nv, const int mode, const run_ctx *c,
                        const tile_args *t, __m256i acc[][2]) {
#pragma GCC unroll 6
  for (size_t r = 0; r < mr; r += 2) {
    const size_t s = r + 1 < mr ? r + 1 : r;
    const uint8_t *rq = t->rq;
    /* Keeps the constants as memory operands: hoisted out of the loop, GCC spills them. */
    __asm__("" : "+r"(rq));
    const __m256i off0 = qk_rq256_offset(rq, c->zp);
    const __m256i a0 = requant(mode, acc[r][0], rq, off0), b0 = requant(mode, acc[s][0], rq, off0);
    __m256i a1 = a0, b1 = b0;
    if (nv == 2) {
      const __m256i off1 = qk_rq256_offset(rq + QK_RQ256_BYTES, c->zp);
      a1 = requant(mode, acc[r][1], rq + QK_RQ256_BYTES, off1);
      b1 = requant(mode, acc[s][1], rq + QK_RQ256_BYTES, off1);
    }
    store2(qk_rq256_narrow2(a0, a1, b0, b1, c->lo, c->hi), nv, t, r, s != r);
  }
}

QK_INLINE void tile(const size_t mr, const size_t nv, const run_ctx *c, const tile_args *t) {
  __m256i acc[MP][2];
#pragma GCC unroll 12
  for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 2
    for (size_t j = 0; j < nv; j++)
      acc[r][j] = _mm256_loadu_si256((const __m256i *)(t->init + r * t->init_stride + 8 * j));
  const uint8_t *a = t->a;
  const size_t lda = t->lda;
  const __m256i *w = t->w;
  size_t g = t->groups;
  if (mr == 1) {
    /* One row has only nv dependency chains: split K over 4 sets to cover vpdpbusd latency. */
    __m256i more[3][2];
#pragma GCC unroll 3
    for (int s = 0; s < 3; s++)
#pragma GCC unroll 2
      for (size_t j = 0; j < nv; j++) more[s][j] = _mm256_setzero_si256();
    for (; g >= 4; g -= 4, w += 4 * nv, a += 16) {
#pragma GCC unroll 4
      for (size_t off = 0; off < 4 * nv * sizeof *w; off += 64)
        _mm_prefetch((const char *)w + PF_BYTES + off, _MM_HINT_T0);
      int32_t a4[4];
      memcpy(a4, a, 16);
#pragma GCC unroll 4
      for (size_t s = 0; s < 4; s++) {
        const __m256i b = _mm256_set1_epi32(a4[s]);
#pragma GCC unroll 2
        for (size_t j = 0; j < nv; j++) {
          __m256i *d = s ? &more[s - 1][j] : &acc[0][j];
          *d = _mm256_dpbusd_avx_epi32(*d, b, _mm256_load_si256(w + s * nv + j));
        }
      }
    }
#pragma GCC unroll 2
    for (size_t j = 0; j < nv; j++)
      acc[0][j] = _mm256_add_epi32(_mm256_add_epi32(acc[0][j], more[0][j]),
                            _mm256_add_epi32(more[1][j], more[2][j]));
  }
  for (; g; g--, w += nv, a += 4) {
    if (mr <= 2) _mm_prefetch((const char *)w + PF_BYTES, _MM_HINT_T0);
    __m256i wv[2];
#pragma GCC unroll 2
    for (size_t j = 0; j < nv; j++) wv[j] = _mm256_load_si256(w + j);
#pragma GCC unroll 12
    for (size_t r = 0; r < mr; r++) {
      int32_t a4;
      memcpy(&a4, a + r * lda, 4);
      const __m256i b = _mm256_set1_epi32(a4);
#pragma GCC unroll 2
      for (size_t j = 0; j < nv; j++) acc[r][j] = _mm256_dpbusd_avx_epi32(acc[r][j], b, wv[j]);
    }
  }
  if (!t->rq) {
#pragma GCC unroll 12
    for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 2
      for (size_t j = 0; j < nv; j++)
        _mm256_storeu_si256((__m256i *)(t->part + (r * nv + j) * 8), acc[r][j]);
    return;
  }
  if (t->rq_mode == RQ_DOUBLE) epilogue(mr, nv, RQ_DOUBLE, c, t, acc);
  else if (t->rq_mode == RQ_SINGLE) epilogue(mr, nv, RQ_SINGLE, c, t, acc);
  else epilogue(mr, nv, RQ_DOUBLE_LS, c, t, acc);
}

typedef void (*tile_fn)(const run_ctx *, const tile_args *);
#define QK_TILE(mr, nv) \
  static void tile_##mr##x##nv(const run_ctx *c, const tile_args *t) { tile(mr, nv, c, t); }
#define QK_TILES(mr) QK_TILE(mr, 1) QK_TILE(mr, 2)
QK_TILES(1)
QK_TILES(2)
QK_TILES(3)
QK_TILES(4)
QK_TILES(5)
QK_TILES(6)
QK_TILE(12, 1)
#define QK_ROW(mr) {tile_##mr##x1, tile_##mr##x2}
static const tile_fn tiles[MR + 1][2] = {
    {NULL, NULL}, QK_ROW(1), QK_ROW(2), QK_ROW(3), QK_ROW(4), QK_ROW(5), QK_ROW(6)};

/* One block for the mr rows of a panel: a 12-row tile for one-vector blocks, else 6-row tiles. */
static void block(const run_ctx *c, const tile_args *t, size_t mr, size_t nv) {
  if (mr == MP && nv == 1) {
    tile_12x1(c, t);
    return;
  }
  tile_args s = *t;
  for (size_t r = 0; r < mr; r += MR) {
    const size_t n = mr - r < MR ? mr - r : MR;
    s.a = t->a + r * t->lda;
    s.y = t->y + r * t->ldy;
    tiles[n][nv - 1](c, &s);
  }
}

void QK_NAME(_run)(const qk_fc_int8_desc *d, const void *packed, size_t batch, const int8_t *x,
                   int8_t *y) {
  const run_ctx c = {
      .zp = _mm256_set1_epi32(d->output_zp),
      .lo = _mm256_set1_epi8((char)d->act_min),
      .hi = _mm256_set1_epi8((char)d->act_max),
      .dbl = d->rounding == QK_ROUND_DOUBLE,
  };
  const size_t K = d->in_ch, N = d->out_ch, groups = qk_round_up(K, 4) / 4;
  _Alignas(32) uint8_t panel[MP * KC];
  const size_t lda = K > KC ? KC : qk_round_up(K, 32);
  for (size_t m = 0; m < batch; m += MP) {
    const size_t mr = batch - m < MP ? batch - m : MP;
    const int8_t *xm = x + m * K;
    if (K <= KC) convert(mr, xm, K, K, panel, lda);
    const uint8_t *blk = packed;
    for (size_t n0 = 0; n0 < N; n0 += NR) {
      const size_t nv = N - n0 >= NR ? 2 : last_nv(N), left = N - n0;
      tile_args t = {
          .a = panel, .lda = lda, .groups = groups,
          .w = (const __m256i *)(blk + nv * (32 + QK_RQ256_BYTES)),
          .init = (const int32_t *)blk, .init_stride = 0,
          .rq = blk + nv * 32, .part = NULL,
          .rq_mode = !c.dbl ? RQ_SINGLE
                     : qk_rq256_any_left_shift(blk + nv * 32, nv) ? RQ_DOUBLE_LS : RQ_DOUBLE,
          .y = y + m * N + n0, .ldy = N,
          .valid = left < NR ? left : NR,
      };
      if (K <= KC) {
        block(&c, &t, mr, nv);
      } else {
        /* Rows of MR at a time so the partial sums fit a small stack buffer. */
        _Alignas(32) int32_t part[MR * 2 * 8];
        for (size_t r = 0; r < mr; r += MR) {
          const size_t n = mr - r < MR ? mr - r : MR;
          tile_args s = t;
          s.y = t.y + r * N;
          for (size_t g0 = 0; g0 < groups; g0 += KC / 4) {
            const size_t len = K - 4 * g0 < KC ? K - 4 * g0 : KC;
            convert(n, xm + r * K + 4 * g0, K, len, panel, lda);
            s.groups = (len + 3) / 4;
            s.w = t.w + g0 * nv;
            if (g0) {
              s.init = part;
              s.init_stride = nv * 8;
            }
            s.rq = g0 + KC / 4 >= groups ? t.rq : NULL;
            s.part = part;
            tiles[n][nv - 1](&c, &s);
          }
        }
      }
      blk += block_bytes(nv, K);
    }
  }
}
