/* The x86 float Add template, y = clamp(x1 + x2) with numpy 4-D broadcasting, shared by the SSE4.1,
 * AVX2 and AVX-512 variants. One .c file per variant defines or includes its ISA's vector helpers
 * (arch/x86/<isa>/f32_vec_<isa>.h; the AVX-512 variant uses its own 256-bit ones) and then this;
 * the includer defines FA_NAME, the run function.
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
 * register (VS). Equal shapes are one row, a scalar operand one row. Per-channel operands
 * ([N,H,W,C] + [1,1,1,C], either order) would be N*H*W rows of C: with MobileNetV2's C = 24 to 160
 * the per-row call and the partial vector ending each row cost more than the adds (56x56x24 +
 * [24], AVX2: 9.3 us by rows, 6.2 us as one flat row). So when one input of a
 * VV plan restarts at offset 0 for every row while the other input and y run on contiguously, the
 * restarting one is tiled into a stack buffer of lcm(C, LANES) floats and the whole tensor runs as
 * one flat row, reading that buffer with a wrapping offset (FA_TILE bounds it; longer periods keep
 * the rows, whose overhead they amortize).
 *
 * Rows run 4 vectors per step, then single vectors, then one partial vector through the ISA's
 * fg_load_part / fg_store_part, which touch exactly the remaining elements: x1, x2 and y may end
 * at a guard page. Each step loads all its inputs before storing, so y may be an input of the
 * output's shape (in-place add).
 *
 * Speed: MobileNetV2's residual adds (56x56x24 .. 7x7x160: 94 KB to 0.9 MB over three arrays) miss
 * L1 and run at L2 bandwidth, about 0.1 ns per element here, which a compiler-vectorized bare
 * y[i] = a[i] + b[i] loop matches; more unrolling or software prefetch did not help. */
#include <stdbool.h>
#include <stddef.h>

#include "qk/float.h"
#include "eltwise_bcast.h"
#include "variants.h"

#define FA_INLINE static inline __attribute__((always_inline))
#define FA_TILE 1024 /* floats of the per-channel tile: 4 KiB of stack */

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

/* The flat per-channel row: n outputs of v (advancing) against t[0 .. period) repeated, period a
 * multiple of LANES, so every read of t is a whole vector; t_first: t holds input 1. */
FA_INLINE void fa_tiled(const float *v, const float *t, size_t period, float *y, size_t n, bool t_first, fg_vec lo,
                        fg_vec hi) {
  enum { L = FG_LANES };
  size_t j = 0;
  for (; n >= 4 * L; n -= 4 * L, v += 4 * L, y += 4 * L) {
    fg_vec vv[4], vt[4];
    for (int k = 0; k < 4; k++) {
      vv[k] = fg_loadu(v + k * L), vt[k] = fg_loadu(t + j);
      j = j + L == period ? 0 : j + L;
    }
    for (int k = 0; k < 4; k++)
      fg_store(y + k * L, t_first ? fa_add_clamp(vt[k], vv[k], lo, hi) : fa_add_clamp(vv[k], vt[k], lo, hi));
  }
  for (; n >= L; n -= L, v += L, y += L) {
    const fg_vec vv = fg_loadu(v), vt = fg_loadu(t + j);
    j = j + L == period ? 0 : j + L;
    fg_store(y, t_first ? fa_add_clamp(vt, vv, lo, hi) : fa_add_clamp(vv, vt, lo, hi));
  }
  if (n) {
    const fg_vec vv = fg_load_part(v, n), vt = fg_loadu(t + j);
    fg_store_part(y, t_first ? fa_add_clamp(vt, vv, lo, hi) : fa_add_clamp(vv, vt, lo, hi), n);
  }
}
static void fa_tiled_1(const float *v, const float *t, size_t period, float *y, size_t n, fg_vec lo, fg_vec hi) {
  fa_tiled(v, t, period, y, n, true, lo, hi);
}
static void fa_tiled_2(const float *v, const float *t, size_t period, float *y, size_t n, fg_vec lo, fg_vec hi) {
  fa_tiled(v, t, period, y, n, false, lo, hi);
}

/* Whether the outer loops with element strides st walk rows of plan->row back to back (1) or stay
 * on one row (0); -1 otherwise. */
static int fa_outer_walk(const qk_bcast_plan *plan, const size_t st[3]) {
  bool flat = true, still = true;
  size_t span = plan->row;
  for (int j = 2; j >= 0; j--) {
    if (plan->outer[j] == 1) continue;
    flat = flat && st[j] == span, still = still && st[j] == 0;
    span *= plan->outer[j];
  }
  return flat ? 1 : still ? 0 : -1;
}

static size_t fa_gcd(size_t a, size_t b) {
  while (b) {
    const size_t r = a % b;
    a = b, b = r;
  }
  return a;
}

/* The per-channel case (see the top): true if done. a, b: the plan's inputs (a VV plan is never
 * swapped, so a is input 1). */
static bool fa_per_channel(const qk_bcast_plan *plan, const float *a, const float *b, float *y, fg_vec lo, fg_vec hi) {
  const size_t rows = plan->outer[0] * plan->outer[1] * plan->outer[2], C = plan->row;
  if (plan->kind != QK_BCAST_VV || rows == 1) return false;
  const size_t period = C / fa_gcd(C, FG_LANES) * FG_LANES;
  if (period > FA_TILE) return false;
  const int wa = fa_outer_walk(plan, plan->sta), wb = fa_outer_walk(plan, plan->stb);
  if (!((wa == 1 && wb == 0) || (wa == 0 && wb == 1))) return false;
  const float *rep = wa == 0 ? a : b;
  _Alignas(64) float tile[FA_TILE];
  for (size_t i = 0; i < period; i += C)
    for (size_t c = 0; c < C; c++) tile[i + c] = rep[c];
  (wa == 0 ? fa_tiled_1 : fa_tiled_2)(wa == 0 ? b : a, tile, period, y, rows * C, lo, hi);
  return true;
}

void FA_NAME(const qk_add_f32_params *p, const size_t s1[4], const float *x1, const size_t s2[4], const float *x2,
             float *y) {
  qk_bcast_plan plan;
  qk_bcast_plan_make(s1, s2, &plan);
  const fg_vec lo = fg_set1(p->act_min), hi = fg_set1(p->act_max);
  const float *a = plan.swapped ? x2 : x1, *b = plan.swapped ? x1 : x2;
  if (fa_per_channel(&plan, a, b, y, lo, hi)) return;
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
