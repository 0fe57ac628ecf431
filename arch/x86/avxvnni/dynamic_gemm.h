/* AVX-VNNI engine of the dynamic-range FC and Conv2D variants: the 256-bit counterpart of
 * avx512vnni/dynamic_gemm.h (which explains the exactness argument), with VEX vpdpbusd on ymm.
 *
 * Rows are quantized into u8 = q ^ 0x80 (32 floats per step, then 8: vcvttps2dq, two saturating
 * packs, one vpermd to undo their 128-bit lane interleave, then the max with qmin). Accumulators start
 * at -(128 + pad value) * rowsum(w), so they end at the reference's int32 dot.
 *
 * Packed block of nv (1..2) vectors of 8 channels: the header of ../dynamic_avx2.h (nv * 96 B),
 * then Kp/4 groups x nv x 32 B of weights, lane l of vector j holding channel 8 j + l's 4 bytes;
 * zero beyond K and N. */
#ifndef QK_AVXVNNI_DYNAMIC_GEMM_H
#define QK_AVXVNNI_DYNAMIC_GEMM_H

#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "../dynamic_avx2.h"

/* Row element for the shared op code (../dynamic_fc_ops.h, ../dynamic_conv_ops.h): q ^ 0x80 as
 * u8, K taken 4 at a time. A pad value c enters the sums as (c + 128) * w, hence accumulators
 * start at -(128 + c) rowsum. */
typedef uint8_t qkd_elem;
enum { QKD_KR = 4 };
static inline int32_t qkd_c_init(int32_t pad_q) { return -(128 + pad_q); }
static inline qkd_elem qkd_encode(int32_t q) { return (qkd_elem)(q + 128); }
static inline void qkd_fill(qkd_elem *p, qkd_elem v, size_t n) { memset(p, v, n); }

enum { QKD_NR = 16, QKD_MR = 6, QKD_MP = 12 };
enum { QKD_PF_BYTES = 1024 };

static inline size_t qkd_block_bytes(size_t nv, size_t k) { return nv * 96 + qk_round_up(k, 4) * 8 * nv; }
static inline size_t qkd_last_nv(size_t n) { return n - (n - 1) / QKD_NR * QKD_NR > 8 ? 2 : 1; }
static inline size_t qkd_packed_bytes(size_t n, size_t k) {
  return (n - 1) / QKD_NR * qkd_block_bytes(2, k) + qkd_block_bytes(qkd_last_nv(n), k);
}

static inline void qkd_pack(size_t N, size_t K, const int8_t *w, size_t ldw, const float *s_w, const float *bias,
                            float no_bias, void *packed) {
  const size_t groups = qk_round_up(K, 4) / 4;
  uint8_t *blk = packed;
  for (size_t n0 = 0; n0 < N; n0 += QKD_NR) {
    const size_t nv = N - n0 >= QKD_NR ? 2 : qkd_last_nv(N);
    int8_t *wp = (int8_t *)(blk + nv * 96);
    int32_t rowsum[QKD_NR];
    for (size_t c = 0; c < 8 * nv; c++) {
      const size_t o = n0 + c;
      uint32_t sum = 0;
      for (size_t g = 0; g < groups; g++)
        for (size_t i = 0; i < 4; i++) {
          const size_t k = 4 * g + i;
          const int8_t v = o < N && k < K ? w[o * ldw + k] : 0;
          wp[(g * nv + c / 8) * 32 + (c % 8) * 4 + i] = v;
          sum += (uint32_t)(int32_t)v;
        }
      rowsum[c] = (int32_t)sum;
    }
    qkd8_pack_header(nv, n0, N, rowsum, s_w, bias, no_bias, blk);
    blk += qkd_block_bytes(nv, K);
  }
}

/* Quantizes x[0, n) into u[0, round_up(n, 8)) as q ^ 0x80; past n, a quantized 0.0f. */
static inline qkd_qparams qkd_quantize(const float *x, size_t n, bool asymmetric, uint8_t *u) {
  const qkd_qparams p = qkd8_params(x, n, asymmetric);
  if (p.zero) {
    memset(u, 0x80, qk_round_up(n, 8));
    return p;
  }
  const __m256 inv = _mm256_set1_ps(p.inv), off = _mm256_set1_ps(p.offset_f);
  const __m256i qmin = _mm256_set1_epi8((char)p.qmin), flip = _mm256_set1_epi8((char)0x80);
  /* The packs interleave 128-bit lanes: dword 4 L + j holds elements 4 L .. 4 L + 3 of vector j. */
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i q01 = _mm256_packs_epi32(qkd8_quant8(x, i, n, inv, off, asymmetric),
                                           qkd8_quant8(x, i + 8, n, inv, off, asymmetric));
    const __m256i q23 = _mm256_packs_epi32(qkd8_quant8(x, i + 16, n, inv, off, asymmetric),
                                           qkd8_quant8(x, i + 24, n, inv, off, asymmetric));
    const __m256i q = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(q01, q23), order);
    _mm256_storeu_si256((__m256i *)(void *)(u + i), _mm256_xor_si256(_mm256_max_epi8(q, qmin), flip));
  }
  /* The rest 8 at a time (short rows are common): elements 0-3 land in dword 0, 4-7 in dword 4. */
  for (; i < n; i += 8) {
    const __m256i r = qkd8_quant8(x, i, n, inv, off, asymmetric);
    const __m256i b = _mm256_packs_epi16(_mm256_packs_epi32(r, r), r);
    const __m256i q = _mm256_permutevar8x32_epi32(b, order);
    const __m128i v = _mm_xor_si128(_mm_max_epi8(_mm256_castsi256_si128(q), _mm256_castsi256_si128(qmin)),
                                    _mm256_castsi256_si128(flip));
    _mm_storel_epi64((__m128i *)(void *)(u + i), v);
  }
  return p;
}

