/* int8 Add, AVX2: bit-exact with qk_ref_add_int8 (SPEC.md §6).
 *
 * Each element takes three requantizations, all per-tensor: r1 = MBQM32((x1 - zp1) << ls, m1),
 * r2 likewise, then MBQM32(r1 + r2, mo) + zp_out, clamped. They run on 8 int32 lanes with
 * requant.h's qk_avx2_requant_* (the FC epilogue's code, every lane with the same constants).
 *
 * Broadcasting follows ../eltwise_bcast.h: rows where both inputs advance, or where one input is
 * a single element; that element's r is computed once per row in scalar (qk_mbqm32) and added as
 * a constant vector, which saves one of the three requantizations.
 *
 * The input with the larger scale always gets (m, shift) = (2^30, 0) from qk_add_derive, and then
 * r = MBQM32(v, 2^30, 0) = floor((v 2^30 + 2^30) / 2^31) = floor((v + 1) / 2) in both roundings
 * (SRDHM, then RDBPOT by 0; or the single rounding with T = 31); v = (x - zp) << ls is even when
 * ls >= 1, so r = (x - zp) << (ls - 1) exactly, a shift instead of a requantization.
 * 32 elements per iteration; the row tail goes through stack buffers (int8_io.h). */
#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>

#include "qk/eltwise.h"
#include "qk/quant.h"
#include "../eltwise_bcast.h"
#include "variants.h"
#include "int8_io.h"

typedef struct add_ctx {
  qk256_rq rqa, rqb, rqo; /* inputs a, b (possibly swapped 1, 2) and output */
  int32_t zpa, zpb, ma, mb, shb;
  int left_shift;
  bool a_half, b_half; /* (m, shift) = (2^30, 0) and left_shift >= 1: r = (x - zp) << (ls - 1) */
  qk_rounding rounding;
  int32_t zpo, lo, hi;
} add_ctx;

static bool is_half(int32_t m, int32_t shift, int left_shift) {
  return m == INT32_C(1) << 30 && shift == 0 && left_shift >= 1;
}

/* r of 8 bytes of one input: MBQM32((x - zp) << ls, m, shift). */
QK_INLINE __m256i input_r(const add_ctx *k, __m128i bytes, int32_t zp, const qk256_rq *rq, bool half, bool single) {
  const __m256i d = _mm256_sub_epi32(_mm256_cvtepi8_epi32(bytes), _mm256_set1_epi32(zp));
  if (half) return _mm256_sll_epi32(d, _mm_cvtsi32_si128(k->left_shift - 1));
  return qk256_requant(_mm256_sll_epi32(d, _mm_cvtsi32_si128(k->left_shift)), rq, qk256_rq_offset(rq, 0), single);
}

/* 8 elements: a_bytes (and b_bytes when b advances, else rb = r of the constant b). */
QK_INLINE __m256i add8(const add_ctx *k, __m128i a_bytes, __m128i b_bytes, __m256i rb, bool single, bool bvec) {
  __m256i sum = input_r(k, a_bytes, k->zpa, &k->rqa, k->a_half, single);
  if (bvec) rb = input_r(k, b_bytes, k->zpb, &k->rqb, k->b_half, single);
  sum = _mm256_add_epi32(sum, rb); /* int32 wrap, as the reference */
  return qk256_requant(sum, &k->rqo, qk256_rq_offset(&k->rqo, k->zpo), single);
}

QK_INLINE __m256i add32(const add_ctx *k, __m256i a, __m256i b, __m256i rb, bool single, bool bvec) {
  __m256i v[4];
  for (int j = 0; j < 4; j++) v[j] = add8(k, qk256_chunk(a, j), qk256_chunk(b, j), rb, single, bvec);
  return qk256_narrow_s8(v, _mm256_set1_epi8((char)k->lo), _mm256_set1_epi8((char)k->hi));
}

QK_INLINE void add_row(const add_ctx *k, const int8_t *a, const int8_t *b, int8_t *y, size_t n, bool single,
                       bool bvec) {
  __m256i rb = _mm256_setzero_si256();
  if (!bvec) {
    const int32_t vb = (int32_t)((uint32_t)(b[0] - k->zpb) << k->left_shift);
    rb = _mm256_set1_epi32(qk_mbqm32(vb, k->mb, k->shb, k->rounding));
  }
  for (; n >= 32; n -= 32, a += 32, y += 32) {
    const __m256i bv = bvec ? _mm256_loadu_si256((const __m256i *)b) : _mm256_setzero_si256();
    _mm256_storeu_si256((__m256i *)y, add32(k, _mm256_loadu_si256((const __m256i *)a), bv, rb, single, bvec));
    if (bvec) b += 32;
  }
  if (n) {
    const __m256i bv = bvec ? qk256_load_partial(b, n) : _mm256_setzero_si256();
    qk256_store_partial(y, add32(k, qk256_load_partial(a, n), bv, rb, single, bvec), n);
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

void qk_int8_add__avx2_run(const qk_add_int8_params *p, const size_t s1[4], const int8_t *x1, const size_t s2[4],
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
  qk256_rq_init(&k.rqa, k.ma, sw ? p->input2_shift : p->input1_shift,
                p->rounding);
  qk256_rq_init(&k.rqb, k.mb, k.shb, p->rounding);
  qk256_rq_init(&k.rqo, p->output_multiplier, p->output_shift, p->rounding);
  const bool single = p->rounding == QK_ROUND_SINGLE;
  const qk_bcast_row_fn row = plan.kind == QK_BCAST_VV ? (single ? row_vv_single : row_vv_double)
                                                        : (single ? row_vs_single : row_vs_double);
  qk_bcast_each(&plan, sw ? x2 : x1, sw ? x1 : x2, y, row, &k);
}
