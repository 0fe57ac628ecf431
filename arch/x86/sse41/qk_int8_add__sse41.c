/* int8 Add, SSE4.1: bit-exact with qk_ref_add_int8 (SPEC.md §6).
 *
 * Each element takes three requantizations, all per-tensor: r1 = MBQM32((x1 - zp1) << ls, m1),
 * r2 likewise, then MBQM32(r1 + r2, mo) + zp_out, clamped. They run on 4 int32 lanes with
 * requant.h's qk_sse41_requant_* (the FC epilogue's code, every lane with the same constants).
 *
 * Broadcasting follows ../eltwise_bcast.h: rows where both inputs advance, or where one input is
 * a single element; that element's r is computed once per row in scalar (qk_mbqm32) and added as
 * a constant vector, which saves one of the three requantizations.
 *
 * The input with the larger scale always gets (m, shift) = (2^30, 0) from qk_add_derive, and then
 * r = MBQM32(v, 2^30, 0) = floor((v 2^30 + 2^30) / 2^31) = floor((v + 1) / 2) in both roundings
 * (SRDHM, then RDBPOT by 0; or the single rounding with T = 31); v = (x - zp) << ls is even when
 * ls >= 1, so r = (x - zp) << (ls - 1) exactly, a shift instead of a requantization.
 * 16 elements per iteration;
 * the row tail goes through stack buffers (int8_io.h). */
#include <smmintrin.h>
#include <stdbool.h>
#include <stdint.h>

#include "qk/eltwise.h"
#include "qk/quant.h"
#include "../eltwise_bcast.h"
#include "variants.h"
#include "int8_io.h"

typedef struct add_ctx {
  qk128_rq rqa, rqb, rqo; /* inputs a, b (possibly swapped 1, 2) and output */
  int32_t zpa, zpb, ma, mb, shb;
  int left_shift;
  bool a_half, b_half; /* (m, shift) = (2^30, 0) and left_shift >= 1: r = (x - zp) << (ls - 1) */
  qk_rounding rounding;
  int32_t zpo, lo, hi;
} add_ctx;

static bool is_half(int32_t m, int32_t shift, int left_shift) {
  return m == INT32_C(1) << 30 && shift == 0 && left_shift >= 1;
}

/* r of bytes 4j..4j+3 of one input: MBQM32((x - zp) << ls, m, shift). */
QK_INLINE __m128i input_r(const add_ctx *k, __m128i bytes, int j, int32_t zp, const qk128_rq *rq, bool half,
                          bool single) {
  const __m128i d = _mm_sub_epi32(qk128_widen(bytes, j, false), _mm_set1_epi32(zp));
  if (half) return _mm_sll_epi32(d, _mm_cvtsi32_si128(k->left_shift - 1));
  return qk128_requant(_mm_sll_epi32(d, _mm_cvtsi32_si128(k->left_shift)), rq, qk128_rq_offset(rq, 0), single);
}

QK_INLINE __m128i add16(const add_ctx *k, __m128i a, __m128i b, __m128i rb, bool single, bool bvec) {
  const __m128i offo = qk128_rq_offset(&k->rqo, k->zpo);
  __m128i v[4];
  for (int j = 0; j < 4; j++) {
    const __m128i r1 = input_r(k, a, j, k->zpa, &k->rqa, k->a_half, single);
    const __m128i r2 = bvec ? input_r(k, b, j, k->zpb, &k->rqb, k->b_half, single) : rb;
    v[j] = qk128_requant(_mm_add_epi32(r1, r2), &k->rqo, offo, single); /* int32 wrap, as the reference */
  }
  return qk128_narrow_s8(v, _mm_set1_epi8((char)k->lo), _mm_set1_epi8((char)k->hi));
}

QK_INLINE void add_row(const add_ctx *k, const int8_t *a, const int8_t *b, int8_t *y, size_t n, bool single,
                       bool bvec) {
  __m128i rb = _mm_setzero_si128();
  if (!bvec) {
    const int32_t vb = (int32_t)((uint32_t)(b[0] - k->zpb) << k->left_shift);
    rb = _mm_set1_epi32(qk_mbqm32(vb, k->mb, k->shb, k->rounding));
  }
  for (; n >= 16; n -= 16, a += 16, y += 16) {
    const __m128i bv = bvec ? _mm_loadu_si128((const __m128i *)b) : _mm_setzero_si128();
    _mm_storeu_si128((__m128i *)y, add16(k, _mm_loadu_si128((const __m128i *)a), bv, rb, single, bvec));
    if (bvec) b += 16;
  }
  if (n) {
    const __m128i bv = bvec ? qk128_load_partial(b, n) : _mm_setzero_si128();
    qk128_store_partial(y, add16(k, qk128_load_partial(a, n), bv, rb, single, bvec), n);
  }
}

static void row_vv_double(const void *k, const int8_t *a, const int8_t *b, int8_t *y, size_t n) {
  add_row(k, a, b, y, n, false, true);
}
static void row_vv_single(const void *k, const int8_t *a, const int8_t *b, int8_t *y, size_t n) {
  add_row(k, a, b, y, n, true, true);
}
static void row_vs_double(const void *k, const int8_t *a, const int8_t *b, int8_t *y, size_t n) {
  add_row(k, a, b, y, n, false, false);
}
static void row_vs_single(const void *k, const int8_t *a, const int8_t *b, int8_t *y, size_t n) {
  add_row(k, a, b, y, n, true, false);
}

void qk_int8_add__sse41_run(const qk_add_int8_params *p, const size_t s1[4], const int8_t *x1, const size_t s2[4],
                            const int8_t *x2, int8_t *y) {
  qk_bcast_plan plan;
  qk_bcast_plan_make(s1, s2, &plan);
  const bool sw = plan.swapped;
  add_ctx k;
  k.zpa = sw ? p->input2_zp : p->input1_zp;
  k.zpb = sw ? p->input1_zp : p->input2_zp;
  k.mb = sw ? p->input1_multiplier : p->input2_multiplier;
  k.shb = sw ? p->input1_shift : p->input2_shift;
  k.ma = sw ? p->input2_multiplier : p->input1_multiplier;
  k.left_shift = p->left_shift;
  k.a_half = is_half(k.ma, sw ? p->input2_shift : p->input1_shift, k.left_shift);
  k.b_half = is_half(k.mb, k.shb, k.left_shift);
  k.rounding = p->rounding;
  k.zpo = p->output_zp, k.lo = p->act_min, k.hi = p->act_max;
  qk128_rq_init(&k.rqa, k.ma, sw ? p->input2_shift : p->input1_shift,
                p->rounding);
  qk128_rq_init(&k.rqb, k.mb, k.shb, p->rounding);
  qk128_rq_init(&k.rqo, p->output_multiplier, p->output_shift, p->rounding);
  const bool single = p->rounding == QK_ROUND_SINGLE;
  const qk_bcast_row_fn row = plan.kind == QK_BCAST_VV ? (single ? row_vv_single : row_vv_double)
                                                        : (single ? row_vs_single : row_vs_double);
  qk_bcast_each(&plan, sw ? x2 : x1, sw ? x1 : x2, y, row, &k);
}
