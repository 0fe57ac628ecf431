/* NEON requantization shared by every ARM int8 variant (neon, neondot, i8mm folders): bit-exact
 * with qk_mbqm32 (SPEC.md §1.3, §1.4), then the output zero point with int32 wrap and the clamp.
 * Base armv8-a NEON only, so it compiles under each folder's -march. */
#ifndef QK_ARM_NEON_REQUANT_H
#define QK_ARM_NEON_REQUANT_H

#include <arm_neon.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "qk/fc.h"

/* Per-call output constants, taken from the descriptor's scalars. */
typedef struct qk_neon_out {
  int32x4_t zp;
  int8x16_t lo, hi;
  bool single;
} qk_neon_out;

static inline qk_neon_out qk_neon_out_init(const qk_fc_int8_desc *d) {
  qk_neon_out o;
  o.zp = vdupq_n_s32(d->output_zp);
  o.lo = vdupq_n_s8((int8_t)d->act_min);
  o.hi = vdupq_n_s8((int8_t)d->act_max);
  o.single = d->rounding == QK_ROUND_SINGLE;
  return o;
}

/* Double rounding: RDBPOT(SRDHM(x << ls, m), rs).
 * - vshlq_s32 (SSHL) drops the high bits, i.e. wraps like TFLite's int32 shift; a saturating
 *   shift would not.
 * - vqrdmulhq_s32 is SRDHM exactly: it saturates only for INT32_MIN * INT32_MIN, and m >= 0.
 * - vrshlq_s32 by -rs rounds half up; subtracting 1 from negative values first makes ties go away
 *   from zero as RDBPOT does. vqaddq keeps INT32_MIN from wrapping, and INT32_MIN is an exact
 *   multiple of 2^rs, so it rounds the same either way. With rs = 0 the mask is 0: no fix-up. */
static inline int32x4_t qk_neon_mbqm_double(int32x4_t x, int32x4_t m, int32x4_t lsh,
                                            int32x4_t rsh) {
  x = vshlq_s32(x, lsh);
  x = vqrdmulhq_s32(x, m);
  const int32x4_t fix = vshrq_n_s32(vandq_s32(x, rsh), 31);
  x = vqaddq_s32(x, fix);
  return vrshlq_s32(x, rsh);
}

/* Single rounding: int32((x*m + 2^(t-1)) >> t), t = 31 - shift in [1, 62]. |x*m| < 2^62, so
 * SRSHL's (p + 2^(t-1)) >> t equals the reference's int64 sum; XTN truncates like its cast. */
static inline int32x4_t qk_neon_mbqm_single(int32x4_t x, int32x4_t m, int32x4_t tneg) {
  int64x2_t lo = vmull_s32(vget_low_s32(x), vget_low_s32(m));
  int64x2_t hi = vmull_high_s32(x, m);
  lo = vrshlq_s64(lo, vmovl_s32(vget_low_s32(tneg)));
  hi = vrshlq_s64(hi, vmovl_high_s32(tneg));
  return vmovn_high_s64(vmovn_s64(lo), hi);
}

/* Requantizes channels [c, c+4) of a packed block (p points at its bias array, see fc_pack.h) and
 * adds the output zero point with int32 wrap. */
static inline int32x4_t qk_neon_requant(int32x4_t acc, const int32_t *p, size_t nr, size_t c,
                                        const qk_neon_out *o) {
  acc = vaddq_s32(acc, vld1q_s32(p + c));
  const int32x4_t m = vld1q_s32(p + nr + c);
  if (o->single) acc = qk_neon_mbqm_single(acc, m, vld1q_s32(p + 4 * nr + c));
  else acc = qk_neon_mbqm_double(acc, m, vld1q_s32(p + 2 * nr + c), vld1q_s32(p + 3 * nr + c));
  return vaddq_s32(acc, o->zp);
}

/* int32 -> int8 then clamp. Saturating first is exact: the clamp bounds lie inside [-128, 127],
 * so clamp(sat8(v)) == clamp(v) for every int32 v. */
static inline int8x8_t qk_neon_narrow_clamp_s8x8(int32x4_t a, int32x4_t b, const qk_neon_out *o) {
  const int8x8_t v = vqmovn_s16(vqmovn_high_s32(vqmovn_s32(a), b));
  return vmin_s8(vmax_s8(v, vget_low_s8(o->lo)), vget_low_s8(o->hi));
}

static inline int8x16_t qk_neon_narrow_clamp_s8x16(int32x4_t a, int32x4_t b, int32x4_t c,
                                                   int32x4_t d, const qk_neon_out *o) {
  const int16x8_t ab = vqmovn_high_s32(vqmovn_s32(a), b);
  const int16x8_t cd = vqmovn_high_s32(vqmovn_s32(c), d);
  const int8x16_t v = vqmovn_high_s16(vqmovn_s16(ab), cd);
  return vminq_s8(vmaxq_s8(v, o->lo), o->hi);
}

/* Stores the first n (<= 8) bytes of v. memcpy of a lane, not a cast pointer: y is unaligned. */
static inline void qk_neon_store_s8x8(int8_t *p, int8x8_t v, size_t n) {
  if (n >= 8) {
    vst1_s8(p, v);
    return;
  }
  if (n & 4) {
    const uint32_t t = vget_lane_u32(vreinterpret_u32_s8(v), 0);
    memcpy(p, &t, 4);
    p += 4;
    v = vext_s8(v, v, 4);
  }
  if (n & 2) {
    const uint16_t t = vget_lane_u16(vreinterpret_u16_s8(v), 0);
    memcpy(p, &t, 2);
    p += 2;
    v = vext_s8(v, v, 2);
  }
  if (n & 1) vst1_lane_s8(p, v, 0);
}

/* Stores the first n (<= 16) bytes of v. */
static inline void qk_neon_store_s8x16(int8_t *p, int8x16_t v, size_t n) {
  if (n >= 16) {
    vst1q_s8(p, v);
    return;
  }
  int8x8_t h = vget_low_s8(v);
  if (n & 8) {
    vst1_s8(p, h);
    p += 8;
    h = vget_high_s8(v);
  }
  qk_neon_store_s8x8(p, h, n & 7);
}

#endif
