/* Requantize int8 / uint8 -> int8 / uint8, armv8-a NEON, 16 values per step. Matches
 * qk_ref_requantize (SPEC.md §11, §15) bit for bit:
 *   out = clamp(MBQM32(x - zp_in, m, shift) + zp_out, output type range)
 * - x - zp_in comes from one widening subtract; for uint8 the 16-bit wrap read as int16 is the
 *   signed difference, which lies in [-255, 255].
 * - MBQM32 uses the shared requant.h helpers (both roundings), the output zero point is added with
 *   int32 wrap as the reference does, and SQXTN / SQXTUN chains are exactly the clamp to the type.
 * - (m, shift) = (2^30, 1), the equal-scale case of every int8 <-> uint8 boundary, is the identity in
 *   both roundings (double: SRDHM(2x, 2^30) = floor(x + 1/2) = x; single: (x*2^30 + 2^29) >> 30 = x),
 *   so it reduces to a saturating int16 add of zp_out - no 32-bit work. With zp_out = zp_in +- 128
 *   that is the x ^ 0x80 conversion. */
#include <arm_neon.h>
#include <stddef.h>
#include <stdint.h>

#include "neon_tail.h"
#include "requant.h"
#include "variants.h"

typedef struct consts {
  bool in_u8, out_u8, single;
  int8x16_t zp_in;
  int16x8_t zp_out16;
  int32x4_t zp_out, m, lsh, rsh, tneg;
} consts;

static inline void diff16(const consts *k, int8x16_t q, int16x8_t d[2]) {
  if (k->in_u8) {
    const uint8x16_t uq = vreinterpretq_u8_s8(q), uz = vreinterpretq_u8_s8(k->zp_in);
    d[0] = vreinterpretq_s16_u16(vsubl_u8(vget_low_u8(uq), vget_low_u8(uz)));
    d[1] = vreinterpretq_s16_u16(vsubl_high_u8(uq, uz));
  } else {
    d[0] = vsubl_s8(vget_low_s8(q), vget_low_s8(k->zp_in));
    d[1] = vsubl_high_s8(q, k->zp_in);
  }
}

static inline int8x16_t narrow16(const consts *k, int16x8_t a, int16x8_t b) {
  if (k->out_u8) return vreinterpretq_s8_u8(vqmovun_high_s16(vqmovun_s16(a), b));
  return vqmovn_high_s16(vqmovn_s16(a), b);
}

static inline int32x4_t mbqm(const consts *k, int32x4_t v) {
  v = k->single ? qk_neon_mbqm_single(v, k->m, k->tneg) : qk_neon_mbqm_double(v, k->m, k->lsh, k->rsh);
  return vaddq_s32(v, k->zp_out);
}

static inline int8x16_t requant16(const consts *k, int8x16_t q) {
  int16x8_t d[2];
  diff16(k, q, d);
  const int32x4_t a = mbqm(k, vmovl_s16(vget_low_s16(d[0]))), b = mbqm(k, vmovl_high_s16(d[0]));
  const int32x4_t c = mbqm(k, vmovl_s16(vget_low_s16(d[1]))), e = mbqm(k, vmovl_high_s16(d[1]));
  return narrow16(k, vqmovn_high_s32(vqmovn_s32(a), b), vqmovn_high_s32(vqmovn_s32(c), e));
}

/* |x - zp_in| <= 255 and |zp_out| <= 255: the int16 sum cannot wrap. */
static inline int8x16_t shift_zp16(const consts *k, int8x16_t q) {
  int16x8_t d[2];
  diff16(k, q, d);
  return narrow16(k, vaddq_s16(d[0], k->zp_out16), vaddq_s16(d[1], k->zp_out16));
}

static inline __attribute__((always_inline)) void loop(const consts *k, const int8_t *x, size_t n, int8_t *y,
                                                       bool identity) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const int8x16_t q = vld1q_s8(x + i);
    vst1q_s8(y + i, identity ? shift_zp16(k, q) : requant16(k, q));
  }
  if (i < n) {
    /* Via the stack: y may alias x, and either may end at a guard page. */
    const int8x16_t q = qk_neon_load_s8x16_part(x + i, n - i);
    qk_neon_store_s8x16(y + i, identity ? shift_zp16(k, q) : requant16(k, q), n - i);
  }
}

void qk_int8_requantize__neon_run(const qk_requant_params *p, const void *x, size_t n, void *y) {
  if ((p->in_type != QK_Q_INT8 && p->in_type != QK_Q_UINT8) || (p->out_type != QK_Q_INT8 && p->out_type != QK_Q_UINT8)) {
    qk_ref_requantize(p, x, n, y); /* wider types belong to other paths */
    return;
  }
  consts k;
  k.in_u8 = p->in_type == QK_Q_UINT8;
  k.out_u8 = p->out_type == QK_Q_UINT8;
  k.single = p->rounding == QK_ROUND_SINGLE;
  k.zp_in = k.in_u8 ? vreinterpretq_s8_u8(vdupq_n_u8((uint8_t)p->input_zp)) : vdupq_n_s8((int8_t)p->input_zp);
  k.zp_out16 = vdupq_n_s16((int16_t)p->output_zp);
  k.zp_out = vdupq_n_s32(p->output_zp);
  k.m = vdupq_n_s32(p->multiplier);
  k.lsh = vdupq_n_s32(p->shift > 0 ? p->shift : 0);
  k.rsh = vdupq_n_s32(p->shift > 0 ? 0 : p->shift);
  k.tneg = vdupq_n_s32(p->shift - 31);
  if (p->multiplier == (INT32_C(1) << 30) && p->shift == 1) loop(&k, x, n, y, true);
  else loop(&k, x, n, y, false);
}
