/* int16 Add (general-scale path), SSE4.1: bit-exact with qk_ref_add_i16 (SPEC.md §6, left_shift 15,
 * both roundings).
 *
 * Per element, in int32: r1 = MBQM32((x1 - zp1) << ls, m1, s1), r2 likewise, then
 * out = MBQM32(r1 + r2, mo, so) + zp_out (wrapping), clamped. |x - zp| <= 65535, so the shifted
 * value fits int32 for ls <= 15. The three requantizations are per-tensor, so they use
 * i16x8_urq.h (one shift count for all lanes: a single psrlq or psrad per vector), 4 int32 lanes
 * at a time, 8 int16 per iteration.
 * One shortcut: the larger-scale input always gets (m, s) = (2^30, 0) from CalculateOpDataAdd, and
 * then MBQM32(v, 2^30, 0) = floor((v + 1) / 2) in both roundings, which is exactly v / 2 = d << (ls-1)
 * because v = d << ls is even when ls >= 1; that input skips its multiply.
 * The sums narrow with packssdw (exact before the clamp, which lies inside int16).
 *
 * Broadcasting follows ../eltwise_bcast.h (rows where both inputs advance, or where one input is
 * a single element whose r is computed once per row with qk_mbqm32). Row tails shorter than 8
 * elements go through a stack buffer, so nothing past the tensors is touched. */
#include <smmintrin.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "qk/eltwise.h"
#include "qk/quant.h"
#include "../eltwise_bcast.h"
#include "i16x8_urq.h"
#include "variants.h"

#define ADD_INLINE static inline __attribute__((always_inline))

typedef struct add16_ctx {
  qk_sse41_urq rqa, rqb, rqo; /* inputs a, b (input 1 and 2, swapped when the plan says so), output */
  int32_t zpa, zpb, mb, shb, zpo;
  int ls;
  bool halfa, halfb; /* (m, s) = (2^30, 0) and ls >= 1: r = d << (ls - 1) */
  qk_rounding rounding;
  int32_t lo, hi;
} add16_ctx;

ADD_INLINE __m128i in_r(__m128i x, int32_t zp, int ls, bool half, const qk_sse41_urq *q) {
  const __m128i d = _mm_sub_epi32(x, _mm_set1_epi32(zp));
  if (half) return _mm_sll_epi32(d, _mm_cvtsi32_si128(ls - 1));
  return qk_sse41_urq_apply(_mm_sll_epi32(d, _mm_cvtsi32_si128(ls)), q);
}

/* 4 elements (int32 lanes of a and, when bvec, of b; else rb is b's constant r). */
ADD_INLINE __m128i add4(const add16_ctx *k, __m128i a, __m128i b, __m128i rb, bool bvec) {
  __m128i sum = in_r(a, k->zpa, k->ls, k->halfa, &k->rqa);
  if (bvec) rb = in_r(b, k->zpb, k->ls, k->halfb, &k->rqb);
  sum = _mm_add_epi32(sum, rb); /* int32 wrap, as the reference */
  return _mm_add_epi32(qk_sse41_urq_apply(sum, &k->rqo), _mm_set1_epi32(k->zpo));
}

ADD_INLINE __m128i add8(const add16_ctx *k, __m128i a, __m128i b, __m128i rb, bool bvec) {
  const __m128i lo = add4(k, _mm_cvtepi16_epi32(a), _mm_cvtepi16_epi32(b), rb, bvec);
  const __m128i hi = add4(k, _mm_cvtepi16_epi32(_mm_unpackhi_epi64(a, a)), _mm_cvtepi16_epi32(_mm_unpackhi_epi64(b, b)),
                          rb, bvec);
  const __m128i v = _mm_packs_epi32(lo, hi);
  return _mm_min_epi16(_mm_max_epi16(v, _mm_set1_epi16((int16_t)k->lo)), _mm_set1_epi16((int16_t)k->hi));
}

static __m128i load_partial(const int16_t *p, size_t n) {
  _Alignas(16) int16_t buf[8] = {0};
  memcpy(buf, p, n * sizeof *p);
  return _mm_load_si128((const __m128i *)(const void *)buf);
}

static void store_partial(int16_t *p, __m128i v, size_t n) {
  _Alignas(16) int16_t buf[8];
  _mm_store_si128((__m128i *)(void *)buf, v);
  memcpy(p, buf, n * sizeof *p);
}

ADD_INLINE void add_row(const add16_ctx *k, const int16_t *a, const int16_t *b, int16_t *y, size_t n, bool bvec) {
  __m128i rb = _mm_setzero_si128();
  if (!bvec) {
    const int32_t vb = (int32_t)((uint32_t)(b[0] - k->zpb) << k->ls);
    rb = _mm_set1_epi32(qk_mbqm32(vb, k->mb, k->shb, k->rounding));
  }
  for (; n >= 8; n -= 8, a += 8, y += 8) {
    const __m128i bv = bvec ? _mm_loadu_si128((const __m128i *)(const void *)b) : _mm_setzero_si128();
    _mm_storeu_si128((__m128i *)(void *)y, add8(k, _mm_loadu_si128((const __m128i *)(const void *)a), bv, rb, bvec));
    if (bvec) b += 8;
  }
  if (n) {
    const __m128i bv = bvec ? load_partial(b, n) : _mm_setzero_si128();
    store_partial(y, add8(k, load_partial(a, n), bv, rb, bvec), n);
  }
}

static void row_vv(const add16_ctx *k, const int16_t *a, const int16_t *b, int16_t *y, size_t n) {
  add_row(k, a, b, y, n, true);
}
static void row_vs(const add16_ctx *k, const int16_t *a, const int16_t *b, int16_t *y, size_t n) {
  add_row(k, a, b, y, n, false);
}

void qk_i16x8_add__sse41_run(const qk_add_int8_params *p, const size_t s1[4], const int16_t *x1, const size_t s2[4],
                            const int16_t *x2, int16_t *y) {
  qk_bcast_plan plan;
  qk_bcast_plan_make(s1, s2, &plan);
  const bool sw = plan.swapped;
  add16_ctx k;
  const int32_t ma = sw ? p->input2_multiplier : p->input1_multiplier, sha = sw ? p->input2_shift : p->input1_shift;
  k.zpa = sw ? p->input2_zp : p->input1_zp;
  k.zpb = sw ? p->input1_zp : p->input2_zp;
  k.mb = sw ? p->input1_multiplier : p->input2_multiplier;
  k.shb = sw ? p->input1_shift : p->input2_shift;
  k.ls = p->left_shift;
  k.halfa = ma == INT32_C(1) << 30 && sha == 0 && k.ls >= 1;
  k.halfb = k.mb == INT32_C(1) << 30 && k.shb == 0 && k.ls >= 1;
  k.rounding = p->rounding;
  k.lo = p->act_min, k.hi = p->act_max;
  k.zpo = p->output_zp;
  qk_sse41_urq_init(&k.rqa, ma, sha, p->rounding);
  qk_sse41_urq_init(&k.rqb, k.mb, k.shb, p->rounding);
  qk_sse41_urq_init(&k.rqo, p->output_multiplier, p->output_shift, p->rounding);
  void (*const row)(const add16_ctx *, const int16_t *, const int16_t *, int16_t *, size_t) =
      plan.kind == QK_BCAST_VV ? row_vv : row_vs;
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
