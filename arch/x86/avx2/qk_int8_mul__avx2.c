/* int8 Mul, AVX2: bit-exact with qk_ref_mul_int8 (SPEC.md §7).
 *
 * p = (x1 - zp1) * (x2 - zp2) is exact in int32 (|p| <= 65025), then one per-tensor
 * MBQM32(p, m, shift) + zp_out on 8 lanes with requant.h's qk_avx2_requant_*. Mul's shift may be
 * positive: the double rounding then shifts p left first, wrapping in int32 as the reference does
 * (vpsllvd). Broadcast rows as in ../eltwise_bcast.h; a one-element input becomes a constant
 * (x - zp) vector. 32 elements per iteration; the row tail goes through stack buffers. */
#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>

#include "qk/eltwise.h"
#include "../eltwise_bcast.h"
#include "variants.h"
#include "int8_io.h"

typedef struct mul_ctx {
  qk256_rq rqo;
  int32_t zpa, zpb, zpo, lo, hi;
} mul_ctx;

QK_INLINE __m256i mul32(const mul_ctx *k, __m256i a, __m256i b, __m256i db, bool single, bool bvec) {
  const __m256i offset = qk256_rq_offset(&k->rqo, k->zpo);
  __m256i v[4];
  for (int j = 0; j < 4; j++) {
    const __m256i da = _mm256_sub_epi32(_mm256_cvtepi8_epi32(qk256_chunk(a, j)), _mm256_set1_epi32(k->zpa));
    const __m256i dbj = bvec ? _mm256_sub_epi32(_mm256_cvtepi8_epi32(qk256_chunk(b, j)), _mm256_set1_epi32(k->zpb)) : db;
    v[j] = qk256_requant(_mm256_mullo_epi32(da, dbj), &k->rqo, offset, single);
  }
  return qk256_narrow_s8(v, _mm256_set1_epi8((char)k->lo), _mm256_set1_epi8((char)k->hi));
}

QK_INLINE void mul_row(const mul_ctx *k, const int8_t *a, const int8_t *b, int8_t *y, size_t n, bool single,
                       bool bvec) {
  const __m256i db = bvec ? _mm256_setzero_si256() : _mm256_set1_epi32(b[0] - k->zpb);
  for (; n >= 32; n -= 32, a += 32, y += 32) {
    const __m256i bv = bvec ? _mm256_loadu_si256((const __m256i *)b) : _mm256_setzero_si256();
    _mm256_storeu_si256((__m256i *)y, mul32(k, _mm256_loadu_si256((const __m256i *)a), bv, db, single, bvec));
    if (bvec) b += 32;
  }
  if (n) {
    const __m256i bv = bvec ? qk256_load_partial(b, n) : _mm256_setzero_si256();
    qk256_store_partial(y, mul32(k, qk256_load_partial(a, n), bv, db, single, bvec), n);
  }
}

static void row_vv_double(const void *k, const int8_t *a, const int8_t *b, int8_t *y, size_t n) {
  mul_row(k, a, b, y, n, false, true);
}
static void row_vv_single(const void *k, const int8_t *a, const int8_t *b, int8_t *y, size_t n) {
  mul_row(k, a, b, y, n, true, true);
}
static void row_vs_double(const void *k, const int8_t *a, const int8_t *b, int8_t *y, size_t n) {
  mul_row(k, a, b, y, n, false, false);
}
static void row_vs_single(const void *k, const int8_t *a, const int8_t *b, int8_t *y, size_t n) {
  mul_row(k, a, b, y, n, true, false);
}

void qk_int8_mul__avx2_run(const qk_mul_int8_params *p, const size_t s1[4], const int8_t *x1, const size_t s2[4],
                           const int8_t *x2, int8_t *y) {
  qk_bcast_plan plan;
  qk_bcast_plan_make(s1, s2, &plan);
  const bool sw = plan.swapped;
  mul_ctx k;
  k.zpa = sw ? p->input2_zp : p->input1_zp;
  k.zpb = sw ? p->input1_zp : p->input2_zp;
  k.zpo = p->output_zp, k.lo = p->act_min, k.hi = p->act_max;
  qk256_rq_init(&k.rqo, p->output_multiplier, p->output_shift, p->rounding);
  const bool single = p->rounding == QK_ROUND_SINGLE;
  const qk_bcast_row_fn row = plan.kind == QK_BCAST_VV ? (single ? row_vv_single : row_vv_double)
                                                        : (single ? row_vs_single : row_vs_double);
  qk_bcast_each(&plan, sw ? x2 : x1, sw ? x1 : x2, y, row, &k);
}
