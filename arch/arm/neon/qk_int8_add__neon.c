/* int8 Add with 4-D broadcasting, armv8-a NEON, 16 outputs per step. Matches qk_ref_add_int8
 * (SPEC.md §6) bit for bit, three roundings included:
 *   r1 = MBQM32((x1 - zp1) << ls, m1, sh1),  r2 likewise,  y = MBQM32(r1 + r2, mo, sho) + zpo
 * - x - zp comes from one widening subtract (SSUBL), in [-255, 255]; shifted by ls <= 20 it stays
 *   below 2^28, so no step can overflow before the multiplies.
 * - In double rounding the left shift by ls rides on the requant.h helper's own left shift (its
 *   wrap never triggers here); single rounding shifts first, then uses the 64-bit helper.
 * - r1 + r2 is a plain int32 add (wraps like the reference's), then the output rescale, the zero
 *   point with wrap, and a saturating narrow whose result the clamp bounds cannot tell from the
 *   reference's int32 clamp.
 * Broadcasting follows eltwise_bcast.h: outer loops around a row in which one input may be a single
 * repeated value; that side's r is computed once per row. Rows end through stack buffers, never a
 * wide access past the row: y may alias an input, and any buffer may end at a guard page. */
#include <arm_neon.h>
#include <stddef.h>
#include <stdint.h>

#include "eltwise_bcast.h"
#include "neon_tail.h"
#include "requant.h"
#include "variants.h"

typedef struct side {
  int8x16_t zp;
  int32x4_t m, lsh, rsh, tneg, ls;
} side;

typedef struct consts {
  side in[2];
  int32x4_t mo, lsho, rsho, tnego;
  qk_neon_out out;
} consts;

static side side_init(int32_t zp, int ls, int32_t m, int32_t shift) {
  side s;
  s.zp = vdupq_n_s8((int8_t)zp);
  s.m = vdupq_n_s32(m);
  /* shift <= 0 (checked by the API), so the double-rounding left shift is just ls. */
  s.lsh = vdupq_n_s32(ls);
  s.rsh = vdupq_n_s32(shift);
  s.tneg = vdupq_n_s32(shift - 31);
  s.ls = vdupq_n_s32(ls);
  return s;
}

static inline int32x4_t scale_one(const side *s, bool single, int32x4_t d) {
  if (single) return qk_neon_mbqm_single(vshlq_s32(d, s->ls), s->m, s->tneg);
  return qk_neon_mbqm_double(d, s->m, s->lsh, s->rsh);
}

/* r for 16 inputs. */
static inline void scale16(const side *s, bool single, int8x16_t x, int32x4_t r[4]) {
  const int16x8_t lo = vsubl_s8(vget_low_s8(x), vget_low_s8(s->zp));
  const int16x8_t hi = vsubl_high_s8(x, s->zp);
  r[0] = scale_one(s, single, vmovl_s16(vget_low_s16(lo)));
  r[1] = scale_one(s, single, vmovl_high_s16(lo));
  r[2] = scale_one(s, single, vmovl_s16(vget_low_s16(hi)));
  r[3] = scale_one(s, single, vmovl_high_s16(hi));
}

static inline int32x4_t out_one(const consts *k, int32x4_t sum) {
  sum = k->out.single ? qk_neon_mbqm_single(sum, k->mo, k->tnego) : qk_neon_mbqm_double(sum, k->mo, k->lsho, k->rsho);
  return vaddq_s32(sum, k->out.zp);
}

static inline int8x16_t finish16(const consts *k, const int32x4_t r1[4], const int32x4_t r2[4]) {
  int32x4_t v[4];
  for (int i = 0; i < 4; i++) v[i] = out_one(k, vaddq_s32(r1[i], r2[i]));
  return qk_neon_narrow_clamp_s8x16(v[0], v[1], v[2], v[3], &k->out);
}

/* One row of n outputs; step1 / step2 are 1 (contiguous) or 0 (x[0] repeated). */
static void add_row(const consts *k, const int8_t *x1, size_t step1, const int8_t *x2, size_t step2, int8_t *y,
                    size_t n) {
  const bool single = k->out.single;
  int32x4_t r1[4], r2[4];
  size_t i = 0;
  if (step1 && step2) {
    for (; i + 16 <= n; i += 16) {
      scale16(&k->in[0], single, vld1q_s8(x1 + i), r1);
      scale16(&k->in[1], single, vld1q_s8(x2 + i), r2);
      vst1q_s8(y + i, finish16(k, r1, r2));
    }
    if (i < n) {
      scale16(&k->in[0], single, qk_neon_load_s8x16_part(x1 + i, n - i), r1);
      scale16(&k->in[1], single, qk_neon_load_s8x16_part(x2 + i, n - i), r2);
      qk_neon_store_s8x16(y + i, finish16(k, r1, r2), n - i);
    }
    return;
  }
  /* One side repeats a single value: its r is the same in every lane, computed once. */
  const int s = step1 ? 0 : 1; /* index of the side that streams */
  const int8_t *xs = step1 ? x1 : x2;
  int32x4_t rc[4], rv[4];
  scale16(&k->in[1 - s], single, vdupq_n_s8(step1 ? x2[0] : x1[0]), rc);
  for (; i + 16 <= n; i += 16) {
    scale16(&k->in[s], single, vld1q_s8(xs + i), rv);
    vst1q_s8(y + i, finish16(k, rv, rc));
  }
  if (i < n) {
    scale16(&k->in[s], single, qk_neon_load_s8x16_part(xs + i, n - i), rv);
    qk_neon_store_s8x16(y + i, finish16(k, rv, rc), n - i);
  }
}

void qk_int8_add__neon_run(const qk_add_int8_params *p, const size_t s1[4], const int8_t *x1, const size_t s2[4],
                           const int8_t *x2, int8_t *y) {
  consts k;
  k.in[0] = side_init(p->input1_zp, p->left_shift, p->input1_multiplier, p->input1_shift);
  k.in[1] = side_init(p->input2_zp, p->left_shift, p->input2_multiplier, p->input2_shift);
  k.mo = vdupq_n_s32(p->output_multiplier);
  k.lsho = vdupq_n_s32(0);
  k.rsho = vdupq_n_s32(p->output_shift);
  k.tnego = vdupq_n_s32(p->output_shift - 31);
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
        add_row(&k, x1 + o1, b.step1, x2 + o2, b.step2, y, b.n);
        y += b.n;
      }
}