typedef struct qkd_tile {
  const qkd_elem *a; /* u8 rows, stride lda; each row readable to 4 * groups bytes */
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

QKD8_INLINE void qkd_epilogue(const size_t mr, const size_t nv, const int mode, const qkd_tile *t, __m256i acc[][2]) {
  const uint8_t *h = t->blk;
  const __m256 lo = _mm256_set1_ps(t->lo), hi = _mm256_set1_ps(t->hi);
#pragma GCC unroll 12
  for (size_t r = 0; r < mr; r++) {
    const __m256 srow = _mm256_set1_ps(mode == QKD_EPI_CONV ? t->s_img : t->s_row[r]);
    const __m256 off = _mm256_set1_ps(mode == QKD_EPI_FC_ASYM ? t->off_f[r] : 0.0f);
    float *yr = t->y + r * t->ldy;
#pragma GCC unroll 2
    for (size_t j = 0; j < nv; j++) {
      const __m256 v =
          qkd8_output(mode, acc[r][j], h + 32 * j, h + 32 * (nv + j), h + 32 * (2 * nv + j), srow, off, lo, hi);
      qkd8_store(yr + 8 * j, v, t->valid - 8 * j);
    }
  }
}

QKD8_INLINE void qkd_tile_body(const size_t mr, const size_t nv, const qkd_tile *t) {
  /* Accumulators start at zero and get c_init * rowsum after the K loop; the empty asm keeps GCC
   * from merging the identical starts, which makes it spill them in the K loop. */
  __m256i acc[QKD_MP][2];
#pragma GCC unroll 12
  for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 2
    for (size_t j = 0; j < nv; j++) {
      acc[r][j] = _mm256_setzero_si256();
      __asm__("" : "+x"(acc[r][j]));
    }
  const qkd_elem *a = t->a;
  const size_t lda = t->lda;
  const __m256i *w = (const __m256i *)(const void *)(t->blk + nv * 96);
  size_t g = t->groups;
  if (mr == 1) {
    /* One row has only nv dependency chains: split K over 4 sets to cover vpdpbusd latency. */
    __m256i more[3][2];
#pragma GCC unroll 3
    for (int s = 0; s < 3; s++)
#pragma GCC unroll 2
      for (size_t j = 0; j < nv; j++) more[s][j] = _mm256_setzero_si256();
    for (; g >= 4; g -= 4, w += 4 * nv, a += 16) {
#pragma GCC unroll 2
      for (size_t off = 0; off < 4 * nv * sizeof *w; off += 64)
        _mm_prefetch((const char *)w + QKD_PF_BYTES + off, _MM_HINT_T0);
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
      acc[0][j] = _mm256_add_epi32(_mm256_add_epi32(acc[0][j], more[0][j]), _mm256_add_epi32(more[1][j], more[2][j]));
  }
  for (; g; g--, w += nv, a += 4) {
    if (mr <= 2) _mm_prefetch((const char *)w + QKD_PF_BYTES, _MM_HINT_T0);
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
  const __m256i cinit = _mm256_set1_epi32(t->c_init);
#pragma GCC unroll 2
  for (size_t j = 0; j < nv; j++) {
    const __m256i init = _mm256_mullo_epi32(cinit, _mm256_load_si256((const __m256i *)(const void *)(t->blk + 32 * j)));
#pragma GCC unroll 12
    for (size_t r = 0; r < mr; r++) acc[r][j] = _mm256_add_epi32(acc[r][j], init);
  }
  if (t->mode == QKD_EPI_FC) qkd_epilogue(mr, nv, QKD_EPI_FC, t, acc);
  else if (t->mode == QKD_EPI_FC_ASYM) qkd_epilogue(mr, nv, QKD_EPI_FC_ASYM, t, acc);
  else qkd_epilogue(mr, nv, QKD_EPI_CONV, t, acc);
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
    const qkd_elem *a0 = t.a;                                                      \
    const uint8_t *packed = t.blk;                                                    \
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
