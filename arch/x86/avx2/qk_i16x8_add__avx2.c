/* int16 Add (general-scale path), AVX2: bit-exact with qk_ref_add_i16 (SPEC.md §6, left_shift 15,
 * both roundings).
 *
 * Per element, in int32: r1 = MBQM32((x1 - zp1) << ls, m1, s1), r2 likewise, then
 * out = MBQM32(r1 + r2, mo, so) + zp_out (wrapping), clamped. |x - zp| <= 65535, so the shifted
 * value fits int32 for ls <= 15. The three requantizations are requant.h's (the FC epilogue's
 * code, every lane with the same constants), 8 int32 lanes at a time, 16 int16 per iteration.
 * One shortcut: the larger-scale input always gets (m, s) = (2^30, 0) from CalculateOpDataAdd, and
 * then MBQM32(v, 2^30, 0) = floor((v + 1) / 2) in both roundings, which is exactly v / 2 = d << (ls-1)
 * because v = d << ls is even when ls >= 1; that input skips its multiply.
 * The sums narrow with packssdw (exact before the clamp, which lies inside int16) and vpermq puts
 * the two 128-bit halves back in element order.
 *
 * Broadcasting follows ../eltwise_bcast.h (rows where both inputs advance, or where one input is
 * a single element whose r is computed once per row with qk_mbqm32). Row tails shorter than 16
 * elements go through a stack buffer, so nothing past the tensors is touched. */
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
  qk_avx2_rq8 rqa, rqb, rqo; /* inputs a, b (input 1 and 2, swapped when the plan says so), output */
  __m256i offa, offb, offo;  /* requant.h offsets: correction (+ zp_out for the output) */
  int32_t zpa, zpb, mb, shb;
  int ls;
  bool halfa, halfb; /* (m, s) = (2^30, 0) and ls >= 1: r = d << (ls - 1) */
  qk_rounding rounding;
  int32_t lo, hi;
} add16_ctx;

ADD_INLINE __m256i in_r(__m256i x, int32_t zp, int ls, bool half, const qk_avx2_rq8 *rq, __m256i off, bool single) {
  const __m256i d = _mm256_sub_epi32(x, _mm256_set1_epi32(zp));
  if (half) return _mm256_sll_epi32(d, _mm_cvtsi32_si128(ls - 1));
  const __m256i v = _mm256_sll_epi32(d, _mm_cvtsi32_si128(ls));
  return single ? qk_avx2_requant_single(v, rq, off) : qk_avx2_requant_double(v, rq, off);
}

/* 8 elements (int32 lanes of a and, when bvec, of b; else rb is b's constant r). */
ADD_INLINE __m256i add8(const add16_ctx *k, __m256i a, __m256i b, __m256i rb, bool single, bool bvec) {
  __m256i sum = in_r(a, k->zpa, k->ls, k->halfa, &k->rqa, k->offa, single);
  if (bvec) rb = in_r(b, k->zpb, k->ls, k->halfb, &k->rqb, k->offb, single);
  sum = _mm256_add_epi32(sum, rb); /* int32 wrap, as the reference */
  return single ? qk_avx2_requant_single(sum, &k->rqo, k->offo) : qk_avx2_requant_double(sum, &k->rqo, k->offo);
}

ADD_INLINE __m256i add16(const add16_ctx *k, __m256i a, __m256i b, __m256i rb, bool single, bool bvec) {
  const __m256i lo = add8(k, _mm256_cvtepi16_epi32(_mm256_castsi256_si128(a)),
                          _mm256_cvtepi16_epi32(_mm256_castsi256_si128(b)), rb, single, bvec);
  const __m256i hi = add8(k, _mm256_cvtepi16_epi32(_mm256_extracti128_si256(a, 1)),
                          _mm256_cvtepi16_epi32(_mm256_extracti128_si256(b, 1)), rb, single, bvec);
  const __m256i v = _mm256_permute4x64_epi64(_mm256_packs_epi32(lo, hi), _MM_SHUFFLE(3, 1, 2, 0));
  return _mm256_min_epi16(_mm256_max_epi16(v, _mm256_set1_epi16((int16_t)k->lo)), _mm256_set1_epi16((int16_t)k->hi));
}

static __m256i load_partial(const int16_t *p, size_t n) {
  _Alignas(32) int16_t buf[16] = {0};
  memcpy(buf, p, n * sizeof *p);
  return _mm256_load_si256((const __m256i *)(const void *)buf);
}

static void store_partial(int16_t *p, __m256i v, size_t n) {
  _Alignas(32) int16_t buf[16];
  _mm256_store_si256((__m256i *)(void *)buf, v);
  memcpy(p, buf, n * sizeof *p);
}

ADD_INLINE void add_row(const add16_ctx *k, const int16_t *a, const int16_t *b, int16_t *y, size_t n, bool single,
                        bool bvec) {
  __m256i rb = _mm256_setzero_si256();
  if (!bvec) {
    const int32_t vb = (int32_t)((uint32_t)(b[0] - k->zpb) << k->ls);
    rb = _mm256_set1_epi32(qk_mbqm32(vb, k->mb, k->shb, k->rounding));
  }
  for (; n >= 16; n -= 16, a += 16, y += 16) {
    const __m256i bv = bvec ? _mm256_loadu_si256((const __m256i *)(const void *)b) : _mm256_setzero_si256();
    _mm256_storeu_si256((__m256i *)(void *)y,
                        add16(k, _mm256_loadu_si256((const __m256i *)(const void *)a), bv, rb, single, bvec));
    if (bvec) b += 16;
  }
  if (n) {
    const __m256i bv = bvec ? load_partial(b, n) : _mm256_setzero_si256();
    store_partial(y, add16(k, load_partial(a, n), bv, rb, single, bvec), n);
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

static void rq_init(qk_avx2_rq8 *rq, int32_t m, int32_t s) {
  int32_t mm[8], ss[8];
  for (int i = 0; i < 8; i++) mm[i] = m, ss[i] = s;
  qk_avx2_rq8_init(rq, mm, ss, 8);
}

void qk_i16x8_add__avx2_run(const qk_add_int8_params *p, const size_t s1[4], const int16_t *x1, const size_t s2[4],
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
  rq_init(&k.rqa, ma, sha);
  rq_init(&k.rqb, k.mb, k.shb);
  rq_init(&k.rqo, p->output_multiplier, p->output_shift);
  k.offa = qk_avx2_rq8_offset(&k.rqa, p->rounding, 0);
  k.offb = qk_avx2_rq8_offset(&k.rqb, p->rounding, 0);
  k.offo = qk_avx2_rq8_offset(&k.rqo, p->rounding, p->output_zp);
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
