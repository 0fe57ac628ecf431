/* AVX2 requantization of int32 accumulators to int8 (SPEC.md §1.3/§1.4), bit-exact with
 * qk_mbqm32 followed by the int32-wrapping output zero point. One ymm holds 8 output channels,
 * lane i = channel i; each channel's multiplier and shift are turned into constants at pack time
 * (qk_avx2_rq8_init) so the per-vector work is a handful of instructions with no branches.
 *
 * Both rounding modes become one computation on a 64-bit product P = x'*m + R:
 *   result = floor(P / 2^T) truncated to int32.
 *   - single: x' = x, T = 31 - shift, R = 2^(T-1).
 *   - double: x' = x << ls (wrapping int32), T = 31 + rs, R = 2^30 for rs == 0, else
 *     R = 2^30 + 2^(30+rs) - [P<0]*2^31. That is SRDHM's floor((x'm + 2^30) / 2^31) followed by
 *     RDBPOT written as floor((s + 2^(rs-1) - [s<0]) / 2^rs), the two floors merged into one.
 *     [s<0] may be replaced by [x'm<0]: they differ only when s == 0, where both give 0.
 * AVX2 has no 64-bit arithmetic right shift, so R also carries a bias of 2^62 that makes P
 * non-negative as an unsigned number; the logical shift then overshoots by exactly 2^(62-T),
 * which is subtracted in int32 together with the output zero point (one add).
 * The product lives in 4 even and 4 odd 64-bit lanes; odd results are shifted to land in the high
 * dword so one blend reassembles the 8 lanes. */
#ifndef QK_ARCH_AVX2_REQUANT_H
#define QK_ARCH_AVX2_REQUANT_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#include "qk/status.h"

/* Constants for 8 channels. Every field is one 32-byte vector; the struct is a multiple of 32
 * bytes so arrays of it stay aligned inside packed weights. */
typedef struct qk_avx2_rq8 {
  _Alignas(32) int32_t ls[8]; /* double: left shift before the multiply */
  int32_t m[8];               /* vpmuldq reads dwords 0,2,4,6: channels 0,2,4,6 */
  int32_t m_odd[8];           /* dword 2j holds m of channel 2j+1 */
  int64_t d_rpos_e[4], d_rneg_e[4], d_rpos_o[4], d_rneg_o[4]; /* double R (+2^62), by sign of P */
  int64_t d_t_e[4], d_tr_o[4], d_tl_o[4]; /* double: even shift; odd right and left shifts */
  int32_t d_corr[8];                       /* -2^(62-T) mod 2^32 */
  int64_t s_r_e[4], s_r_o[4];              /* single R (+2^62) */
  int64_t s_t_e[4], s_tr_o[4], s_tl_o[4];
  int32_t s_corr[8];
} qk_avx2_rq8;

/* Channels [n, 8) are padding: multiplier 0 gives 0 there. Both modes are stored so run() can
 * honour the descriptor's rounding without repacking. */
static inline void qk_avx2_rq8_init(qk_avx2_rq8 *p, const int32_t *multiplier, const int32_t *shift,
                                    size_t n) {
  for (size_t i = 0; i < 8; i++) {
    const int32_t m = i < n ? multiplier[i] : 0;
    const int sh = i < n ? shift[i] : 0;
    const size_t q = i / 2;
    const int odd = (int)(i & 1);
    p->m[i] = m;
    p->m_odd[i] = 0;
    if (odd) p->m_odd[i - 1] = m;

    const int ls = sh > 0 ? sh : 0, rs = sh > 0 ? 0 : -sh;
    const int td = 31 + rs;
    const uint64_t rpos = (UINT64_C(1) << 62) + (UINT64_C(1) << 30) + (rs ? UINT64_C(1) << (30 + rs) : 0);
    const uint64_t rneg = rpos - (rs ? UINT64_C(1) << 31 : 0);
    p->ls[i] = ls;
    p->d_corr[i] = (int32_t)(0u - (UINT32_C(1) << (62 - td)));
    const int ts = 31 - sh;
    const uint64_t rs1 = (UINT64_C(1) << 62) + (UINT64_C(1) << (ts - 1));
    p->s_corr[i] = 62 - ts < 32 ? (int32_t)(0u - (UINT32_C(1) << (62 - ts))) : 0;
    if (odd) {
      p->d_rpos_o[q] = (int64_t)rpos;
      p->d_rneg_o[q] = (int64_t)rneg;
      p->d_tr_o[q] = td > 32 ? td - 32 : 0;
      p->d_tl_o[q] = td < 32 ? 32 - td : 0;
      p->s_r_o[q] = (int64_t)rs1;
      p->s_tr_o[q] = ts > 32 ? ts - 32 : 0;
      p->s_tl_o[q] = ts < 32 ? 32 - ts : 0;
    } else {
      p->d_rpos_e[q] = (int64_t)rpos;
      p->d_rneg_e[q] = (int64_t)rneg;
      p->d_t_e[q] = td;
      p->s_r_e[q] = (int64_t)rs1;
      p->s_t_e[q] = ts;
    }
  }
}

