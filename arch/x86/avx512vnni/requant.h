/* AVX-512 requantization shared by the int8 kernels of this folder: qk_mbqm32 (kernels/quant.c,
 * SPEC.md §1.3-1.4) on 16 int32 lanes with per-lane constants precomputed at pack time, then the
 * output zero point, the int8 narrowing and the clamp.
 *
 * Both rounding modes are evaluated as one 64-bit expression, r = (p + C) >> T with p = xs * m:
 *  - single: xs = x, C = 2^(T-1), T = 31 - shift (1..62).
 *  - double: xs = x << ls (int32 wrap), n = rs. SRDHM then RDBPOT is
 *    floor((floor((p + 2^30) / 2^31) + 2^(n-1) - [s < 0]) / 2^n), and floor(floor(a/b)/c) =
 *    floor(a/(bc)) folds it into one shift: C = 2^30 + 2^(30+n) - 2^31 [p + 2^30 < 0], T = 31 + n
 *    (n = 0: C = 2^30, T = 31). |p| < 2^62 and C <= 2^30 + 2^61, so nothing overflows; the result
 *    fits int32, so keeping the low dword is exact (single rounding truncates like TFLite's cast).
 * vpmuldq reads the low dword of each qword, so even and odd lanes take separate constant rows. */
#ifndef QK_AVX512VNNI_REQUANT_H
#define QK_AVX512VNNI_REQUANT_H

#include <immintrin.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "qk/status.h"

/* Rows of 16 dwords (64 bytes) describing one vector of 16 channels. */
enum {
  QK_RQ512_LS,  /* double: left shift per lane (dwords) */
  QK_RQ512_ME,  /* multiplier of lane 2i in the low dword of qword i */
  QK_RQ512_MO,  /* multiplier of lane 2i+1 in the low dword of qword i */
  QK_RQ512_CPE, /* C (qwords) for even / odd lanes when p + 2^30 >= 0 */
  QK_RQ512_CPO,
  QK_RQ512_CNE, /* C when p + 2^30 < 0 (double rounding only) */
  QK_RQ512_CNO,
  QK_RQ512_TE, /* T (qwords) for even / odd lanes */
  QK_RQ512_TO,
  QK_RQ512_ROWS
};
#define QK_RQ512_BYTES (QK_RQ512_ROWS * 64)

/* Stores qword i of the constants (rows are viewed as qwords for the 64-bit lanes). */
static inline void qk_rq512_put64(int32_t *c, int i, int64_t v) { memcpy(c + 2 * i, &v, sizeof v); }

/* Pack time: constants for 16 lanes; m[l], shift[l] of lane l (padding lanes: m = 0, shift = 0). */
static inline void qk_rq512_prepare(int32_t *c, const int32_t *m, const int32_t *shift,
                                    qk_rounding mode) {
  for (int l = 0; l < 16; l++) {
    const int s = shift[l], half = l >> 1, odd = l & 1;
    int64_t cpos, cneg, t;
    int32_t ls = 0;
    if (mode == QK_ROUND_SINGLE) {
      t = 31 - s;
      cpos = cneg = INT64_C(1) << (t - 1);
    } else {
      const int n = s < 0 ? -s : 0;
      ls = s > 0 ? s : 0;
      t = 31 + n;
      cpos = (INT64_C(1) << 30) + (n ? INT64_C(1) << (30 + n) : 0);
      cneg = cpos - (n ? INT64_C(1) << 31 : 0);
    }
    c[QK_RQ512_LS * 16 + l] = ls;
    c[(odd ? QK_RQ512_MO : QK_RQ512_ME) * 16 + 2 * half] = m[l];
    c[(odd ? QK_RQ512_MO : QK_RQ512_ME) * 16 + 2 * half + 1] = 0;
    qk_rq512_put64(c, (odd ? QK_RQ512_CPO : QK_RQ512_CPE) * 8 + half, cpos);
    qk_rq512_put64(c, (odd ? QK_RQ512_CNO : QK_RQ512_CNE) * 8 + half, cneg);
    qk_rq512_put64(c, (odd ? QK_RQ512_TO : QK_RQ512_TE) * 8 + half, t);
  }
}

/* Run time: requantize 16 int32 accumulators with the constants c (64-byte aligned). The double
 * rounding takes left_shift = false when every lane's ls is 0 (qk_rq512_any_left_shift), which
 * saves a shift per vector for the usual multipliers below 1. */
