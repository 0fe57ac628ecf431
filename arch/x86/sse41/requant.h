/* SSE4.1 requantization of int32 accumulators to int8 (SPEC.md §1.3/§1.4), bit-exact with
 * qk_mbqm32 followed by the int32-wrapping output zero point. One xmm holds 4 output channels,
 * lane i = channel i; each channel's multiplier and shift become constants at pack time
 * (qk_sse41_rq4_init), so the per-vector work has no branches.
 *
 * Both rounding modes become one computation on a 64-bit product P = x'*m + R:
 *   result = floor(P / 2^T) truncated to int32.
 *   - single: x' = x, T = 31 - shift, R = 2^(T-1).
 *   - double: x' = x << ls (wrapping int32), T = 31 + rs, R = 2^30 for rs == 0, else
 *     R = 2^30 + 2^(30+rs) - [P<0]*2^31. That is SRDHM's floor((x'm + 2^30) / 2^31) followed by
 *     RDBPOT written as floor((s + 2^(rs-1) - [s<0]) / 2^rs), the two floors merged into one.
 *     [s<0] may be replaced by [x'm<0]: they differ only when s == 0, where both give 0.
 * SSE has neither a 64-bit arithmetic shift nor per-lane shift counts. R carries a bias of 2^63
 * that makes P non-negative as an unsigned number, so a logical shift works; it overshoots by
 * exactly 2^(63-T) (0 mod 2^32 when T < 32), subtracted in int32 together with the output zero
 * point (one add). Two ways to shift each lane by its own count:
 *   - general: psrlq once per 64-bit lane with that lane's count, then blends;
 *   - when every shift is <= -1 (T >= 32, ls == 0; the usual case, multipliers below one): take
 *     u = P >> 32, a uint32, and shift it right by T - 32 as a multiply: floor(u * 2^(63-T) / 2^31)
 *     with pmuludq. Cheaper: psrlq with a register count costs 2 uops on Intel, pmulld too.
 * In the general path the left shift x << ls is a pmulld by 2^ls, exact in the wrapping sense. */
#ifndef QK_ARCH_SSE41_REQUANT_H
#define QK_ARCH_SSE41_REQUANT_H

#include <smmintrin.h>
#include <stddef.h>
#include <stdint.h>

#include "qk/status.h"

/* Constants for 4 channels; each field is a multiple of 16 bytes, so is the struct. */
typedef struct qk_sse41_rq4 {
  _Alignas(16) int32_t pow2ls[4]; /* double: 2^ls */
  int32_t m[4];                   /* pmuldq reads dwords 0 and 2: channels 0 and 2 */
  int32_t m_odd[4];               /* dword 2j holds m of channel 2j+1 */
  int64_t d_rpos_e[2], d_rneg_e[2], d_rpos_o[2], d_rneg_o[2]; /* double R (+2^63), by sign of P */
  int64_t d_t[4][2];              /* double: channel i's shift count in d_t[i][0] (psrlq form) */
  int32_t d_corr[4];              /* -2^(63-T) mod 2^32 */
  uint32_t d_c[4], d_c_odd[4];    /* double, fast path: 2^(63-T), odd channels as m_odd */
  int64_t s_r_e[2], s_r_o[2];     /* single R (+2^63) */
  int64_t s_t[4][2];
  int32_t s_corr[4];
  uint32_t s_c[4], s_c_odd[4];
  int32_t fast;                   /* every shift <= -1: qk_sse41_requant_*_fast() apply */
  int32_t pad_[3];
} qk_sse41_rq4;

static inline uint32_t qk_sse41_pow2_mod32(int e) { return e < 32 ? UINT32_C(1) << e : 0; }

/* Channels [n, 4) are padding: multiplier 0 gives 0 there, and shift -1 keeps the fast path.
 * Both modes are stored so run() can honour the descriptor's rounding without repacking. */
