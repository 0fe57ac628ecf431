/* AVX2 engine of the dynamic-range FC and Conv2D variants (bit-exact; the argument is in
 * ../avx512vnni/dynamic_gemm.h). Without VNNI the products go through vpmaddwd on int16:
 *
 * - vpmaddubsw (u8 x s8 into saturating int16 pairs) is not exact here: with u = q + 128 up to
 *   255 a pair reaches 2 * 255 * 127 > 32767, and the |q| / sign(w, q) trick wraps for w = -128,
 *   which the API allows. vpmaddwd of int16 pairs cannot overflow (|sum| <= 2 * 128 * 128).
 * - Rows are quantized straight to int16 q (no encoding bias), two K values per broadcast dword;
 *   weights stay int8 in the packed buffer (half the bytes of int16) and are sign-extended by
 *   vpmovsxbw as they are loaded, once per K pair for all rows of the tile.
 * - Accumulators start at -c * rowsum(w) for a pad value c (the conv's zero point, else 0).
 *   vpmaddwd's result feeds a 1-cycle vpaddd, so even a single row has no latency chain to hide.
 *
 * Packed block of nv (1..2) vectors of 8 channels: the header of ../dynamic_avx2.h (nv * 96 B),
 * then Kp/2 pairs x nv x 16 B of weights, bytes 2l, 2l+1 of vector j holding channel 8 j + l's
 * K pair; zero beyond K and N. Kp = K rounded up to 2. */
#ifndef QK_AVX2_DYNAMIC_GEMM_H
#define QK_AVX2_DYNAMIC_GEMM_H

#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "../dynamic_avx2.h"

/* Row element for the shared op code (../dynamic_fc_ops.h, ../dynamic_conv_ops.h): int16 q,
 * K taken 2 at a time. */
typedef int16_t qkd_elem;
enum { QKD_KR = 2 };
static inline int32_t qkd_c_init(int32_t pad_q) { return -pad_q; }
static inline qkd_elem qkd_encode(int32_t q) { return (qkd_elem)q; }
static inline void qkd_fill(qkd_elem *p, qkd_elem v, size_t n) {
  for (size_t i = 0; i < n; i++) p[i] = v;
}

enum { QKD_NR = 16, QKD_MR = 6, QKD_MP = 12 };
/* Weight prefetch distance for 1-2 row tiles, which stream the weights. */
enum { QKD_PF_BYTES = 1024 };

static inline size_t qkd_block_bytes(size_t nv, size_t k) { return nv * 96 + qk_round_up(k, 2) * 8 * nv; }
static inline size_t qkd_last_nv(size_t n) { return n - (n - 1) / QKD_NR * QKD_NR > 8 ? 2 : 1; }
static inline size_t qkd_packed_bytes(size_t n, size_t k) {
  return (n - 1) / QKD_NR * qkd_block_bytes(2, k) + qkd_block_bytes(qkd_last_nv(n), k);
}

static inline void qkd_pack(size_t N, size_t K, const int8_t *w, size_t ldw, const float *s_w, const float *bias,
                            float no_bias, void *packed) {
  const size_t pairs = qk_round_up(K, 2) / 2;
  uint8_t *blk = packed;
  for (size_t n0 = 0; n0 < N; n0 += QKD_NR) {
    const size_t nv = N - n0 >= QKD_NR ? 2 : qkd_last_nv(N);
    int8_t *wp = (int8_t *)(blk + nv * 96);
    int32_t rowsum[QKD_NR];
    for (size_t c = 0; c < 8 * nv; c++) {
      const size_t o = n0 + c;
      uint32_t sum = 0;
      for (size_t p = 0; p < pairs; p++)
        for (size_t i = 0; i < 2; i++) {
          const size_t k = 2 * p + i;
          const int8_t v = o < N && k < K ? w[o * ldw + k] : 0;
          wp[(p * nv + c / 8) * 16 + (c % 8) * 2 + i] = v;
          sum += (uint32_t)(int32_t)v;
        }
      rowsum[c] = (int32_t)sum;
    }
    qkd8_pack_header(nv, n0, N, rowsum, s_w, bias, no_bias, blk);
    blk += qkd_block_bytes(nv, K);
  }
}

