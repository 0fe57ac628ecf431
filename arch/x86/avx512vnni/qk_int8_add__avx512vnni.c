/* int8 Add, AVX-512: bit-exact with qk_ref_add_int8 (SPEC.md §6).
 *
 * Each element takes three requantizations, all per-tensor: r1 = MBQM32((x1 - zp1) << ls, m1),
 * r2 likewise, then MBQM32(r1 + r2, mo) + zp_out, clamped. They run on 16 int32 lanes with
 * requant.h's qk_rq512_* (the same code path as the FC epilogue, every lane with the same
 * constants). Add's shifts are all <= 0 (qk_add_int8_check), so the double rounding never needs
 * its left shift.
 *
 * Broadcasting follows eltwise_bcast.h: rows where both inputs advance, or where one input is a
 * single element; that element's r is computed once per row in scalar (qk_mbqm32) and added as a
 * constant vector, which saves one of the three requantizations. 64 elements per iteration, the
 * row tail with masked loads and a masked store.
 *
 * The input with the larger scale always gets (m, shift) = (2^30, 0) from qk_add_derive, and then
 * r = MBQM32(v, 2^30, 0) = floor((v 2^30 + 2^30) / 2^31) = floor((v + 1) / 2) in both roundings
 * (SRDHM, then RDBPOT by 0; or the single rounding with T = 31); v = (x - zp) << ls is even when
 * ls >= 1, so r = (x - zp) << (ls - 1) exactly, a shift instead of a requantization. */
#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>

#include "qk/eltwise.h"
#include "qk/quant.h"
#include "../eltwise_bcast.h"
#include "variants.h"
#include "int8_io.h"

typedef struct add_ctx {
  qk512_rq rqa, rqb, rqo; /* inputs a, b (possibly swapped 1, 2) and output */
  int32_t zpa, zpb, ma, mb, sha, shb;
  int left_shift;
  bool a_half, b_half; /* (m, shift) = (2^30, 0) and left_shift >= 1: r = (x - zp) << (ls - 1) */
  qk_rounding rounding;
  int32_t zpo, lo, hi;
} add_ctx;

static bool is_half(int32_t m, int32_t shift, int left_shift) {
  return m == INT32_C(1) << 30 && shift == 0 && left_shift >= 1;
}

/* Per-row vectors: the left shifts as vpsllvd counts (one uop; vpslld by an xmm count is two). */
typedef struct add_vecs {
  __m512i ls, ls1; /* left_shift, left_shift - 1 */
} add_vecs;

/* r of 16 bytes of one input: MBQM32((x - zp) << ls, m, shift). */
QK_INLINE __m512i input_r(const add_vecs *c, __m128i bytes, int32_t zp, const qk512_rq *rq, bool half, bool single) {
  const __m512i d = _mm512_sub_epi32(_mm512_cvtepi8_epi32(bytes), _mm512_set1_epi32(zp));
  if (half) return _mm512_sllv_epi32(d, c->ls1);
  return qk512_requant(_mm512_sllv_epi32(d, c->ls), rq, single, false);
}

/* 16 elements: a_bytes (and b_bytes when b advances, else rb = r of the constant b). The half
 * flags are compile-time in the specialised rows (ha, hb: 0 no, 1 yes, -1 read from k). */
QK_INLINE __m512i add16(const add_ctx *k, const add_vecs *c, __m128i a_bytes, __m128i b_bytes, __m512i rb,
                        bool single, bool bvec, int ha, int hb) {
  __m512i sum = input_r(c, a_bytes, k->zpa, &k->rqa, ha < 0 ? k->a_half : ha, single);
  if (bvec) rb = input_r(c, b_bytes, k->zpb, &k->rqb, hb < 0 ? k->b_half : hb, single);
  sum = _mm512_add_epi32(sum, rb); /* int32 wrap, as the reference */
  return qk512_requant(sum, &k->rqo, single, false);
}

