/* AVX-512 VNNI engine of the dynamic-range ("hybrid") FC and Conv2D variants: the run-time row
 * quantization and an int8 GEMM with TFLite's float epilogues, bit-exact with dynamic_ref.c.
 *
 * Quantization (qkd_quantize): a max |x| (vrangeps) or min / max reduction, the scalar
 * parameters of ../dynamic_quant.h, then v = x * inv (+ offset) and the exact roundf of that
 * file, cvtt(v + copysign(QKD_HALF_DOWN, v)), 64 floats per step; inputs past 1 MiB in 8 KiB
 * chunks that are read from memory about once (see qkd_quantize). Two saturating packs clamp to
 * [-128, 127] (a vpermd undoes their 128-bit lane interleave; the tail uses vpmovsdb) and the max
 * with qmin completes the reference's clamp. Rows are stored as u8 = q ^ 0x80 = q + 128 for vpdpbusd.
 *
 * GEMM: vpdpbusd of the u8 rows with s8 weights. sum_k (q_k + 128 + c) w_k over the packed K
 * = dot + (128 + c) rowsum(w), so accumulators start at -(128 + c) rowsum, c being the value
 * padded taps carry beyond the real ones (the conv's zero point; 0 for FC, whose padding meets
 * zero weights). Everything wraps in 32 bits; the reference's int32 dot fits, so the result is
 * its dot exactly.
 *
 * Epilogue, with every product pinned by qkd_mul (never fused), in the reference's order:
 *   FC symmetric:  y = bias + float(dot) * (s_row * s_w)
 *   FC asymmetric: dot' = int(float(dot) - float(rowsum) * float(offset)), then as symmetric
 *   Conv:          y = float(acc) * s_w * s_img + bias   (bias -0.0f when absent: x + -0 == x)
 * then max(lo, y) and min(hi, y) with the bound as first operand, which is the reference's
 * `v < lo ? lo : v > hi ? hi : v` including signed zeros.
 *
 * Packed block of nv (1..4) vectors of 16 channels, channel 16 j + l in lane l of vector j:
 *   int32 rowsum[nv][16] | float s_w[nv][16] | float bias[nv][16] | weights: Kp/4 groups x nv x 64 B
 * Kp = K rounded up to 4; padding channels and K have zero weights, rowsum 0, s_w 0, bias 0. */
#ifndef QK_AVX512VNNI_DYNAMIC_GEMM_H
#define QK_AVX512VNNI_DYNAMIC_GEMM_H

#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "../dynamic_quant.h"

/* Row element for the shared op code (../dynamic_fc_ops.h, ../dynamic_conv_ops.h): q ^ 0x80 as
 * u8, K taken 4 at a time. A pad value c enters the sums as (c + 128) * w, hence accumulators
 * start at -(128 + c) rowsum. */
typedef uint8_t qkd_elem;
enum { QKD_KR = 4 };
static inline int32_t qkd_c_init(int32_t pad_q) { return -(128 + pad_q); }
static inline qkd_elem qkd_encode(int32_t q) { return (qkd_elem)(q + 128); }
static inline void qkd_fill(qkd_elem *p, qkd_elem v, size_t n) { memset(p, v, n); }

enum { QKD_NR = 64, QKD_MR = 6, QKD_MP = 12 };
/* Weight prefetch distance for 1-2 row tiles, which stream the weights. */
enum { QKD_PF_BYTES = 2048 };

#define QKD_INLINE static inline __attribute__((always_inline))

static inline size_t qkd_block_bytes(size_t nv, size_t k) { return nv * 3 * 64 + qk_round_up(k, 4) * 16 * nv; }
static inline size_t qkd_last_nv(size_t n) { return (n - (n - 1) / QKD_NR * QKD_NR + 15) / 16; }
static inline size_t qkd_packed_bytes(size_t n, size_t k) {
  return (n - 1) / QKD_NR * qkd_block_bytes(4, k) + qkd_block_bytes(qkd_last_nv(n), k);
}

/* Packs N channels of K int8 weights (row o at w + o * ldw), their scales and bias (NULL: the
 * value `no_bias` in every lane). */
