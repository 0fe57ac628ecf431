/* Requantization by one double-precision FMA per 8 lanes, for int8 GEMM blocks whose pack proves
 * it exact for every accumulator the block can produce; requant.h remains the general path.
 *
 * The accumulator of a channel lies in [lo, hi] = bias + sum_k (x - zp_in) w_k over x in
 * [-128, 127], known at pack time. The reference's result is R = floor((acc m + C) / 2^T):
 *  - single rounding: T = 31 - shift, C = 2^(T-1);
 *  - double rounding: T = 31 + n (n = -shift), C = 2^30 + 2^(30+n) [n > 0] for acc >= 0 and
 *    2^31 less for acc < 0 (requant.h derives the merged floor).
 * The pack solves B m = C (mod 2^T) (m's odd part is invertible mod 2^(T - ctz m), and C is a
 * multiple of 2^30 >= 2^ctz m) and sets k = floor(B m / 2^T), so R = floor((acc + B) m / 2^T) - k.
 * The accumulator starts from bias + D, D = B mod 2^32, and the pack checks acc + D never leaves
 * [0, 2^32): then the dword acc + D under the high dword 0x43300000 + (B >> 32) is the double
 * 2^52 + acc + B exactly, and
 *     fma(2^52 + acc + B, m 2^-T, 1.5 2^52 - m 2^(52-T) - k + zp_out), rounded toward -inf,
 * is 1.5 2^52 + R + zp_out: one rounding of the exact value onto the integer grid of
 * [2^52, 2^53), whose low dword is R + zp_out. Every term is an integer below 2^53 (T <= 52).
 *
 * Double rounding needs the sign of acc. Under a ReLU-like clamp (act_min >= zp_out) it does not:
 * for acc < 0 the C of acc >= 0 also gives R <= 0, and the clamp maps both to act_min (FAST).
 * Otherwise SYM works on |acc| and negates: both roundings are odd-symmetric except where
 * |acc| m + C = 0 (mod 2^T), and the pack proves no |acc| <= -lo lands there. acc + D < D exactly
 * when acc < 0, and then |acc| + D = 2D - (acc + D). Single rounding needs neither (FAST).
 * SYM0 serves blocks where acc + D would leave [0, 2^32) but |acc| + D does not (single
 * rounding's D is 0 whenever T - ctz m > 32): the accumulator starts from the plain bias, and
 * |acc| + D comes from vpabsd. */
#ifndef QK_AVX512VNNI_REQUANT_FMA_H
#define QK_AVX512VNNI_REQUANT_FMA_H

#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "qk/status.h"

/* Rows of 64 bytes describing one vector of 16 channels. */
enum {
  QK_FQ_EE, /* dword 2i+1: high dword of the FMA operand of lane 2i */
  QK_FQ_EO, /* dword 2i+1: the same for lane 2i+1 */
  QK_FQ_SE, /* double i: m 2^-T of lane 2i */
  QK_FQ_SO, /* ... of lane 2i+1 */
  QK_FQ_CE, /* double i: the FMA addend of lane 2i */
  QK_FQ_CO,
  QK_FQ_D,  /* dwords: D */
  QK_FQ_D2, /* dwords: 2D */
  QK_FQ_ROWS
};
#define QK_FQ512_BYTES (QK_FQ_ROWS * 64)

/* What one channel allows. */
typedef struct qk_fq_lane {
  uint32_t d, e;
  double s, c;
  bool fast, sym, sym0;
} qk_fq_lane;

__extension__ typedef unsigned __int128 qk_fq_u128;

static inline uint64_t qk_fq_inverse(uint64_t a) { /* a odd: inverse mod 2^64 by Newton */
  uint64_t x = a;
  for (int i = 0; i < 6; i++) x *= 2 - a * x;
  return x;
}

