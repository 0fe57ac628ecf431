/* int16 Add (general-scale path), AVX-512: bit-exact with qk_ref_add_i16 (SPEC.md §6, left_shift
 * 15, both roundings).
 *
 * Per element, in int32: r1 = MBQM32((x1 - zp1) << ls, m1, s1), r2 likewise, then
 * out = MBQM32(r1 + r2, mo, so) + zp_out (wrapping), clamped. |x - zp| <= 65535, so the shifted
 * value fits int32 for ls <= 15. The three requantizations are requant.h's qk_rq512_* (the FC
 * epilogue's code, every lane with the same constants), 16 int32 lanes at a time, 32 int16 per
 * iteration; Add's shifts are all <= 0, so the double rounding never needs its left shift.
 * One shortcut: the larger-scale input always gets (m, s) = (2^30, 0) from CalculateOpDataAdd, and
 * then MBQM32(v, 2^30, 0) = floor((v + 1) / 2) in both roundings, which is exactly v / 2 = d << (ls-1)
 * because v = d << ls is even when ls >= 1; that input skips its multiply.
 * The sums narrow with vpackssdw (exact before the clamp, which lies inside int16); its 128-bit
 * lanes interleave the two halves, which one vpermq undoes.
 *
 * Broadcasting follows ../eltwise_bcast.h (rows where both inputs advance, or where one input is
 * a single element whose r is computed once per row with qk_mbqm32). Row tails use masked loads
 * and a masked store, which never touch the masked-out elements. */
#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "qk/eltwise.h"
#include "qk/quant.h"
#include "../eltwise_bcast.h"
#include "requant.h"
#include "variants.h"

#define ADD_INLINE static inline __attribute__((always_inline))

typedef struct add16_ctx {
  _Alignas(64) int32_t rqa[QK_RQ512_ROWS * 16]; /* input a (input 1, or 2 when swapped) */
  _Alignas(64) int32_t rqb[QK_RQ512_ROWS * 16];
  _Alignas(64) int32_t rqo[QK_RQ512_ROWS * 16];
  int32_t zpa, zpb, mb, shb, zpo;
  int ls;
  bool halfa, halfb; /* (m, s) = (2^30, 0) and ls >= 1: r = d << (ls - 1) */
  qk_rounding rounding;
  int32_t lo, hi;
} add16_ctx;

ADD_INLINE __m512i rq(__m512i v, const int32_t *c, bool single) {
  return single ? qk_rq512_single(v, c) : qk_rq512_double(v, c, false);
}

ADD_INLINE __m512i in_r(__m512i x, int32_t zp, int ls, bool half, const int32_t *c, bool single) {
  const __m512i d = _mm512_sub_epi32(x, _mm512_set1_epi32(zp));
  if (half) return _mm512_sll_epi32(d, _mm_cvtsi32_si128(ls - 1));
  return rq(_mm512_sll_epi32(d, _mm_cvtsi32_si128(ls)), c, single);
}

/* 16 elements (int32 lanes of a and, when bvec, of b; else rb is b's constant r). */
ADD_INLINE __m512i add16(const add16_ctx *k, __m512i a, __m512i b, __m512i rb, bool single, bool bvec) {
  __m512i sum = in_r(a, k->zpa, k->ls, k->halfa, k->rqa, single);
  if (bvec) rb = in_r(b, k->zpb, k->ls, k->halfb, k->rqb, single);
  sum = _mm512_add_epi32(sum, rb); /* int32 wrap, as the reference */
  return _mm512_add_epi32(rq(sum, k->rqo, single), _mm512_set1_epi32(k->zpo));
}

ADD_INLINE __m512i add32(const add16_ctx *k, __m512i a, __m512i b, __m512i rb, bool single, bool bvec) {
  const __m512i lo = add16(k, _mm512_cvtepi16_epi32(_mm512_castsi512_si256(a)),
                           _mm512_cvtepi16_epi32(_mm512_castsi512_si256(b)), rb, single, bvec);
  const __m512i hi = add16(k, _mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64(a, 1)),
                           _mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64(b, 1)), rb, single, bvec);
  const __m512i v = _mm512_permutexvar_epi64(_mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7), _mm512_packs_epi32(lo, hi));
  return _mm512_min_epi16(_mm512_max_epi16(v, _mm512_set1_epi16((int16_t)k->lo)), _mm512_set1_epi16((int16_t)k->hi));
}