static inline void qkd_pack(size_t N, size_t K, const int8_t *w, size_t ldw, const float *s_w, const float *bias,
                            float no_bias, void *packed) {
  const size_t groups = qk_round_up(K, 4) / 4;
  uint8_t *blk = packed;
  for (size_t n0 = 0; n0 < N; n0 += QKD_NR) {
    const size_t nv = N - n0 >= QKD_NR ? 4 : qkd_last_nv(N);
    int32_t *rs = (int32_t *)(void *)blk;
    float *sc = (float *)(void *)(blk + nv * 64), *bs = (float *)(void *)(blk + 2 * nv * 64);
    int8_t *wp = (int8_t *)(blk + 3 * nv * 64);
    for (size_t c = 0; c < 16 * nv; c++) {
      const size_t o = n0 + c;
      const bool real = o < N;
      uint32_t sum = 0;
      for (size_t g = 0; g < groups; g++)
        for (size_t i = 0; i < 4; i++) {
          const size_t k = 4 * g + i;
          const int8_t v = real && k < K ? w[o * ldw + k] : 0;
          wp[(g * nv + c / 16) * 64 + (c % 16) * 4 + i] = v;
          sum += (uint32_t)(int32_t)v;
        }
      rs[c] = (int32_t)sum;
      sc[c] = real ? s_w[o] : 0.0f;
      bs[c] = real ? (bias ? bias[o] : no_bias) : 0.0f;
    }
    blk += qkd_block_bytes(nv, K);
  }
}

/* A rounded float product that is never fused into a following add or sub. GCC writes the _ps
 * intrinsics as vector operators, which -ffp-contract=fast (GCC's default outside ISO C modes)
 * turns into FMAs; the empty asm pins the product. The build's -std=c11 already keeps contraction
 * off; this keeps the bit-exactness independent of that flag. */
QKD_INLINE __m512 qkd_mul(__m512 a, __m512 b) {
  __m512 p = _mm512_mul_ps(a, b);
  __asm__("" : "+v"(p));
  return p;
}

/* ---- run-time quantization ---- */

static inline __mmask16 qkd_mask16(size_t left) {
  return left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
}

/* int32(roundf(x * inv [+ off])) for 16 floats, not yet clamped (dynamic_quant.h). */
QKD_INLINE __m512i qkd_quant16(__m512 xv, __m512 inv, __m512 off, bool asymmetric) {
  const __m512i sign = _mm512_set1_epi32((int)0x80000000), half = _mm512_castps_si512(_mm512_set1_ps(QKD_HALF_DOWN));
  __m512 v = qkd_mul(xv, inv);
  if (asymmetric) v = _mm512_add_ps(off, v);
  /* (v & sign) | half: copysign(QKD_HALF_DOWN, v) in one vpternlogd. */
  const __m512 c = _mm512_castsi512_ps(_mm512_ternarylogic_epi32(_mm512_castps_si512(v), sign, half, 0xEA));
  return _mm512_cvttps_epi32(_mm512_add_ps(v, c));
}

/* The extremes of x[0, n): symmetric, *hi = max |x| (vrangeps 0x0B: the larger magnitude, sign
 * cleared; masked-off lanes load +0.0f); asymmetric, *lo and *hi = min and max. */
QKD_INLINE void qkd_extremes(const float *x, size_t n, bool asymmetric, float *lo, float *hi) {
  size_t i = 0;
  if (!asymmetric) {
    __m512 m0 = _mm512_setzero_ps(), m1 = m0, m2 = m0, m3 = m0;
    for (; i + 64 <= n; i += 64) {
      m0 = _mm512_range_ps(m0, _mm512_loadu_ps(x + i), 0x0B);
      m1 = _mm512_range_ps(m1, _mm512_loadu_ps(x + i + 16), 0x0B);
      m2 = _mm512_range_ps(m2, _mm512_loadu_ps(x + i + 32), 0x0B);
      m3 = _mm512_range_ps(m3, _mm512_loadu_ps(x + i + 48), 0x0B);
    }
    for (; i < n; i += 16) m0 = _mm512_range_ps(m0, _mm512_maskz_loadu_ps(qkd_mask16(n - i), x + i), 0x0B);
    *hi = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_max_ps(m0, m1), _mm512_max_ps(m2, m3)));
    return;
  }
  /* Lanes past n repeat x[0], which changes neither extreme. */
  __m512 lo0 = _mm512_set1_ps(x[0]), lo1 = lo0, hi0 = lo0, hi1 = lo0;
  for (; i + 32 <= n; i += 32) {
    const __m512 a = _mm512_loadu_ps(x + i), b = _mm512_loadu_ps(x + i + 16);
    lo0 = _mm512_min_ps(lo0, a), hi0 = _mm512_max_ps(hi0, a);
    lo1 = _mm512_min_ps(lo1, b), hi1 = _mm512_max_ps(hi1, b);
  }
  for (; i < n; i += 16) {
    const __m512 a = _mm512_mask_loadu_ps(lo0, qkd_mask16(n - i), x + i);
    lo0 = _mm512_min_ps(lo0, a), hi0 = _mm512_max_ps(hi0, a);
  }
  *lo = _mm512_reduce_min_ps(_mm512_min_ps(lo0, lo1));
  *hi = _mm512_reduce_max_ps(_mm512_max_ps(hi0, hi1));
}

