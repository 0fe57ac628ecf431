/* int8 Mul with 4-D broadcasting, armv8-a NEON, 16 outputs per step. Matches qk_ref_mul_int8
 * (SPEC.md §7) bit for bit:
 *   y = clamp(MBQM32((x1 - zp1) * (x2 - zp2), m, shift) + zpo, act_min, act_max)
 * - Each difference comes from one widening subtract (SSUBL) into int16 ([-255, 255]); their
 *   product (|p| <= 65025) needs 32 bits, so it is formed by the widening SMULL / SMULL2 on int16.
 * - The shift may be positive: the requant.h double-rounding helper shifts left with wrap as the
 *   reference's int32 shift does, the single-rounding one works in 64 bits.
 * Broadcasting follows eltwise_bcast.h: outer loops around a row in which one input may be a single
 * repeated value, kept as a splatted difference. Rows end through stack buffers, never a wide
 * access past the row: y may alias an input, and any buffer may end at a guard page. */
#include <arm_neon.h>
#include <stddef.h>
#include <stdint.h>

#include "eltwise_bcast.h"
#include "neon_tail.h"
#include "requant.h"
#include "variants.h"

typedef struct consts {
  int8x16_t zp1, zp2;
  int32x4_t m, lsh, rsh, tneg;
  qk_neon_out out;
} consts;

static inline int32x4_t out_one(const consts *k, int32x4_t p) {
  p = k->out.single ? qk_neon_mbqm_single(p, k->m, k->tneg) : qk_neon_mbqm_double(p, k->m, k->lsh, k->rsh);
  return vaddq_s32(p, k->out.zp);
}

/* a, b: the two differences for 16 lanes (low and high int16x8 halves). */
static inline int8x16_t mul16(const consts *k, const int16x8_t a[2], const int16x8_t b[2]) {
  const int32x4_t p0 = out_one(k, vmull_s16(vget_low_s16(a[0]), vget_low_s16(b[0])));
  const int32x4_t p1 = out_one(k, vmull_high_s16(a[0], b[0]));
  const int32x4_t p2 = out_one(k, vmull_s16(vget_low_s16(a[1]), vget_low_s16(b[1])));
  const int32x4_t p3 = out_one(k, vmull_high_s16(a[1], b[1]));
  return qk_neon_narrow_clamp_s8x16(p0, p1, p2, p3, &k->out);
}

static inline void diff16(int8x16_t x, int8x16_t zp, int16x8_t d[2]) {
  d[0] = vsubl_s8(vget_low_s8(x), vget_low_s8(zp));
  d[1] = vsubl_high_s8(x, zp);
}

/* One row of n outputs; step1 / step2 are 1 (contiguous) or 0 (x[0] repeated). */
static void mul_row(const consts *k, const int8_t *x1, size_t step1, const int8_t *x2, size_t step2, int8_t *y,
                    size_t n) {
  int16x8_t a[2], b[2];
  size_t i = 0;
  if (step1 && step2) {
    for (; i + 16 <= n; i += 16) {
      diff16(vld1q_s8(x1 + i), k->zp1, a);
      diff16(vld1q_s8(x2 + i), k->zp2, b);
      vst1q_s8(y + i, mul16(k, a, b));
    }
    if (i < n) {
      diff16(qk_neon_load_s8x16_part(x1 + i, n - i), k->zp1, a);
      diff16(qk_neon_load_s8x16_part(x2 + i, n - i), k->zp2, b);
      qk_neon_store_s8x16(y + i, mul16(k, a, b), n - i);
    }
    return;
  }
  /* One side repeats a single value; the product commutes, so the streaming side goes first. */
  const int8_t *xs = step1 ? x1 : x2;
  const int8x16_t zs = step1 ? k->zp1 : k->zp2;
  int16x8_t c[2];
  diff16(vdupq_n_s8(step1 ? x2[0] : x1[0]), step1 ? k->zp2 : k->zp1, c);
  for (; i + 16 <= n; i += 16) {
    diff16(vld1q_s8(xs + i), zs, a);
    vst1q_s8(y + i, mul16(k, a, c));
  }
  if (i < n) {
    diff16(qk_neon_load_s8x16_part(xs + i, n - i), zs, a);
    qk_neon_store_s8x16(y + i, mul16(k, a, c), n - i);
  }
}

void qk_int8_mul__neon_run(const qk_mul_int8_params *p, const size_t s1[4], const int8_t *x1, const size_t s2[4],
                           const int8_t *x2, int8_t *y) {
  consts k;
  k.zp1 = vdupq_n_s8((int8_t)p->input1_zp);
  k.zp2 = vdupq_n_s8((int8_t)p->input2_zp);
  k.m = vdupq_n_s32(p->output_multiplier);
  k.lsh = vdupq_n_s32(p->output_shift > 0 ? p->output_shift : 0);
  k.rsh = vdupq_n_s32(p->output_shift > 0 ? 0 : p->output_shift);
  k.tneg = vdupq_n_s32(p->output_shift - 31);
  k.out.zp = vdupq_n_s32(p->output_zp);
  k.out.lo = vdupq_n_s8((int8_t)p->act_min);
  k.out.hi = vdupq_n_s8((int8_t)p->act_max);
  k.out.single = p->rounding == QK_ROUND_SINGLE;
  qk_bcast_plan b;
  qk_bcast_plan_make(s1, s2, &b);
  for (size_t i0 = 0; i0 < b.outer[0]; i0++)
    for (size_t i1 = 0; i1 < b.outer[1]; i1++)
      for (size_t i2 = 0; i2 < b.outer[2]; i2++) {
        const size_t o1 = i0 * b.s1[0] + i1 * b.s1[1] + i2 * b.s1[2];
        const size_t o2 = i0 * b.s2[0] + i1 * b.s2[1] + i2 * b.s2[2];
        mul_row(&k, x1 + o1, b.step1, x2 + o2, b.step2, y, b.n);
        y += b.n;
      }
}