/* Quantizes x[0, n) into q[0, round_up(n, 16)) as int16; past n, a quantized 0.0f. */
static inline qkd_qparams qkd_quantize(const float *x, size_t n, bool asymmetric, qkd_elem *q) {
  const qkd_qparams p = qkd8_params(x, n, asymmetric);
  const size_t padded = qk_round_up(n, 16);
  if (p.zero) {
    memset(q, 0, padded * sizeof *q);
    return p;
  }
  const __m256 inv = _mm256_set1_ps(p.inv), off = _mm256_set1_ps(p.offset_f);
  const __m256i qmin = _mm256_set1_epi16((short)p.qmin), qmax = _mm256_set1_epi16(127);
  for (size_t i = 0; i < padded; i += 16) {
    /* vpackssdw interleaves 128-bit lanes; vpermq puts the 16 values back in order. */
    const __m256i v = _mm256_packs_epi32(qkd8_quant8(x, i, n, inv, off, asymmetric),
                                         qkd8_quant8(x, i + 8, n, inv, off, asymmetric));
    const __m256i o = _mm256_permute4x64_epi64(v, _MM_SHUFFLE(3, 1, 2, 0));
    _mm256_storeu_si256((__m256i *)(void *)(q + i), _mm256_min_epi16(_mm256_max_epi16(o, qmin), qmax));
  }
  return p;
}

typedef struct qkd_tile {
  const qkd_elem *a; /* int16 rows, stride lda; each row readable to 2 * groups elements */
  size_t lda, groups;
  const uint8_t *blk;
  size_t nv;
  int32_t c_init; /* c_init * rowsum is added to the sums */
  int mode;
  const float *s_row, *off_f;
  float s_img;
  float lo, hi; /* activation clamp */
  float *y;
  size_t ldy, valid; /* valid channels of the block (1..16) */
} qkd_tile;

/* Accumulators are named variables, not an array: GCC keeps those in registers. */
#define QKD_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

QKD8_INLINE void qkd_tile_body(const size_t mr, const size_t nv, const qkd_tile *t) {
  const uint8_t *h = t->blk;
  const __m256i cinit = _mm256_set1_epi32(t->c_init);
  const __m256i *rs = (const __m256i *)(const void *)h;
  const __m256i i0 = _mm256_mullo_epi32(cinit, _mm256_load_si256(rs));
  const __m256i i1 = nv == 2 ? _mm256_mullo_epi32(cinit, _mm256_load_si256(rs + 1)) : i0;
#define QKD_DECL(r) __m256i c##r##0 = i0, c##r##1 = i1;
  QKD_ROWS(QKD_DECL)
#undef QKD_DECL
  const int8_t *w = (const int8_t *)(h + nv * 96);
  const qkd_elem *a = t->a;
  const size_t lda = t->lda;
  for (size_t p = 0; p < t->groups; p++, w += 16 * nv, a += 2) {
    if (mr <= 2) _mm_prefetch((const char *)w + QKD_PF_BYTES, _MM_HINT_T0);
    const __m256i w0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)w));
    const __m256i w1 = nv == 2 ? _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(w + 16))) : w0;
#define QKD_MAC(r)                                                                      \
  if (mr > r) {                                                                         \
    int32_t pair;                                                                       \
    memcpy(&pair, a + r * lda, 4);                                                      \
    const __m256i b = _mm256_set1_epi32(pair);                                          \
    c##r##0 = _mm256_add_epi32(c##r##0, _mm256_madd_epi16(b, w0));                      \
    if (nv == 2) c##r##1 = _mm256_add_epi32(c##r##1, _mm256_madd_epi16(b, w1));          \
  }
    QKD_ROWS(QKD_MAC)
#undef QKD_MAC
  }
  const __m256 lo = _mm256_set1_ps(t->lo), hi = _mm256_set1_ps(t->hi);
  const int mode = t->mode;