/* Quantizes x[0, n) with p into u[0, round_up(n, 16)) as q ^ 0x80 (the bytes past n hold a
 * quantized 0.0f, which only ever meets zero weights or is overwritten). */
QKD_INLINE void qkd_quantize_with(const float *x, size_t n, const qkd_qparams *p, bool asymmetric, uint8_t *u) {
  if (p->zero) {
    memset(u, 0x80, qk_round_up(n, 16));
    return;
  }
  const __m512 inv = _mm512_set1_ps(p->inv), off = _mm512_set1_ps(p->offset_f);
  const __m512i qmin = _mm512_set1_epi8((char)p->qmin), flip = _mm512_set1_epi8((char)0x80);
  /* Dword 4 L + j of the packed bytes holds elements 4 L .. 4 L + 3 of vector j. */
  const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    const __m512i r0 = qkd_quant16(_mm512_loadu_ps(x + i), inv, off, asymmetric);
    const __m512i r1 = qkd_quant16(_mm512_loadu_ps(x + i + 16), inv, off, asymmetric);
    const __m512i r2 = qkd_quant16(_mm512_loadu_ps(x + i + 32), inv, off, asymmetric);
    const __m512i r3 = qkd_quant16(_mm512_loadu_ps(x + i + 48), inv, off, asymmetric);
    const __m512i b = _mm512_packs_epi16(_mm512_packs_epi32(r0, r1), _mm512_packs_epi32(r2, r3));
    const __m512i q = _mm512_max_epi8(_mm512_permutexvar_epi32(order, b), qmin);
    _mm512_storeu_si512(u + i, _mm512_xor_si512(q, flip));
  }
  /* The rest 16 at a time (short rows are common: K = 16..144), vpmovsdb saturating. */
  for (; i < n; i += 16) {
    const __m512i r = qkd_quant16(_mm512_maskz_loadu_ps(qkd_mask16(n - i), x + i), inv, off, asymmetric);
    const __m128i q = _mm_max_epi8(_mm512_cvtsepi32_epi8(r), _mm512_castsi512_si128(qmin));
    _mm_storeu_si128((__m128i *)(void *)(u + i), _mm_xor_si128(q, _mm512_castsi512_si128(flip)));
  }
}

/* Floats per chunk of the one-pass quantizer: 8 KiB, read from memory once and again from L1;
 * inputs up to QKD_ONE_PASS_MIN floats (1 MiB) are one chunk, i.e. two passes. */
enum { QKD_CHUNK = 2048, QKD_ONE_PASS_MIN = 262144 };

/* Quantizes x[0, n) into u (as qkd_quantize_with) with the parameters of the whole of x, reading
 * x about once rather than twice (a scan for the extremes, then a quantizing pass, each stream
 * from L2 or memory for an image of a few MiB). Chunk by chunk: the chunk's extremes extend the
 * running ones, and the chunk is quantized, from L1, with the parameters of the running extremes.
 * Those are the final parameters for every chunk from the last one that extended them on, so
 * only the chunks before it are quantized again at the end with the final parameters; the
 * parameters are a function of the extremes alone, so the result is the two-pass result exactly.
 * How much is redone depends on where the extremes lie: nothing when the first chunk holds them
 * (e.g. a ReLU6 output that reaches 6), everything when the last does (then one pass over L1 per
 * chunk more than two passes). An input that stays in L2 between two passes gains less from
 * this than it can lose, so up to QKD_ONE_PASS_MIN floats it is one chunk (measured on the
 * MobileNetV2 layers, hot: the 1.8 MiB ReLU6 input of a 144 -> 24 projection, 132 us in two
 * passes, 116 in chunks; the 600 KiB stem image, whose extremes lie anywhere, 199 us in two
 * passes, 219 in chunks). */
