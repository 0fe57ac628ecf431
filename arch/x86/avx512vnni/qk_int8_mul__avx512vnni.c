/* int8 Mul, AVX-512: bit-exact with qk_ref_mul_int8 (SPEC.md §7).
 *
 * p = (x1 - zp1) * (x2 - zp2) is exact in int32 (|p| <= 65025), then one per-tensor
 * MBQM32(p, m, shift) + zp_out on 16 lanes with requant.h's qk_rq512_*. Mul's shift may be
 * positive: the double rounding then shifts p left first, wrapping in int32 as the reference
 * does (vpsllvd). Broadcast rows as in eltwise_bcast.h; a one-element input becomes a constant
 * (x - zp) vector. 64 elements per iteration, masked row tails. */
#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>

#include "qk/eltwise.h"
#include "../eltwise_bcast.h"
#include "variants.h"
#include "int8_io.h"

typedef struct mul_ctx {
  qk512_rq rqo;
  int32_t zpa, zpb, zpo, lo, hi;
  bool left_shift; /* double rounding with shift > 0 */
} mul_ctx;

QK_INLINE __m512i mul16(const mul_ctx *k, __m128i a_bytes, __m128i b_bytes, __m512i db, bool single, bool bvec) {
  const __m512i da = _mm512_sub_epi32(_mm512_cvtepi8_epi32(a_bytes), _mm512_set1_epi32(k->zpa));
  if (bvec) db = _mm512_sub_epi32(_mm512_cvtepi8_epi32(b_bytes), _mm512_set1_epi32(k->zpb));
  return qk512_requant(_mm512_mullo_epi32(da, db), &k->rqo, single, k->left_shift);
}

QK_INLINE void mul_row(const mul_ctx *k, const int8_t *a, const int8_t *b, int8_t *y, size_t n, bool single,
                       bool bvec) {
  const __m512i zpo = _mm512_set1_epi32(k->zpo);
  const __m512i lo = _mm512_set1_epi8((char)k->lo), hi = _mm512_set1_epi8((char)k->hi);
  const __m512i db = bvec ? _mm512_setzero_si512() : _mm512_set1_epi32(b[0] - k->zpb);
  __m512i v[4];
  for (; n >= 64; n -= 64, a += 64, y += 64) {
    for (int j = 0; j < 4; j++)
      v[j] = mul16(k, _mm_loadu_si128((const __m128i *)(a + 16 * j)),
                   bvec ? _mm_loadu_si128((const __m128i *)(b + 16 * j)) : _mm_setzero_si128(), db, single, bvec);
    _mm512_storeu_si512(y, qk512_narrow_s8(v, zpo, lo, hi));
    if (bvec) b += 64;
  }
  if (n) {
    /* Masked-out bytes are never accessed, so chunks past the end cannot fault. */
    for (size_t j = 0; j < 4; j++) {
      const __mmask16 mj = (__mmask16)(n > 16 * j ? qk512_mask16(n - 16 * j) : 0);
      v[j] = mj ? mul16(k, _mm_maskz_loadu_epi8(mj, a + 16 * j),
                        bvec ? _mm_maskz_loadu_epi8(mj, b + 16 * j) : _mm_setzero_si128(), db, single, bvec)
                : _mm512_setzero_si512();
    }
    _mm512_mask_storeu_epi8(y, qk512_mask64(n), qk512_narrow_s8(v, zpo, lo, hi));
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

void qk_int8_mul__avx512vnni_run(const qk_mul_int8_params *p, const size_t s1[4], const int8_t *x1,
                                 const size_t s2[4], const int8_t *x2, int8_t *y) {
  qk_bcast_plan plan;
  qk_bcast_plan_make(s1, s2, &plan);
  const bool sw = plan.swapped;
  mul_ctx k;
  k.zpa = sw ? p->input2_zp : p->input1_zp;
  k.zpb = sw ? p->input1_zp : p->input2_zp;
  k.zpo = p->output_zp, k.lo = p->act_min, k.hi = p->act_max;
  k.left_shift = p->output_shift > 0;
  qk512_rq_init(&k.rqo, p->output_multiplier, p->output_shift, p->rounding);
  const bool single = p->rounding == QK_ROUND_SINGLE;
  const qk_bcast_row_fn row = plan.kind == QK_BCAST_VV ? (single ? row_vv_single : row_vv_double)
                                                        : (single ? row_vs_single : row_vs_double);
  qk_bcast_each(&plan, sw ? x2 : x1, sw ? x1 : x2, y, row, &k);
}