static inline void qk_sse41_rq4_init(qk_sse41_rq4 *p, const int32_t *multiplier, const int32_t *shift,
                                     size_t n) {
  p->fast = 1;
  p->pad_[0] = p->pad_[1] = p->pad_[2] = 0;
  for (size_t i = 0; i < 4; i++) {
    const int32_t m = i < n ? multiplier[i] : 0;
    const int sh = i < n ? shift[i] : -1;
    const size_t q = i / 2;
    const int odd = (int)(i & 1);
    if (sh > -1) p->fast = 0;
    p->m[i] = m;
    p->m_odd[i] = 0;
    if (odd) p->m_odd[i - 1] = m;

    const int ls = sh > 0 ? sh : 0, rs = sh > 0 ? 0 : -sh;
    const int td = 31 + rs;
    const uint64_t rpos = (UINT64_C(1) << 63) + (UINT64_C(1) << 30) + (rs ? UINT64_C(1) << (30 + rs) : 0);
    const uint64_t rneg = rpos - (rs ? UINT64_C(1) << 31 : 0);
    p->pow2ls[i] = (int32_t)(UINT32_C(1) << ls);
    p->d_t[i][0] = td;
    p->d_t[i][1] = 0;
    p->d_corr[i] = (int32_t)(0u - qk_sse41_pow2_mod32(63 - td));
    p->d_c[i] = qk_sse41_pow2_mod32(63 - td);
    p->d_c_odd[i] = 0;
    if (odd) p->d_c_odd[i - 1] = p->d_c[i];
    const int ts = 31 - sh;
    const uint64_t rs1 = (UINT64_C(1) << 63) + (UINT64_C(1) << (ts - 1));
    p->s_t[i][0] = ts;
    p->s_t[i][1] = 0;
    p->s_corr[i] = (int32_t)(0u - qk_sse41_pow2_mod32(63 - ts));
    p->s_c[i] = qk_sse41_pow2_mod32(63 - ts);
    p->s_c_odd[i] = 0;
    if (odd) p->s_c_odd[i - 1] = p->s_c[i];
    if (odd) {
      p->d_rpos_o[q] = (int64_t)rpos;
      p->d_rneg_o[q] = (int64_t)rneg;
      p->s_r_o[q] = (int64_t)rs1;
    } else {
      p->d_rpos_e[q] = (int64_t)rpos;
      p->d_rneg_e[q] = (int64_t)rneg;
      p->s_r_e[q] = (int64_t)rs1;
    }
  }
}

#define QK_SSE41_LD(field) _mm_load_si128((const __m128i *)(const void *)(field))

/* The per-vector constant that follows the shift: overshoot correction plus output zero point. */
static inline __m128i qk_sse41_rq4_offset(const qk_sse41_rq4 *p, qk_rounding mode, int32_t output_zp) {
  return _mm_add_epi32(QK_SSE41_LD(mode == QK_ROUND_SINGLE ? p->s_corr : p->d_corr),
                       _mm_set1_epi32(output_zp));
}

/* Shifts P's 64-bit lanes (even: channels 0, 2; odd: 1, 3) by their channels' counts and
 * reassembles the low dwords in channel order. */
static inline __m128i qk_sse41_rq4_shift(__m128i pe, __m128i po, const int64_t (*t)[2]) {
  const __m128i e0 = _mm_srl_epi64(pe, QK_SSE41_LD(t[0])), e2 = _mm_srl_epi64(pe, QK_SSE41_LD(t[2]));
  const __m128i o1 = _mm_srl_epi64(po, QK_SSE41_LD(t[1])), o3 = _mm_srl_epi64(po, QK_SSE41_LD(t[3]));
  const __m128i e = _mm_blend_epi16(e0, e2, 0xF0), o = _mm_blend_epi16(o1, o3, 0xF0);
  return _mm_blend_epi16(e, _mm_slli_epi64(o, 32), 0xCC);
}