static inline qkd_qparams qkd_quantize(const float *x, size_t n, bool asymmetric, uint8_t *u) {
  const size_t chunk = n > QKD_ONE_PASS_MIN ? QKD_CHUNK : n;
  float lo = 0.0f, hi = 0.0f;
  qkd_qparams p = {0};
  size_t redo = 0; /* [0, redo) was quantized with other parameters */
  for (size_t i = 0; i < n; i += chunk) {
    const size_t c = n - i < chunk ? n - i : chunk;
    float clo = 0.0f, chi;
    qkd_extremes(x + i, c, asymmetric, &clo, &chi);
    if (i == 0 || chi > hi || (asymmetric && clo < lo)) {
      if (i == 0 || chi > hi) hi = chi;
      if (i == 0 || (asymmetric && clo < lo)) lo = clo;
      p = asymmetric ? qkd_params_asymmetric(lo, hi) : qkd_params_symmetric(hi);
      redo = i;
    }
    qkd_quantize_with(x + i, c, &p, asymmetric, u + i);
  }
  if (redo) qkd_quantize_with(x, redo, &p, asymmetric, u);
  return p;
}

/* ---- GEMM tiles ---- */

typedef struct qkd_tile {
  const qkd_elem *a; /* u8 rows, stride lda; each row readable to 4 * groups bytes */
  size_t lda, groups;
  const uint8_t *blk; /* packed block */
  size_t nv;
  int32_t c_init;     /* c_init * rowsum is added to the sums: -(128 + pad value) */
  int mode;
  const float *s_row; /* FC: scale of each row of the tile */
  const float *off_f; /* FC asymmetric: float zero point of each row */
  float s_img;        /* conv: the image's scale */
  float lo, hi;       /* activation clamp */
  float *y;
  size_t ldy;
  __mmask16 last; /* valid lanes of vector nv - 1 */
} qkd_tile;

QKD_INLINE void qkd_epilogue(const size_t mr, const size_t nv, const int mode, const qkd_tile *t, __m512i acc[][4]) {
  const __m512 *hdr = (const __m512 *)(const void *)t->blk;
  const __m512 lo = _mm512_set1_ps(t->lo), hi = _mm512_set1_ps(t->hi);
#pragma GCC unroll 12
  for (size_t r = 0; r < mr; r++) {
    const __m512 srow = _mm512_set1_ps(mode == QKD_EPI_CONV ? t->s_img : t->s_row[r]);
    const __m512 off = _mm512_set1_ps(mode == QKD_EPI_FC_ASYM ? t->off_f[r] : 0.0f);
    float *yr = t->y + r * t->ldy;
#pragma GCC unroll 4
    for (size_t j = 0; j < nv; j++) {
      const __m512 s_w = hdr[nv + j], bias = hdr[2 * nv + j];
      __m512 f = _mm512_cvtepi32_ps(acc[r][j]), v;
      if (mode == QKD_EPI_FC_ASYM) {
        /* TFLite: dotprod -= row_sum * batch_offset, in float, back into the int32 dot. */
        const __m512 rs = _mm512_cvtepi32_ps(_mm512_load_si512(t->blk + j * 64));
        f = _mm512_cvtepi32_ps(_mm512_cvttps_epi32(_mm512_sub_ps(f, qkd_mul(rs, off))));
      }
      if (mode == QKD_EPI_CONV) v = _mm512_add_ps(qkd_mul(_mm512_mul_ps(f, s_w), srow), bias);
      else v = _mm512_add_ps(bias, qkd_mul(f, _mm512_mul_ps(srow, s_w)));
      v = _mm512_min_ps(hi, _mm512_max_ps(lo, v));
      if (j + 1 < nv) _mm512_storeu_ps(yr + 16 * j, v);
      else _mm512_mask_storeu_ps(yr + 16 * j, t->last, v);
    }
  }
}