ADD_INLINE void add_row(const add16_ctx *k, const int16_t *a, const int16_t *b, int16_t *y, size_t n, bool single,
                        bool bvec) {
  __m512i rb = _mm512_setzero_si512();
  if (!bvec) {
    const int32_t vb = (int32_t)((uint32_t)(b[0] - k->zpb) << k->ls);
    rb = _mm512_set1_epi32(qk_mbqm32(vb, k->mb, k->shb, k->rounding));
  }
  for (; n >= 32; n -= 32, a += 32, y += 32) {
    const __m512i bv = bvec ? _mm512_loadu_si512((const void *)b) : _mm512_setzero_si512();
    _mm512_storeu_si512((void *)y, add32(k, _mm512_loadu_si512((const void *)a), bv, rb, single, bvec));
    if (bvec) b += 32;
  }
  if (n) {
    const __mmask32 m = ((__mmask32)1 << n) - 1;
    const __m512i bv = bvec ? _mm512_maskz_loadu_epi16(m, b) : _mm512_setzero_si512();
    _mm512_mask_storeu_epi16(y, m, add32(k, _mm512_maskz_loadu_epi16(m, a), bv, rb, single, bvec));
  }
}

typedef void (*row_fn)(const add16_ctx *k, const int16_t *a, const int16_t *b, int16_t *y, size_t n);
static void row_vv_double(const add16_ctx *k, const int16_t *a, const int16_t *b, int16_t *y, size_t n) {
  add_row(k, a, b, y, n, false, true);
}
static void row_vv_single(const add16_ctx *k, const int16_t *a, const int16_t *b, int16_t *y, size_t n) {
  add_row(k, a, b, y, n, true, true);
}
static void row_vs_double(const add16_ctx *k, const int16_t *a, const int16_t *b, int16_t *y, size_t n) {
  add_row(k, a, b, y, n, false, false);
}
static void row_vs_single(const add16_ctx *k, const int16_t *a, const int16_t *b, int16_t *y, size_t n) {
  add_row(k, a, b, y, n, true, false);
}

static void rq_init(int32_t *c, int32_t m, int32_t s, qk_rounding mode) {
  int32_t mm[16], ss[16];
  for (int i = 0; i < 16; i++) mm[i] = m, ss[i] = s;
  qk_rq512_prepare(c, mm, ss, mode);
}

void qk_i16x8_add__avx512vnni_run(const qk_add_int8_params *p, const size_t s1[4], const int16_t *x1,
                                  const size_t s2[4], const int16_t *x2, int16_t *y) {
  qk_bcast_plan plan;
  qk_bcast_plan_make(s1, s2, &plan);
  const bool sw = plan.swapped;
  add16_ctx k;
  const int32_t ma = sw ? p->input2_multiplier : p->input1_multiplier, sha = sw ? p->input2_shift : p->input1_shift;
  k.zpa = sw ? p->input2_zp : p->input1_zp;
  k.zpb = sw ? p->input1_zp : p->input2_zp;
  k.mb = sw ? p->input1_multiplier : p->input2_multiplier;
  k.shb = sw ? p->input1_shift : p->input2_shift;
  k.zpo = p->output_zp;
  k.ls = p->left_shift;
  k.halfa = ma == INT32_C(1) << 30 && sha == 0 && k.ls >= 1;
  k.halfb = k.mb == INT32_C(1) << 30 && k.shb == 0 && k.ls >= 1;
  k.rounding = p->rounding;
  k.lo = p->act_min, k.hi = p->act_max;
  rq_init(k.rqa, ma, sha, p->rounding);
  rq_init(k.rqb, k.mb, k.shb, p->rounding);
  rq_init(k.rqo, p->output_multiplier, p->output_shift, p->rounding);
  const bool single = p->rounding == QK_ROUND_SINGLE;
  const row_fn row = plan.kind == QK_BCAST_VV ? (single ? row_vv_single : row_vv_double)
                                              : (single ? row_vs_single : row_vs_double);
  const int16_t *a = sw ? x2 : x1, *b = sw ? x1 : x2;
  for (size_t i0 = 0; i0 < plan.outer[0]; i0++)
    for (size_t i1 = 0; i1 < plan.outer[1]; i1++)
      for (size_t i2 = 0; i2 < plan.outer[2]; i2++) {
        const size_t oa = i0 * plan.sta[0] + i1 * plan.sta[1] + i2 * plan.sta[2];
        const size_t ob = i0 * plan.stb[0] + i1 * plan.stb[1] + i2 * plan.stb[2];
        row(&k, a + oa, b + ob, y, plan.row);
        y += plan.row;
      }
}
