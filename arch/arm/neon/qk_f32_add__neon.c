/* f32 Add with 4-D broadcasting, armv8-a NEON, 16 outputs per step. One FADD (operands in the
 * reference's order, so even a NaN's payload is the same) and the reference's clamp per output:
 * bit for bit equal to qk_ref_add_f32.
 * Broadcasting follows eltwise_bcast.h: outer loops around a row in which one input may be a single
 * repeated value. Rows end with 4-wide steps and then a stack buffer, never an access past the row,
 * and every block is loaded before it is stored, so y may be one of the inputs. */
#include <arm_neon.h>
#include <stddef.h>

#include "eltwise_bcast.h"
#include "f32_neon.h"
#include "variants.h"

/* step1 / step2: 1 contiguous, 0 x[0] repeated. */
static void add_row(const float *x1, size_t step1, const float *x2, size_t step2, float *y, size_t n,
                    float32x4_t lo, float32x4_t hi) {
  const float32x4_t c1 = vld1q_dup_f32(x1), c2 = vld1q_dup_f32(x2);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    float32x4_t a[4], b[4];
    for (int j = 0; j < 4; j++) {
      a[j] = step1 ? vld1q_f32(x1 + i + 4 * j) : c1;
      b[j] = step2 ? vld1q_f32(x2 + i + 4 * j) : c2;
    }
    for (int j = 0; j < 4; j++) vst1q_f32(y + i + 4 * j, qk_f32_clamp(vaddq_f32(a[j], b[j]), lo, hi));
  }
  for (; i + 4 <= n; i += 4) {
    const float32x4_t a = step1 ? vld1q_f32(x1 + i) : c1, b = step2 ? vld1q_f32(x2 + i) : c2;
    vst1q_f32(y + i, qk_f32_clamp(vaddq_f32(a, b), lo, hi));
  }
  if (i < n) {
    const float32x4_t a = step1 ? qk_f32_load_part(x1 + i, n - i) : c1;
    const float32x4_t b = step2 ? qk_f32_load_part(x2 + i, n - i) : c2;
    qk_f32_store_part(y + i, qk_f32_clamp(vaddq_f32(a, b), lo, hi), n - i);
  }
}

void qk_f32_add__neon_run(const qk_add_f32_params *p, const size_t s1[4], const float *x1, const size_t s2[4],
                          const float *x2, float *y) {
  const float32x4_t lo = vdupq_n_f32(p->act_min), hi = vdupq_n_f32(p->act_max);
  qk_bcast_plan b;
  qk_bcast_plan_make(s1, s2, &b);
  for (size_t i0 = 0; i0 < b.outer[0]; i0++)
    for (size_t i1 = 0; i1 < b.outer[1]; i1++)
      for (size_t i2 = 0; i2 < b.outer[2]; i2++) {
        const size_t o1 = i0 * b.s1[0] + i1 * b.s1[1] + i2 * b.s1[2];
        const size_t o2 = i0 * b.s2[0] + i1 * b.s2[1] + i2 * b.s2[2];
        add_row(x1 + o1, b.step1, x2 + o2, b.step2, y, b.n, lo, hi);
        y += b.n;
      }
}