QKD_INLINE void qkd_tile_body(const size_t mr, const size_t nv, const qkd_tile *t) {
  /* Accumulators start at zero and get c_init * rowsum after the K loop. The empty asm makes each
   * zero a value of its own: GCC otherwise merges the identical starts and then spills the
   * accumulators to the stack inside the K loop (measured: 2x slower). */
  __m512i acc[QKD_MP][4];
#pragma GCC unroll 12
  for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 4
    for (size_t j = 0; j < nv; j++) {
      acc[r][j] = _mm512_setzero_si512();
      __asm__("" : "+v"(acc[r][j]));
    }
  const qkd_elem *a = t->a;
  const size_t lda = t->lda;
  const __m512i *w = (const __m512i *)(const void *)(t->blk + 3 * nv * 64);
  size_t g = t->groups;
  if (mr == 1) {
    /* One row has only nv dependency chains: split K over 4 sets to cover vpdpbusd latency. */
    __m512i more[3][4];
#pragma GCC unroll 3
    for (int s = 0; s < 3; s++)
#pragma GCC unroll 4
      for (size_t j = 0; j < nv; j++) more[s][j] = _mm512_setzero_si512();
    for (; g >= 4; g -= 4, w += 4 * nv, a += 16) {
#pragma GCC unroll 4
      for (size_t off = 0; off < 4 * nv * sizeof *w; off += 64)
        _mm_prefetch((const char *)w + QKD_PF_BYTES + off, _MM_HINT_T0);
      int32_t a4[4];
      memcpy(a4, a, 16);
#pragma GCC unroll 4
      for (size_t s = 0; s < 4; s++) {
        const __m512i b = _mm512_set1_epi32(a4[s]);
#pragma GCC unroll 4
        for (size_t j = 0; j < nv; j++) {
          __m512i *d = s ? &more[s - 1][j] : &acc[0][j];
          *d = _mm512_dpbusd_epi32(*d, b, _mm512_load_si512(w + s * nv + j));
        }
      }
    }
#pragma GCC unroll 4
    for (size_t j = 0; j < nv; j++)
      acc[0][j] = _mm512_add_epi32(_mm512_add_epi32(acc[0][j], more[0][j]), _mm512_add_epi32(more[1][j], more[2][j]));
  }
  for (; g; g--, w += nv, a += 4) {
    if (mr <= 2)
#pragma GCC unroll 4
      for (size_t j = 0; j < nv; j++) _mm_prefetch((const char *)(w + j) + QKD_PF_BYTES, _MM_HINT_T0);
    __m512i wv[4];
#pragma GCC unroll 4
    for (size_t j = 0; j < nv; j++) wv[j] = _mm512_load_si512(w + j);
#pragma GCC unroll 12
    for (size_t r = 0; r < mr; r++) {
      int32_t a4;
      memcpy(&a4, a + r * lda, 4);
      const __m512i b = _mm512_set1_epi32(a4);
#pragma GCC unroll 4
      for (size_t j = 0; j < nv; j++) acc[r][j] = _mm512_dpbusd_epi32(acc[r][j], b, wv[j]);
    }
  }
  const __m512i cinit = _mm512_set1_epi32(t->c_init);
#pragma GCC unroll 4
  for (size_t j = 0; j < nv; j++) {
    const __m512i init = _mm512_mullo_epi32(cinit, _mm512_load_si512(t->blk + j * 64));
#pragma GCC unroll 12
    for (size_t r = 0; r < mr; r++) acc[r][j] = _mm512_add_epi32(acc[r][j], init);
  }
  if (t->mode == QKD_EPI_FC) qkd_epilogue(mr, nv, QKD_EPI_FC, t, acc);
  else if (t->mode == QKD_EPI_FC_ASYM) qkd_epilogue(mr, nv, QKD_EPI_FC_ASYM, t, acc);
  else qkd_epilogue(mr, nv, QKD_EPI_CONV, t, acc);
}