/* Even and odd 64-bit products P of the 4 lanes (channels 0, 2 and 1, 3), with R added. */
static inline void qk_sse41_rq4_product_double(__m128i xs, const qk_sse41_rq4 *p, __m128i *pe, __m128i *po) {
  const __m128i xo = _mm_shuffle_epi32(xs, _MM_SHUFFLE(3, 3, 1, 1));
  const __m128i e = _mm_mul_epi32(xs, QK_SSE41_LD(p->m));
  const __m128i o = _mm_mul_epi32(xo, QK_SSE41_LD(p->m_odd));
  /* blendvpd picks by bit 63: the sign of the product, the [x'm<0] term above. */
  const __m128d re = _mm_blendv_pd(_mm_castsi128_pd(QK_SSE41_LD(p->d_rpos_e)),
                                   _mm_castsi128_pd(QK_SSE41_LD(p->d_rneg_e)), _mm_castsi128_pd(e));
  const __m128d ro = _mm_blendv_pd(_mm_castsi128_pd(QK_SSE41_LD(p->d_rpos_o)),
                                   _mm_castsi128_pd(QK_SSE41_LD(p->d_rneg_o)), _mm_castsi128_pd(o));
  *pe = _mm_add_epi64(e, _mm_castpd_si128(re));
  *po = _mm_add_epi64(o, _mm_castpd_si128(ro));
}

static inline void qk_sse41_rq4_product_single(__m128i x, const qk_sse41_rq4 *p, __m128i *pe, __m128i *po) {
  const __m128i xo = _mm_shuffle_epi32(x, _MM_SHUFFLE(3, 3, 1, 1));
  *pe = _mm_add_epi64(_mm_mul_epi32(x, QK_SSE41_LD(p->m)), QK_SSE41_LD(p->s_r_e));
  *po = _mm_add_epi64(_mm_mul_epi32(xo, QK_SSE41_LD(p->m_odd)), QK_SSE41_LD(p->s_r_o));
}

/* Fast path shift, T >= 32: u = P >> 32 per lane, then floor(u * c / 2^31) with c = 2^(63-T). */
static inline __m128i qk_sse41_rq4_shift_fast(__m128i pe, __m128i po, const uint32_t *c, const uint32_t *c_odd) {
  const __m128i u = _mm_blend_epi16(_mm_srli_epi64(pe, 32), po, 0xCC);
  const __m128i uo = _mm_shuffle_epi32(u, _MM_SHUFFLE(3, 3, 1, 1));
  const __m128i e = _mm_srli_epi64(_mm_mul_epu32(u, QK_SSE41_LD(c)), 31);
  const __m128i o = _mm_slli_epi64(_mm_mul_epu32(uo, QK_SSE41_LD(c_odd)), 1);
  return _mm_blend_epi16(e, o, 0xCC);
}

/* All return MBQM32(acc, m, shift) + output_zp (wrapping), given offset = qk_sse41_rq4_offset().
 * The _fast forms require p->fast. */
static inline __m128i qk_sse41_requant_double(__m128i acc, const qk_sse41_rq4 *p, __m128i offset) {
  __m128i pe, po;
  qk_sse41_rq4_product_double(_mm_mullo_epi32(acc, QK_SSE41_LD(p->pow2ls)), p, &pe, &po);
  return _mm_add_epi32(qk_sse41_rq4_shift(pe, po, p->d_t), offset);
}

static inline __m128i qk_sse41_requant_single(__m128i acc, const qk_sse41_rq4 *p, __m128i offset) {
  __m128i pe, po;
  qk_sse41_rq4_product_single(acc, p, &pe, &po);
  return _mm_add_epi32(qk_sse41_rq4_shift(pe, po, p->s_t), offset);
}

static inline __m128i qk_sse41_requant_double_fast(__m128i acc, const qk_sse41_rq4 *p, __m128i offset) {
  __m128i pe, po;
  qk_sse41_rq4_product_double(acc, p, &pe, &po);
  return _mm_add_epi32(qk_sse41_rq4_shift_fast(pe, po, p->d_c, p->d_c_odd), offset);
}

static inline __m128i qk_sse41_requant_single_fast(__m128i acc, const qk_sse41_rq4 *p, __m128i offset) {
  __m128i pe, po;
  qk_sse41_rq4_product_single(acc, p, &pe, &po);
  return _mm_add_epi32(qk_sse41_rq4_shift_fast(pe, po, p->s_c, p->s_c_odd), offset);
}

#endif