/* Pack time: constants of a channel (m >= 0) whose true accumulator lies in [lo, hi]. */
static inline qk_fq_lane qk_fq_lane_constants(int32_t m, int shift, qk_rounding mode, int64_t lo,
                                              int64_t hi, int32_t zp) {
  const double magic = 6755399441055744.0; /* 1.5 * 2^52 */
  qk_fq_lane r = {0, 0x43300000u, 0.0, magic + zp, false, false, false};
  /* Bounds past 2^30 would let the reference's int32 sum wrap; left shifts wrap too (double) or
   * leave C below 2^30 (single). */
  if (lo < -(INT64_C(1) << 30) || hi > (INT64_C(1) << 30)) return r;
  if (m == 0) { /* R = floor(C / 2^T) = 0 for every acc, and s = 0 gives exactly that */
    r.fast = r.sym = r.sym0 = true;
    return r;
  }
  if (shift > 0) return r;
  const int T = 31 - shift; /* both modes */
  const uint64_t C = mode == QK_ROUND_SINGLE ? UINT64_C(1) << (T - 1)
                                             : (UINT64_C(1) << 30) + (shift ? UINT64_C(1) << (30 - shift) : 0);
  if (T > 52) return r;
  const int v = __builtin_ctz((uint32_t)m), tv = T - v;
  const uint64_t mask = (UINT64_C(1) << tv) - 1, inv = qk_fq_inverse((uint64_t)m >> v);
  uint64_t B = ((C >> v) * inv) & mask;
  /* Below 2^32 the class of B has room: lift B so that acc + B stays non-negative. */
  if (tv < 32 && lo < 0 && B < (uint64_t)-lo) B += ((uint64_t)-lo - B + mask) >> tv << tv;
  const int64_t amax = hi > -lo ? hi : -lo;
  if (B + (uint64_t)amax >= (UINT64_C(1) << 52)) return r;
  const uint64_t k = (uint64_t)(((qk_fq_u128)B * (uint64_t)m) >> T);
  r.d = (uint32_t)B;
  r.e = 0x43300000u + (uint32_t)(B >> 32);
  r.s = (double)m / (double)(UINT64_C(1) << T);
  r.c = magic - (double)((uint64_t)m << (52 - T)) - (double)k + zp;
  /* Smallest a >= 1 with a m + C = 0 (mod 2^T); C < 2^T, so it is not 0 mod 2^tv. */
  const uint64_t amin = ((0 - (C >> v)) * inv) & mask;
  const int64_t d = r.d;
  r.fast = d + lo >= 0 && d + hi < (INT64_C(1) << 32);
  const bool tie_free = (int64_t)amin > -lo;
  r.sym = r.fast && tie_free && d - lo < (INT64_C(1) << 32);
  r.sym0 = tie_free && d + amax < (INT64_C(1) << 32);
  return r;
}

/* Stores lane l's constants into the rows of its vector. */
static inline void qk_fq_put(void *rows, int l, const qk_fq_lane *f) {
  uint8_t *b = rows;
  const int half = l >> 1, odd = l & 1;
  const uint32_t d2 = 2 * f->d;
  memcpy(b + (odd ? QK_FQ_EO : QK_FQ_EE) * 64 + (2 * half + 1) * 4, &f->e, 4);
  memcpy(b + (odd ? QK_FQ_SO : QK_FQ_SE) * 64 + half * 8, &f->s, 8);
  memcpy(b + (odd ? QK_FQ_CO : QK_FQ_CE) * 64 + half * 8, &f->c, 8);
  memcpy(b + QK_FQ_D * 64 + l * 4, &f->d, 4);
  memcpy(b + QK_FQ_D2 * 64 + l * 4, &d2, 4);
}

/* One vector's constants, loaded once and applied to many rows. */
typedef struct qk_fq_regs {
  __m512i ee, eo, d, d2;
  __m512d se, so, ce, co;
} qk_fq_regs;

static inline qk_fq_regs qk_fq_load(const void *c) {
  const __m512i *v = (const __m512i *)c;
  return (qk_fq_regs){v[QK_FQ_EE], v[QK_FQ_EO], v[QK_FQ_D], v[QK_FQ_D2],
                      _mm512_castsi512_pd(v[QK_FQ_SE]), _mm512_castsi512_pd(v[QK_FQ_SO]),
                      _mm512_castsi512_pd(v[QK_FQ_CE]), _mm512_castsi512_pd(v[QK_FQ_CO])};
}

/* a = acc + D (or |acc| + D) to R + zp_out. */
static inline __m512i qk_fq_core(__m512i a, const qk_fq_regs *k) {
  const __m512i ae = _mm512_mask_mov_epi32(k->ee, 0x5555, a);
  const __m512i ao = _mm512_mask_shuffle_epi32(k->eo, 0x5555, a, _MM_PERM_CDAB);
  /* A literal rounding operand: the -O0 sanitizer build rejects a const variable. */
  const __m512d ye = _mm512_fmadd_round_pd(_mm512_castsi512_pd(ae), k->se, k->ce,
                                           _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  const __m512d yo = _mm512_fmadd_round_pd(_mm512_castsi512_pd(ao), k->so, k->co,
                                           _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  return _mm512_mask_shuffle_epi32(_mm512_castpd_si512(ye), 0xAAAA, _mm512_castpd_si512(yo), _MM_PERM_CCAA);
}

/* SYM: acc + D to sign(acc) R(|acc|) + zp_out; zp2 = 2 zp_out. */
static inline __m512i qk_fq_sym(__m512i a, const qk_fq_regs *k, __m512i zp2) {
  const __mmask16 neg = _mm512_cmplt_epu32_mask(a, k->d);
  const __m512i r = qk_fq_core(_mm512_mask_sub_epi32(a, neg, k->d2, a), k);
  return _mm512_mask_sub_epi32(r, neg, zp2, r);
}

/* SYM0: plain acc to sign(acc) R(|acc|) + zp_out. */
static inline __m512i qk_fq_sym0(__m512i acc, const qk_fq_regs *k, __m512i zp2) {
  const __mmask16 neg = _mm512_movepi32_mask(acc);
  const __m512i r = qk_fq_core(_mm512_add_epi32(_mm512_abs_epi32(acc), k->d), k);
  return _mm512_mask_sub_epi32(r, neg, zp2, r);
}

#endif