#define QK_AVX2_LD(field) _mm256_load_si256((const __m256i *)(const void *)(field))

/* The per-vector constant that follows the shift: overshoot correction plus output zero point. */
static inline __m256i qk_avx2_rq8_offset(const qk_avx2_rq8 *p, qk_rounding mode, int32_t output_zp) {
  return _mm256_add_epi32(QK_AVX2_LD(mode == QK_ROUND_SINGLE ? p->s_corr : p->d_corr),
                          _mm256_set1_epi32(output_zp));
}

/* Both return MBQM32(acc, m, shift) + output_zp (wrapping), given offset = qk_avx2_rq8_offset(). */
static inline __m256i qk_avx2_requant_double(__m256i acc, const qk_avx2_rq8 *p, __m256i offset) {
  const __m256i xs = _mm256_sllv_epi32(acc, QK_AVX2_LD(p->ls));
  const __m256i xo = _mm256_shuffle_epi32(xs, _MM_SHUFFLE(3, 3, 1, 1));
  __m256i pe = _mm256_mul_epi32(xs, QK_AVX2_LD(p->m));
  __m256i po = _mm256_mul_epi32(xo, QK_AVX2_LD(p->m_odd));
  /* vblendvpd picks by bit 63: the sign of the product, the [x'm<0] term above. */
  const __m256d re = _mm256_blendv_pd(_mm256_castsi256_pd(QK_AVX2_LD(p->d_rpos_e)),
                                      _mm256_castsi256_pd(QK_AVX2_LD(p->d_rneg_e)), _mm256_castsi256_pd(pe));
  const __m256d ro = _mm256_blendv_pd(_mm256_castsi256_pd(QK_AVX2_LD(p->d_rpos_o)),
                                      _mm256_castsi256_pd(QK_AVX2_LD(p->d_rneg_o)), _mm256_castsi256_pd(po));
  pe = _mm256_add_epi64(pe, _mm256_castpd_si256(re));
  po = _mm256_add_epi64(po, _mm256_castpd_si256(ro));
  pe = _mm256_srlv_epi64(pe, QK_AVX2_LD(p->d_t_e));
  po = _mm256_sllv_epi64(_mm256_srlv_epi64(po, QK_AVX2_LD(p->d_tr_o)), QK_AVX2_LD(p->d_tl_o));
  return _mm256_add_epi32(_mm256_blend_epi32(pe, po, 0xAA), offset);
}

static inline __m256i qk_avx2_requant_single(__m256i acc, const qk_avx2_rq8 *p, __m256i offset) {
  const __m256i xo = _mm256_shuffle_epi32(acc, _MM_SHUFFLE(3, 3, 1, 1));
  __m256i pe = _mm256_mul_epi32(acc, QK_AVX2_LD(p->m));
  __m256i po = _mm256_mul_epi32(xo, QK_AVX2_LD(p->m_odd));
  pe = _mm256_add_epi64(pe, QK_AVX2_LD(p->s_r_e));
  po = _mm256_add_epi64(po, QK_AVX2_LD(p->s_r_o));
  pe = _mm256_srlv_epi64(pe, QK_AVX2_LD(p->s_t_e));
  po = _mm256_sllv_epi64(_mm256_srlv_epi64(po, QK_AVX2_LD(p->s_tr_o)), QK_AVX2_LD(p->s_tl_o));
  return _mm256_add_epi32(_mm256_blend_epi32(pe, po, 0xAA), offset);
}

#endif