QK_INLINE void add_row(const add_ctx *k, const int8_t *a, const int8_t *b, int8_t *y, size_t n, bool single,
                       bool bvec, int ha, int hb) {
  const add_vecs c = {_mm512_set1_epi32(k->left_shift), _mm512_set1_epi32(k->left_shift - 1)};
  const __m512i zpo = _mm512_set1_epi32(k->zpo);
  const __m512i lo = _mm512_set1_epi8((char)k->lo), hi = _mm512_set1_epi8((char)k->hi);
  __m512i rb = _mm512_setzero_si512();
  if (!bvec) {
    const int32_t vb = (int32_t)((uint32_t)(b[0] - k->zpb) << k->left_shift);
    rb = _mm512_set1_epi32(qk_mbqm32(vb, k->mb, k->shb, k->rounding));
  }
  __m512i v[4];
  for (; n >= 64; n -= 64, a += 64, y += 64) {
    for (int j = 0; j < 4; j++)
      v[j] = add16(k, &c, _mm_loadu_si128((const __m128i *)(a + 16 * j)),
                   bvec ? _mm_loadu_si128((const __m128i *)(b + 16 * j)) : _mm_setzero_si128(), rb, single, bvec, ha,
                   hb);
    _mm512_storeu_si512(y, qk512_narrow_s8(v, zpo, lo, hi));
    if (bvec) b += 64;
  }
  if (n) {
    /* Masked-out bytes are never accessed, so chunks past the end cannot fault. */
    for (size_t j = 0; j < 4; j++) {
      const __mmask16 mj = (__mmask16)(n > 16 * j ? qk512_mask16(n - 16 * j) : 0);
      v[j] = mj ? add16(k, &c, _mm_maskz_loadu_epi8(mj, a + 16 * j),
                        bvec ? _mm_maskz_loadu_epi8(mj, b + 16 * j) : _mm_setzero_si128(), rb, single, bvec, ha, hb)
                : _mm512_setzero_si512();
    }
    _mm512_mask_storeu_epi8(y, qk512_mask64(n), qk512_narrow_s8(v, zpo, lo, hi));
  }
}

/* Rows per rounding and broadcast kind; for two vectors, the usual case of exactly one input with
 * the larger scale (a shift, not a requantization) gets its own code without the flag tests. */
#define ROW(name, single, bvec, ha, hb)                                                               \
  static void name(const void *k, const int8_t *a, const int8_t *b, int8_t *y, size_t n) {           \
    add_row(k, a, b, y, n, single, bvec, ha, hb);                                                   \
  }
ROW(row_vv_double, false, true, -1, -1)
ROW(row_vv_single, true, true, -1, -1)
ROW(row_vv_double_ha, false, true, 1, 0)
ROW(row_vv_single_ha, true, true, 1, 0)
ROW(row_vv_double_hb, false, true, 0, 1)
ROW(row_vv_single_hb, true, true, 0, 1)
ROW(row_vs_double, false, false, -1, -1)
ROW(row_vs_single, true, false, -1, -1)
#undef ROW

void qk_int8_add__avx512vnni_run(const qk_add_int8_params *p, const size_t s1[4], const int8_t *x1,
                                 const size_t s2[4], const int8_t *x2, int8_t *y) {
  qk_bcast_plan plan;
  qk_bcast_plan_make(s1, s2, &plan);
  const bool sw = plan.swapped;
  add_ctx k;
  k.zpa = sw ? p->input2_zp : p->input1_zp;
  k.zpb = sw ? p->input1_zp : p->input2_zp;
  k.ma = sw ? p->input2_multiplier : p->input1_multiplier;
  k.mb = sw ? p->input1_multiplier : p->input2_multiplier;
  k.sha = sw ? p->input2_shift : p->input1_shift;
  k.shb = sw ? p->input1_shift : p->input2_shift;
  k.left_shift = p->left_shift;
  k.a_half = is_half(k.ma, k.sha, k.left_shift);
  k.b_half = is_half(k.mb, k.shb, k.left_shift);
  k.rounding = p->rounding;
  k.zpo = p->output_zp, k.lo = p->act_min, k.hi = p->act_max;
  qk512_rq_init(&k.rqa, k.ma, k.sha, p->rounding);
  qk512_rq_init(&k.rqb, k.mb, k.shb, p->rounding);
  qk512_rq_init(&k.rqo, p->output_multiplier, p->output_shift, p->rounding);
  const bool single = p->rounding == QK_ROUND_SINGLE;
  qk_bcast_row_fn row = single ? row_vs_single : row_vs_double;
  if (plan.kind == QK_BCAST_VV) {
    if (k.a_half && !k.b_half) row = single ? row_vv_single_ha : row_vv_double_ha;
    else if (k.b_half && !k.a_half) row = single ? row_vv_single_hb : row_vv_double_hb;
    else row = single ? row_vv_single : row_vv_double;
  }
  qk_bcast_each(&plan, sw ? x2 : x1, sw ? x1 : x2, y, row, &k);
}