/* Instantiates the tiles and the row-panel GEMM in the including file (one per variant). */
#define QKD_DEFINE_GEMM                                                                          \
  typedef void (*qkd_tile_fn)(const qkd_tile *);                                                 \
  QKD_TILE(1, 1) QKD_TILE(1, 2) QKD_TILE(1, 3) QKD_TILE(1, 4)                                    \
  QKD_TILE(2, 1) QKD_TILE(2, 2) QKD_TILE(2, 3) QKD_TILE(2, 4)                                    \
  QKD_TILE(3, 1) QKD_TILE(3, 2) QKD_TILE(3, 3) QKD_TILE(3, 4)                                    \
  QKD_TILE(4, 1) QKD_TILE(4, 2) QKD_TILE(4, 3) QKD_TILE(4, 4)                                    \
  QKD_TILE(5, 1) QKD_TILE(5, 2) QKD_TILE(5, 3) QKD_TILE(5, 4)                                    \
  QKD_TILE(6, 1) QKD_TILE(6, 2) QKD_TILE(6, 3) QKD_TILE(6, 4)                                    \
  QKD_TILE(12, 1) QKD_TILE(12, 2)                                                                \
  static const qkd_tile_fn qkd_tiles[QKD_MR + 1][4] = {                                          \
      {NULL, NULL, NULL, NULL},                                                                  \
      {qkd_tile_1x1, qkd_tile_1x2, qkd_tile_1x3, qkd_tile_1x4},                                  \
      {qkd_tile_2x1, qkd_tile_2x2, qkd_tile_2x3, qkd_tile_2x4},                                  \
      {qkd_tile_3x1, qkd_tile_3x2, qkd_tile_3x3, qkd_tile_3x4},                                  \
      {qkd_tile_4x1, qkd_tile_4x2, qkd_tile_4x3, qkd_tile_4x4},                                  \
      {qkd_tile_5x1, qkd_tile_5x2, qkd_tile_5x3, qkd_tile_5x4},                                  \
      {qkd_tile_6x1, qkd_tile_6x2, qkd_tile_6x3, qkd_tile_6x4}};                                 \
  /* Rows [0, m) of t->a against every block of the N channels at t->blk; writes y[0..m) x N. */ \
  static void qkd_gemm(qkd_tile t, size_t m, size_t N, size_t K) {                               \
    const qkd_elem *a0 = t.a;                                                      \
    const uint8_t *packed = t.blk;                                                    \
    float *y0 = t.y;                                                                             \
    const float *s0 = t.s_row, *o0 = t.off_f;                                                    \
    for (size_t m0 = 0; m0 < m; m0 += QKD_MP) {                                                  \
      const size_t mp = m - m0 < QKD_MP ? m - m0 : QKD_MP;                                       \
      t.blk = packed;                                                                            \
      for (size_t n0 = 0; n0 < N; n0 += QKD_NR) {                                                \
        t.nv = N - n0 >= QKD_NR ? 4 : qkd_last_nv(N);                                            \
        t.last = qkd_mask16(N - n0 - 16 * (t.nv - 1));                                           \
        /* 12-row tiles where they fit in registers (nv <= 2), else 6 rows at a time. */         \
        const size_t step = mp == QKD_MP && t.nv <= 2 ? QKD_MP : QKD_MR;                         \
        for (size_t r = 0; r < mp; r += step) {                                                  \
          const size_t mr = mp - r < step ? mp - r : step;                                       \
          t.a = a0 + (m0 + r) * t.lda;                                                           \
          t.y = y0 + (m0 + r) * t.ldy + n0;                                                      \
          if (s0) t.s_row = s0 + m0 + r;                                                         \
          if (o0) t.off_f = o0 + m0 + r;                                                         \
          if (mr == QKD_MP) (t.nv == 1 ? qkd_tile_12x1 : qkd_tile_12x2)(&t);                     \
          else qkd_tiles[mr][t.nv - 1](&t);                                                      \
        }                                                                                        \
        t.blk += qkd_block_bytes(t.nv, K);                                                       \
      }                                                                                          \
    }                                                                                            \
  }
#define QKD_TILE(mr, nv) \
  static void qkd_tile_##mr##x##nv(const qkd_tile *t) { qkd_tile_body(mr, nv, t); }

#endif
