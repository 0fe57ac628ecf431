/* int16 Add (general-scale path) with 4-D broadcasting, armv8-a NEON, 16 outputs per step.
 * Matches qk_ref_add_i16 (SPEC.md §6, int16 notes) bit for bit, three roundings included:
 *   r1 = MBQM32((x1 - zp1) << ls, m1, sh1),  r2 likewise,  y = MBQM32(r1 + r2, mo, sho) + zpo
 * - x - zp comes from one widening subtract (SSUBL / SSUBL2) into int32, in [-65535, 65535]; with
 *   ls <= 15 (the API's check) the shifted value stays below 2^31, so no step overflows before
 *   the multiplies.
 * - In double rounding the left shift rides on requant.h's helper's own left shift (all shifts
 *   here are <= 0, so MBQM32's own left shift is 0); single rounding shifts first, then uses the
 *   64-bit helper. Both helpers are exactly qk_mbqm32.
 * - r1 + r2 is a plain int32 add (wraps like the reference's), then the output rescale, the zero
 *   point with int32 wrap, and a saturating narrow to int16 whose result the clamp (bounds inside
 *   int16) cannot tell from the reference's int32 clamp.
 * Broadcasting follows eltwise_bcast.h: outer loops around a row in which one input may be a single
 * repeated value; that side's r is computed once per row. Rows end through stack buffers, never a
 * wide access past the row: y may alias an input, and any buffer may end at a guard page. */
#include <arm_neon.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eltwise_bcast.h"
#include "i16x8_neon.h"
#include "requant.h"
#include "variants.h"

typedef struct side {
  int16x8_t zp;
  int32x4_t m, ls, rsh, tneg;
} side;

typedef struct consts {
  side in[2];
  int32x4_t mo, zero, rsho, tnego, zpo;
  int16x8_t lo, hi;
  bool single;
} consts;

static side side_init(int32_t zp, int ls, int32_t m, int32_t shift) {
  side s;
  s.zp = vdupq_n_s16((int16_t)zp);
  s.m = vdupq_n_s32(m);
  s.ls = vdupq_n_s32(ls);
  s.rsh = vdupq_n_s32(shift); /* shift <= 0 (checked by the API): the whole of it is a right shift */
  s.tneg = vdupq_n_s32(shift - 31);
  return s;
}

static inline int32x4_t scale_one(const side *s, bool single, int32x4_t d) {
  if (single) return qk_neon_mbqm_single(vshlq_s32(d, s->ls), s->m, s->tneg);
  return qk_neon_mbqm_double(d, s->m, s->ls, s->rsh);
}

/* r for 16 inputs (a: lanes 0-7, b: lanes 8-15). */
static inline void scale16(const side *s, bool single, int16x8_t a, int16x8_t b, int32x4_t r[4]) {
  r[0] = scale_one(s, single, vsubl_s16(vget_low_s16(a), vget_low_s16(s->zp)));
  r[1] = scale_one(s, single, vsubl_high_s16(a, s->zp));
  r[2] = scale_one(s, single, vsubl_s16(vget_low_s16(b), vget_low_s16(s->zp)));
  r[3] = scale_one(s, single, vsubl_high_s16(b, s->zp));
}

static inline int32x4_t out_one(const consts *k, int32x4_t sum) {
  sum = k->single ? qk_neon_mbqm_single(sum, k->mo, k->tnego) : qk_neon_mbqm_double(sum, k->mo, k->zero, k->rsho);
  return vaddq_s32(sum, k->zpo);
}

static inline void finish16(const consts *k, const int32x4_t r1[4], const int32x4_t r2[4], int16_t *y, size_t n) {
  int32x4_t v[4];
  for (int i = 0; i < 4; i++) v[i] = out_one(k, vaddq_s32(r1[i], r2[i]));
  qk_neon_store_s16x16(y, qk_neon_narrow_clamp_s16(v[0], v[1], k->lo, k->hi),
                       qk_neon_narrow_clamp_s16(v[2], v[3], k->lo, k->hi), n);
}

/* r of 16 inputs from p: full vectors while 16 remain in the row, else through the stack. */
static inline void scale_at(const side *s, bool single, const int16_t *p, size_t avail, int32x4_t r[4]) {
  int16x8_t v[2];
  if (avail >= 16) v[0] = vld1q_s16(p), v[1] = vld1q_s16(p + 8);
  else qk_neon_load_s16x16_part(p, avail, v);
  scale16(s, single, v[0], v[1], r);
}

/* One row of n outputs; step1 / step2 are 1 (contiguous) or 0 (x[0] repeated). The whole row is
 * read before the stores of each step: y may alias x1 or x2 element for element. */
static void add_row(const consts *k, const int16_t *x1, size_t step1, const int16_t *x2, size_t step2, int16_t *y,
                    size_t n) {
  const bool single = k->single;
  int32x4_t r1[4], r2[4];
  if (step1 && step2) {
    for (size_t i = 0; i < n; i += 16) {
      scale_at(&k->in[0], single, x1 + i, n - i, r1);
      scale_at(&k->in[1], single, x2 + i, n - i, r2);
      finish16(k, r1, r2, y + i, n - i);
    }
    return;
  }
  /* One side repeats a single value: its r is the same in every lane, computed once. */
  const int s = step1 ? 0 : 1; /* index of the side that streams */
  const int16_t *xs = step1 ? x1 : x2;
  const int16x8_t c = vdupq_n_s16(step1 ? x2[0] : x1[0]);
  int32x4_t rc[4], rv[4];
  scale16(&k->in[1 - s], single, c, c, rc);
  for (size_t i = 0; i < n; i += 16) {
    scale_at(&k->in[s], single, xs + i, n - i, rv);
    finish16(k, rv, rc, y + i, n - i); /* r1 + r2 commutes */
  }
}

void qk_i16x8_add__neon_run(const qk_add_int8_params *p, const size_t s1[4], const int16_t *x1, const size_t s2[4],
                            const int16_t *x2, int16_t *y) {
  consts k;
  k.in[0] = side_init(p->input1_zp, p->left_shift, p->input1_multiplier, p->input1_shift);
  k.in[1] = side_init(p->input2_zp, p->left_shift, p->input2_multiplier, p->input2_shift);
  k.mo = vdupq_n_s32(p->output_multiplier);
  k.zero = vdupq_n_s32(0);
  k.rsho = vdupq_n_s32(p->output_shift);
  k.tnego = vdupq_n_s32(p->output_shift - 31);
  k.zpo = vdupq_n_s32(p->output_zp);
  k.lo = vdupq_n_s16((int16_t)p->act_min);
  k.hi = vdupq_n_s16((int16_t)p->act_max);
  k.single = p->rounding == QK_ROUND_SINGLE;
  qk_bcast_plan b;
  qk_bcast_plan_make(s1, s2, &b);
  for (size_t i0 = 0; i0 < b.outer[0]; i0++)
    for (size_t i1 = 0; i1 < b.outer[1]; i1++)
      for (size_t i2 = 0; i2 < b.outer[2]; i2++) {
        const size_t o1 = i0 * b.s1[0] + i1 * b.s1[1] + i2 * b.s1[2];
        const size_t o2 = i0 * b.s2[0] + i1 * b.s2[1] + i2 * b.s2[2];
        add_row(&k, x1 + o1, b.step1, x2 + o2, b.step2, y, b.n);
        y += b.n;
      }
}
