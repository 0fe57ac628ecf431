/* int8 Mul, SSE4.1: bit-exact with qk_ref_mul_int8 (SPEC.md §7).
 *
 * p = (x1 - zp1) * (x2 - zp2) is exact in int32 (|p| <= 65025), then one per-tensor
 * MBQM32(p, m, shift) + zp_out on 4 lanes with requant.h's qk_sse41_requant_*. Mul's shift may
 * be positive: the double rounding then shifts p left first, wrapping in int32 as the reference
 * does (a pmulld by 2^shift). Broadcast rows as in ../eltwise_bcast.h; a one-element input
 * becomes a constant (x - zp) vector. 16 elements per iteration; the row tail goes through stack
 * buffers. */
#include <smmintrin.h>
#include <stdbool.h>
#include <stdint.h>

#include "qk/eltwise.h"
#include "../eltwise_bcast.h"
#include "variants.h"
#include "int8_io.h"

typedef struct mul_ctx {
  qk128_rq rqo;
  int32_t zpa, zpb, zpo, lo, hi;
} mul_ctx;

QK_INLINE __m128i mul16(const mul_ctx *k, __m128i a, __m128i b, __m128i db, bool single, bool bvec) {
  const __m128i offset = qk128_rq_offset(&k->rqo, k->zpo);
  __m128i v[4];
  for (int j = 0; j < 4; j++) {
    const __m128i da = _mm_sub_epi32(qk128_widen(a, j, false), _mm_set1_epi32(k->zpa));
    const __m128i dbj = bvec ? _mm_sub_epi32(qk128_widen(b, j, false), _mm_set1_epi32(k->zpb)) : db;
    v[j] = qk128_requant(_mm_mullo_epi32(da, dbj), &k->rqo, offset, single);
  }
  return qk128_narrow_s8(v, _mm_set1_epi8((char)k->lo), _mm_set1_epi8((char)k->hi));
}

QK_INLINE void mul_row(const mul_ctx *k, const int8_t *a, const int8_t *b, int8_t *y, size_t n, bool single,
                       bool bvec) {
  const __m128i db = bvec ? _mm_setzero_si128() : _mm_set1_epi32(b[0] - k->zpb);
  for (; n >= 16; n -= 16, a += 16, y += 16) {
    const __m128i bv = bvec ? _mm_loadu_si128((const __m128i *)b) : _mm_setzero_si128();
    _mm_storeu_si128((__m128i *)y, mul16(k, _mm_loadu_si128((const __m128i *)a), bv, db, single, bvec));
    if (bvec) b += 16;
  }
  if (n) {
    const __m128i bv = bvec ? qk128_load_partial(b, n) : _mm_setzero_si128();
    qk128_store_partial(y, mul16(k, qk128_load_partial(a, n), bv, db, single, bvec), n);
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

void qk_int8_mul__sse41_run(const qk_mul_int8_params *p, const size_t s1[4], const int8_t *x1, const size_t s2[4],
                            const int8_t *x2, int8_t *y) {
  qk_bcast_plan plan;
  qk_bcast_plan_make(s1, s2, &plan);
  const bool sw = plan.swapped;
  mul_ctx k;
  k.zpa = sw ? p->input2_zp : p->input1_zp;
  k.zpb = sw ? p->input1_zp : p->input2_zp;
  k.zpo = p->output_zp, k.lo = p->act_min, k.hi = p->act_max;
  qk128_rq_init(&k.rqo, p->output_multiplier, p->output_shift, p->rounding);
  const bool single = p->rounding == QK_ROUND_SINGLE;
  const qk_bcast_row_fn row = plan.kind == QK_BCAST_VV ? (single ? row_vv_single : row_vv_double)
                                                        : (single ? row_vs_single : row_vs_double);
  qk_bcast_each(&plan, sw ? x2 : x1, sw ? x1 : x2, y, row, &k);
}