#define QKD_OUT(r)                                                                                               \
  if (mr > r) {                                                                                                  \
    const __m256 srow = _mm256_set1_ps(mode == QKD_EPI_CONV ? t->s_img : t->s_row[r]);                           \
    const __m256 off = _mm256_set1_ps(mode == QKD_EPI_FC_ASYM ? t->off_f[r] : 0.0f);                             \
    float *yr = t->y + r * t->ldy;                                                                               \
    if (mode == QKD_EPI_FC) {                                                                                    \
      qkd8_store(yr, qkd8_output(QKD_EPI_FC, c##r##0, h, h + 32 * nv, h + 64 * nv, srow, off, lo, hi), t->valid); \
      if (nv == 2)                                                                                               \
        qkd8_store(yr + 8, qkd8_output(QKD_EPI_FC, c##r##1, h + 32, h + 96, h + 160, srow, off, lo, hi),         \
                   t->valid - 8);                                                                                \
    } else if (mode == QKD_EPI_FC_ASYM) {                                                                        \
      qkd8_store(yr, qkd8_output(QKD_EPI_FC_ASYM, c##r##0, h, h + 32 * nv, h + 64 * nv, srow, off, lo, hi),      \
                 t->valid);                                                                                      \
      if (nv == 2)                                                                                               \
        qkd8_store(yr + 8, qkd8_output(QKD_EPI_FC_ASYM, c##r##1, h + 32, h + 96, h + 160, srow, off, lo, hi),    \
                   t->valid - 8);                                                                                \
    } else {                                                                                                     \
      qkd8_store(yr, qkd8_output(QKD_EPI_CONV, c##r##0, h, h + 32 * nv, h + 64 * nv, srow, off, lo, hi),         \
                 t->valid);                                                                                      \
      if (nv == 2)                                                                                               \
        qkd8_store(yr + 8, qkd8_output(QKD_EPI_CONV, c##r##1, h + 32, h + 96, h + 160, srow, off, lo, hi),       \
                   t->valid - 8);                                                                                \
    }                                                                                                            \
  }
  QKD_ROWS(QKD_OUT)
#undef QKD_OUT
}

#define QKD_TILE(mr, nv) \
  static void qkd_tile_##mr##x##nv(const qkd_tile *t) { qkd_tile_body(mr, nv, t); }

/* Instantiates the tiles and the row-panel GEMM in the including file. */
#define QKD_DEFINE_GEMM                                                                          \
  typedef void (*qkd_tile_fn)(const qkd_tile *);                                                 \
  QKD_TILE(1, 1) QKD_TILE(1, 2) QKD_TILE(2, 1) QKD_TILE(2, 2) QKD_TILE(3, 1) QKD_TILE(3, 2)      \
  QKD_TILE(4, 1) QKD_TILE(4, 2) QKD_TILE(5, 1) QKD_TILE(5, 2) QKD_TILE(6, 1) QKD_TILE(6, 2)      \
  QKD_TILE(12, 1)                                                                                \
  static const qkd_tile_fn qkd_tiles[QKD_MR + 1][2] = {                                          \
      {NULL, NULL},                 {qkd_tile_1x1, qkd_tile_1x2}, {qkd_tile_2x1, qkd_tile_2x2},  \
      {qkd_tile_3x1, qkd_tile_3x2}, {qkd_tile_4x1, qkd_tile_4x2}, {qkd_tile_5x1, qkd_tile_5x2},  \
      {qkd_tile_6x1, qkd_tile_6x2}};                                                             \
  /* Rows [0, m) of t.a against every block of the N channels at t.blk; writes y[0..m) x N. */   \
  static void qkd_gemm(qkd_tile t, size_t m, size_t N, size_t K) {                               \
    const qkd_elem *a0 = t.a;                                                                    \
    const uint8_t *packed = t.blk;                                                               \
    float *y0 = t.y;                                                                             \
    const float *s0 = t.s_row, *o0 = t.off_f;                                                    \
    for (size_t m0 = 0; m0 < m; m0 += QKD_MP) {                                                  \
      const size_t mp = m - m0 < QKD_MP ? m - m0 : QKD_MP;                                       \
      t.blk = packed;                                                                            \
      for (size_t n0 = 0; n0 < N; n0 += QKD_NR) {                                                \
        t.nv = N - n0 >= QKD_NR ? 2 : qkd_last_nv(N);                                            \
        t.valid = N - n0 < QKD_NR ? N - n0 : QKD_NR;                                             \
        /* 12-row tiles for one-vector blocks (12 accumulators either way). */                   \
        const size_t step = mp == QKD_MP && t.nv == 1 ? QKD_MP : QKD_MR;                         \
        for (size_t r = 0; r < mp; r += step) {                                                  \
          const size_t mr = mp - r < step ? mp - r : step;                                       \
          t.a = a0 + (m0 + r) * t.lda;                                                           \
          t.y = y0 + (m0 + r) * t.ldy + n0;                                                      \
          if (s0) t.s_row = s0 + m0 + r;                                                         \
          if (o0) t.off_f = o0 + m0 + r;                                                         \
          if (mr == QKD_MP) qkd_tile_12x1(&t);                                                   \
          else qkd_tiles[mr][t.nv - 1](&t);                                                      \
        }                                                                                        \
        t.blk += qkd_block_bytes(t.nv, K);                                                       \
      }                                                                                          \
    }                                                                                            \
  }

#endif