static inline __m512i qk_rq512_double(__m512i acc, const void *c, bool left_shift) {
  const __m512i *v = (const __m512i *)c;
  const __m512i lim = _mm512_set1_epi64(-(INT64_C(1) << 30));
  const __m512i xs = left_shift ? _mm512_sllv_epi32(acc, v[QK_RQ512_LS]) : acc;
  const __m512i pe = _mm512_mul_epi32(xs, v[QK_RQ512_ME]);
  const __m512i po = _mm512_mul_epi32(_mm512_srli_epi64(xs, 32), v[QK_RQ512_MO]);
  const __mmask8 ne = _mm512_cmplt_epi64_mask(pe, lim), no = _mm512_cmplt_epi64_mask(po, lim);
  __m512i re = _mm512_mask_add_epi64(_mm512_add_epi64(pe, v[QK_RQ512_CPE]), ne, pe, v[QK_RQ512_CNE]);
  __m512i ro = _mm512_mask_add_epi64(_mm512_add_epi64(po, v[QK_RQ512_CPO]), no, po, v[QK_RQ512_CNO]);
  re = _mm512_srav_epi64(re, v[QK_RQ512_TE]);
  ro = _mm512_srav_epi64(ro, v[QK_RQ512_TO]);
  return _mm512_mask_shuffle_epi32(re, 0xAAAA, ro, _MM_PERM_CDAB);
}

/* Whether any lane of the nv vectors of constants at c (QK_RQ512_BYTES apart) shifts left. */
static inline bool qk_rq512_any_left_shift(const void *c, size_t nv) {
  __m512i any = _mm512_setzero_si512();
  for (size_t j = 0; j < nv; j++)
    any = _mm512_or_si512(any, ((const __m512i *)((const char *)c + j * QK_RQ512_BYTES))[QK_RQ512_LS]);
  return _mm512_test_epi32_mask(any, any) != 0;
}

static inline __m512i qk_rq512_single(__m512i acc, const void *c) {
  const __m512i *v = (const __m512i *)c;
  const __m512i pe = _mm512_mul_epi32(acc, v[QK_RQ512_ME]);
  const __m512i po = _mm512_mul_epi32(_mm512_srli_epi64(acc, 32), v[QK_RQ512_MO]);
  const __m512i re = _mm512_srav_epi64(_mm512_add_epi64(pe, v[QK_RQ512_CPE]), v[QK_RQ512_TE]);
  const __m512i ro = _mm512_srav_epi64(_mm512_add_epi64(po, v[QK_RQ512_CPO]), v[QK_RQ512_TO]);
  return _mm512_mask_shuffle_epi32(re, 0xAAAA, ro, _MM_PERM_CDAB);
}

/* Four vectors of int32 results to 64 int8 with saturation, then the clamp (see below). */
static inline __m512i qk_rq512_pack8(__m512i v0, __m512i v1, __m512i v2, __m512i v3, __m512i lo, __m512i hi) {
  const __m512i b = _mm512_packs_epi16(_mm512_packs_epi32(v0, v1), _mm512_packs_epi32(v2, v3));
  return _mm512_min_epi8(_mm512_max_epi8(b, lo), hi);
}

/* Output zero point (int32 wrap, as the reference), then int8 with saturation, then the clamp:
 * the clamp lies inside [-128, 127], so clamping the saturated value equals clamping the int32.
 * The 128-bit-lane packs interleave their inputs: byte 16i + 4j + q comes from lane 4i + q of vj.
 * Kernels store channel qk_rq512_channel(nv, j, l) in lane l of vector j so that the bytes come
 * out in channel order: no permute for 4 vectors, one vpermd (qk_rq512_gather) for fewer. */
static inline __m512i qk_rq512_narrow(__m512i v0, __m512i v1, __m512i v2, __m512i v3, __m512i zp,
                                      __m512i lo, __m512i hi) {
  return qk_rq512_pack8(_mm512_add_epi32(v0, zp), _mm512_add_epi32(v1, zp), _mm512_add_epi32(v2, zp),
                        _mm512_add_epi32(v3, zp), lo, hi);
}

/* Channel (within its block) held by lane l of vector j when a block has nv vectors. */
static inline int qk_rq512_channel(int nv, int j, int l) { return 4 * nv * (l >> 2) + 4 * j + (l & 3); }

/* For nv < 4 vectors narrowed as (v0, v1, v2, v3) with the missing ones repeated: moves the nv
 * valid dwords of each 128-bit lane to the front, in channel order. */
static inline __m512i qk_rq512_gather(__m512i bytes, int nv) {
  static const int32_t idx[3][16] = {
      {0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      {0, 1, 4, 5, 8, 9, 12, 13, 0, 0, 0, 0, 0, 0, 0, 0},
      {0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, 0, 0, 0, 0},
  };
  return _mm512_permutexvar_epi32(_mm512_loadu_si512(idx[nv - 1]), bytes);
}

#endif
