/* AVX2 requantization shared by the int8 kernels of this folder: qk_mbqm32 (kernels/quant.c,
 * SPEC.md §1.3-1.4) on 8 int32 lanes with per-lane constants precomputed at pack time, then the
 * output zero point, the int8 narrowing and the clamp.
 *
 * Both rounding modes are one 64-bit expression, r = (p + C) >> T with p = xs * m:
 *  - single: xs = x, C = 2^(T-1), T = 31 - shift (1..62).
 *  - double: xs = x << ls (int32 wrap), n = rs. SRDHM then RDBPOT is
 *    floor((floor((p + 2^30) / 2^31) + 2^(n-1) - [s < 0]) / 2^n), and floor(floor(a/b)/c) =
 *    floor(a/(bc)) folds it into one shift: C = 2^30 + 2^(30+n) - 2^31 [p < -2^30], T = 31 + n
 *    (n = 0: C = 2^30, T = 31, no correction: its compare limit is INT64_MIN).
 * AVX2 has no 64-bit arithmetic shift: C also carries +2^62, which makes p + C non-negative
 * (|p| < 2^62, C <= 2^30 + 2^61, and below 2^64), so a logical shift gives floor() + 2^(62-T);
 * the low dword is then corrected by -2^(62-T) (mod 2^32), folded with the output zero point.
 * vpmuldq reads the low dword of each qword, so even and odd lanes take separate constants. */
#ifndef QK_AVXVNNI_REQUANT_H
#define QK_AVXVNNI_REQUANT_H

#include <immintrin.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "qk/status.h"

/* Rows of 8 dwords (32 bytes) describing one vector of 8 channels. */
enum {
  QK_RQ256_LS,   /* double: left shift per lane (dwords) */
  QK_RQ256_ME,   /* multiplier of lane 2i in the low dword of qword i */
  QK_RQ256_MO,   /* multiplier of lane 2i+1 in the low dword of qword i */
  QK_RQ256_CE,   /* C + 2^62 (qwords) for even / odd lanes */
  QK_RQ256_CO,
  QK_RQ256_LIME, /* p below this limit takes C - 2^31 (qwords) */
  QK_RQ256_LIMO,
  QK_RQ256_TE,   /* T (qwords) */
  QK_RQ256_TO,
  QK_RQ256_D,    /* 2^(62-T) mod 2^32 (dwords) */
  QK_RQ256_ROWS
};
#define QK_RQ256_BYTES (QK_RQ256_ROWS * 32)

/* Stores qword i of the constants (rows are viewed as qwords for the 64-bit lanes). */
static inline void qk_rq256_put64(int32_t *c, int i, int64_t v) { memcpy(c + 2 * i, &v, sizeof v); }

/* Pack time: constants for 8 lanes; m[l], shift[l] of lane l (padding lanes: m = 0, shift = 0). */
static inline void qk_rq256_prepare(int32_t *c, const int32_t *m, const int32_t *shift,
                                    qk_rounding mode) {
  for (int l = 0; l < 8; l++) {
    const int s = shift[l], half = l >> 1, odd = l & 1;
    int64_t cc, lim = INT64_MIN, t;
    int32_t ls = 0;
    if (mode == QK_ROUND_SINGLE) {
      t = 31 - s;
      cc = INT64_C(1) << (t - 1);
    } else {
      const int n = s < 0 ? -s : 0;
      ls = s > 0 ? s : 0;
      t = 31 + n;
      cc = (INT64_C(1) << 30) + (n ? INT64_C(1) << (30 + n) : 0);
      if (n) lim = -(INT64_C(1) << 30);
    }
    c[QK_RQ256_LS * 8 + l] = ls;
    c[(odd ? QK_RQ256_MO : QK_RQ256_ME) * 8 + 2 * half] = m[l];
    c[(odd ? QK_RQ256_MO : QK_RQ256_ME) * 8 + 2 * half + 1] = 0;
    const int64_t biased = (int64_t)((uint64_t)cc + (UINT64_C(1) << 62));
    qk_rq256_put64(c, (odd ? QK_RQ256_CO : QK_RQ256_CE) * 4 + half, biased);
    qk_rq256_put64(c, (odd ? QK_RQ256_LIMO : QK_RQ256_LIME) * 4 + half, lim);
    qk_rq256_put64(c, (odd ? QK_RQ256_TO : QK_RQ256_TE) * 4 + half, t);
    c[QK_RQ256_D * 8 + l] = (int32_t)(uint32_t)(UINT64_C(1) << (62 - t));
  }
}

