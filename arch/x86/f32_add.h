/* The x86 float Add template, y = clamp(x1 + x2) with numpy 4-D broadcasting, shared by the SSE4.1,
 * AVX2 and AVX-512 variants. One .c file per variant includes its ISA's vector helpers
 * (arch/x86/<isa>/f32_vec_<isa>.h) and then this; the includer defines FA_NAME, the run function.
 *
 * Bit for bit equal to qk_ref_add_f32: per element one IEEE add, then the reference's clamp
 *   v < lo ? lo : v > hi ? hi : v,
 * done as min(hi, max(lo, v)) with the operands in exactly that order. x86 max(a, b) is
 * a > b ? a : b and min(a, b) is a < b ? a : b, as written, with no special case: a comparison with
 * a NaN is false and +0 == -0, so both return their second operand then. Hence
 *   max(lo, v) = lo > v ? lo : v = (v < lo ? lo : v)                     (= u)
 *   min(hi, u) = hi < u ? hi : u = (u > hi ? hi : u)
 * which is the reference term for term: a NaN v stays v (both tests false), -0 against lo = +0
 * stays -0 (not less), and v < lo gives lo, which min(hi, lo) keeps since qk_add_f32_check
 * rejects lo > hi. The swapped operand order (max(v, lo)) would turn -0 into +0 and a NaN into lo.
 *
 * The add keeps the reference's operand order x1 + x2 even when the broadcast plan swaps the
 * inputs (plan.swapped), so the one case where IEEE addition is not commutative on x86 -- two NaN
 * operands, where the first one's payload wins -- follows the source too. (C leaves that payload
 * open and compilers may commute a float add, so it is best effort on both sides.)
 *
 * Broadcasting follows ../eltwise_bcast.h: up to three outer loops around a flat row in which
 * either both inputs advance (VV) or one advances and the other is a single element held in a
 * register (VS). Equal shapes are one row; [N,H,W,C] + [1,1,1,C] rows of C; a scalar one row.
 *
 * Rows run 4 vectors per step, then single vectors, then one partial vector through the ISA's
 * fg_load_part / fg_store_part, which touch exactly the remaining elements: x1, x2 and y may end
 * at a guard page. Each step loads all its inputs before storing, so y may be an input of the
 * output's shape (in-place add). */
#include <stdbool.h>
#include <stddef.h>

#include "qk/float.h"
#include "eltwise_bcast.h"
#include "variants.h"

#define FA_INLINE static inline __attribute__((always_inline))

/* x1 + x2 in the source order, then the reference clamp (see above). */
FA_INLINE fg_vec fa_add_clamp(fg_vec x1, fg_vec x2, fg_vec lo, fg_vec hi) {
  return fg_min(hi, fg_max(lo, fg_add(x1, x2)));
}

/* One row of n outputs. a advances; b advances too (bvec) or is b[0] for the whole row; swapped:
 * a holds input 2 and b input 1. */
FA_INLINE void fa_row(const float *a, const float *b, float *y, size_t n, bool bvec, bool swapped, fg_vec lo,
                      fg_vec hi) {
  enum { L = FG_LANES };
  const fg_vec bc = bvec ? fg_zero() : fg_bcast(b);
  for (; n >= 4 * L; n -= 4 * L, a += 4 * L, y += 4 * L) {
    fg_vec va[4], vb[4];
    for (int j = 0; j < 4; j++) va[j] = fg_loadu(a + j * L), vb[j] = bvec ? fg_loadu(b + j * L) : bc;
    for (int j = 0; j < 4; j++)
      fg_store(y + j * L, swapped ? fa_add_clamp(vb[j], va[j], lo, hi) : fa_add_clamp(va[j], vb[j], lo, hi));
    if (bvec) b += 4 * L;
  }
  for (; n >= L; n -= L, a += L, y += L) {
    const fg_vec va = fg_loadu(a), vb = bvec ? fg_loadu(b) : bc;
    fg_store(y, swapped ? fa_add_clamp(vb, va, lo, hi) : fa_add_clamp(va, vb, lo, hi));
    if (bvec) b += L;
  }
  if (n) {
    const fg_vec va = fg_load_part(a, n), vb = bvec ? fg_load_part(b, n) : bc;
    fg_store_part(y, swapped ? fa_add_clamp(vb, va, lo, hi) : fa_add_clamp(va, vb, lo, hi), n);
  }
}

/* The three row kinds a plan can produce (a VV plan is never swapped), each compiled on its own. */
typedef void (*fa_row_fn)(const float *a, const float *b, float *y, size_t n, fg_vec lo, fg_vec hi);
static void fa_row_vv(const float *a, const float *b, float *y, size_t n, fg_vec lo, fg_vec hi) {
  fa_row(a, b, y, n, true, false, lo, hi);
}
static void fa_row_vs(const float *a, const float *b, float *y, size_t n, fg_vec lo, fg_vec hi) {
  fa_row(a, b, y, n, false, false, lo, hi);
}
static void fa_row_sv(const float *a, const float *b, float *y, size_t n, fg_vec lo, fg_vec hi) {
  fa_row(a, b, y, n, false, true, lo, hi);
}

void FA_NAME(const qk_add_f32_params *p, const size_t s1[4], const float *x1, const size_t s2[4], const float *x2,
             float *y) {
  qk_bcast_plan plan;
  qk_bcast_plan_make(s1, s2, &plan);
  const fg_vec lo = fg_set1(p->act_min), hi = fg_set1(p->act_max);
  const float *a = plan.swapped ? x2 : x1, *b = plan.swapped ? x1 : x2;
  const fa_row_fn row = plan.kind == QK_BCAST_VV ? fa_row_vv : plan.swapped ? fa_row_sv : fa_row_vs;
  for (size_t i0 = 0; i0 < plan.outer[0]; i0++)
    for (size_t i1 = 0; i1 < plan.outer[1]; i1++)
      for (size_t i2 = 0; i2 < plan.outer[2]; i2++) {
        const size_t oa = i0 * plan.sta[0] + i1 * plan.sta[1] + i2 * plan.sta[2];
        const size_t ob = i0 * plan.stb[0] + i1 * plan.stb[1] + i2 * plan.stb[2];
        row(a + oa, b + ob, y, plan.row, lo, hi);
        y += plan.row;
      }
}
