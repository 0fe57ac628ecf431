/* Requantize int16 -> int16, armv8-a NEON, 16 values per step. Matches qk_ref_requantize
 * (SPEC.md §11 with int16 on both sides) bit for bit:
 *   out = clamp(MBQM32(x - zp_in, m, shift) + zp_out, -32768, 32767)
 * - x - zp_in comes exactly from one widening subtract (SSUBL) into int32.
 * - MBQM32 uses the shared requant.h helpers (both roundings; the double-rounding left shift wraps
 *   in int32 as the reference's does), the output zero point is added with int32 wrap as the
 *   reference does, and SQXTN is exactly the clamp to int16.
 * - (m, shift) = (2^30, 1), the equal-scale case, is the identity in both roundings (double:
 *   SRDHM(2v, 2^30) = floor(v + 1/2) = v; single: (v*2^30 + 2^29) >> 30 = v), so it reduces to
 *   x - zp_in + zp_out, which cannot wrap (|sum| < 2^17), and the narrow. */
#include <arm_neon.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "i16x8_neon.h"
#include "requant.h"
#include "variants.h"

typedef struct consts {
  bool single;
  int16x8_t zp_in;
  int32x4_t zp_out, m, lsh, rsh, tneg;
} consts;

static inline int32x4_t mbqm(const consts *k, int32x4_t v, bool identity) {
  if (!identity) v = k->single ? qk_neon_mbqm_single(v, k->m, k->tneg) : qk_neon_mbqm_double(v, k->m, k->lsh, k->rsh);
  return vaddq_s32(v, k->zp_out);
}

static inline int16x8_t requant8(const consts *k, int16x8_t q, bool identity) {
  const int32x4_t a = mbqm(k, vsubl_s16(vget_low_s16(q), vget_low_s16(k->zp_in)), identity);
  const int32x4_t b = mbqm(k, vsubl_high_s16(q, k->zp_in), identity);
  return vqmovn_high_s32(vqmovn_s32(a), b);
}

static inline __attribute__((always_inline)) void loop(const consts *k, const int16_t *x, size_t n, int16_t *y,
                                                       bool identity) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const int16x8_t a = vld1q_s16(x + i), b = vld1q_s16(x + i + 8);
    vst1q_s16(y + i, requant8(k, a, identity));
    vst1q_s16(y + i + 8, requant8(k, b, identity));
  }
  if (i < n) {
    /* Via the stack: y may alias x, and either may end at a guard page. */
    int16x8_t q[2];
    qk_neon_load_s16x16_part(x + i, n - i, q);
    qk_neon_store_s16x16(y + i, requant8(k, q[0], identity), requant8(k, q[1], identity), n - i);
  }
}

void qk_i16x8_requantize__neon_run(const qk_requant_params *p, const void *x, size_t n, void *y) {
  if (p->in_type != QK_Q_INT16 || p->out_type != QK_Q_INT16) {
    qk_ref_requantize(p, x, n, y); /* the 8-bit types belong to the int8 path */
    return;
  }
  consts k;
  k.single = p->rounding == QK_ROUND_SINGLE;
  k.zp_in = vdupq_n_s16((int16_t)p->input_zp);
  k.zp_out = vdupq_n_s32(p->output_zp);
  k.m = vdupq_n_s32(p->multiplier);
  k.lsh = vdupq_n_s32(p->shift > 0 ? p->shift : 0);
  k.rsh = vdupq_n_s32(p->shift > 0 ? 0 : p->shift);
  k.tneg = vdupq_n_s32(p->shift - 31);
  if (p->multiplier == (INT32_C(1) << 30) && p->shift == 1) loop(&k, x, n, y, true);
  else loop(&k, x, n, y, false);
}