/* Per tile: the value added to every requantized lane, output_zp - 2^(62-T) (int32 wrap). */
static inline __m256i qk_rq256_offset(const void *c, __m256i zp) {
  return _mm256_sub_epi32(zp, ((const __m256i *)c)[QK_RQ256_D]);
}

static inline __m256i qk_rq256_merge(__m256i re, __m256i ro) {
  return _mm256_blend_epi32(re, _mm256_slli_epi64(ro, 32), 0xAA);
}

/* Run time: requantize 8 int32 accumulators with the constants c (32-byte aligned); the result
 * still lacks qk_rq256_offset(). The double rounding takes left_shift = false when every lane's
 * ls is 0 (qk_rq256_any_left_shift), which saves a shift per vector for multipliers below 1. */
static inline __m256i qk_rq256_double(__m256i acc, const void *c, bool left_shift) {
  const __m256i *v = (const __m256i *)c;
  const __m256i corr = _mm256_set1_epi64x(-(INT64_C(1) << 31));
  const __m256i xs = left_shift ? _mm256_sllv_epi32(acc, v[QK_RQ256_LS]) : acc;
  const __m256i pe = _mm256_mul_epi32(xs, v[QK_RQ256_ME]);
  const __m256i po = _mm256_mul_epi32(_mm256_srli_epi64(xs, 32), v[QK_RQ256_MO]);
  const __m256i ne = _mm256_and_si256(_mm256_cmpgt_epi64(v[QK_RQ256_LIME], pe), corr);
  const __m256i no = _mm256_and_si256(_mm256_cmpgt_epi64(v[QK_RQ256_LIMO], po), corr);
  const __m256i re = _mm256_add_epi64(_mm256_add_epi64(pe, v[QK_RQ256_CE]), ne);
  const __m256i ro = _mm256_add_epi64(_mm256_add_epi64(po, v[QK_RQ256_CO]), no);
  return qk_rq256_merge(_mm256_srlv_epi64(re, v[QK_RQ256_TE]), _mm256_srlv_epi64(ro, v[QK_RQ256_TO]));
}

/* Whether any lane of the nv vectors of constants at c (QK_RQ256_BYTES apart) shifts left. */
static inline bool qk_rq256_any_left_shift(const void *c, size_t nv) {
  __m256i any = _mm256_setzero_si256();
  for (size_t j = 0; j < nv; j++)
    any = _mm256_or_si256(any, ((const __m256i *)((const char *)c + j * QK_RQ256_BYTES))[QK_RQ256_LS]);
  return !_mm256_testz_si256(any, any);
}

static inline __m256i qk_rq256_single(__m256i acc, const void *c) {
  const __m256i *v = (const __m256i *)c;
  const __m256i pe = _mm256_mul_epi32(acc, v[QK_RQ256_ME]);
  const __m256i po = _mm256_mul_epi32(_mm256_srli_epi64(acc, 32), v[QK_RQ256_MO]);
  const __m256i re = _mm256_srlv_epi64(_mm256_add_epi64(pe, v[QK_RQ256_CE]), v[QK_RQ256_TE]);
  const __m256i ro = _mm256_srlv_epi64(_mm256_add_epi64(po, v[QK_RQ256_CO]), v[QK_RQ256_TO]);
  return qk_rq256_merge(re, ro);
}

/* Two rows of up to 16 channels (vectors a0 a1 of row A, b0 b1 of row B, offsets already added)
 * to int8 with saturation, then the clamp (inside [-128, 127], so clamping the saturated value
 * equals clamping the int32). Row A's bytes land in the low 128 bits, row B's in the high; within
 * a row byte 8i + 4j + q comes from lane 4i + q of vector j (qk_rq256_channel). */
static inline __m256i qk_rq256_narrow2(__m256i a0, __m256i a1, __m256i b0, __m256i b1, __m256i lo,
                                       __m256i hi) {
  const __m256i w = _mm256_packs_epi16(_mm256_packs_epi32(a0, a1), _mm256_packs_epi32(b0, b1));
  const __m256i r = _mm256_permute4x64_epi64(w, 0xD8);
  return _mm256_min_epi8(_mm256_max_epi8(r, lo), hi);
}

/* Channel (within its block) held by lane l of vector j when a block has nv (1 or 2) vectors. */
static inline int qk_rq256_channel(int nv, int j, int l) { return 4 * nv * (l >> 2) + 4 * j + (l & 3); }

#endif
