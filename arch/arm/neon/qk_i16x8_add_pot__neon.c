/* int16 Add, TFLite's power-of-two-scale path, NEON: bit-exact with qk_ref_add_i16_pot
 * (qk/add_i16_pot.h), 16 elements per step.
 *
 * RoundingDivideByPOT<int16>(x, e) in int16 lanes, as gemmlowp's generic template computes it:
 * q = x >> e (SSHL by -e: a right shift of 16 or more fills with the sign bit, as (int)x >> e
 * does for int16 x), q += (x & mask) > (mask >> 1) + (x < 0), with mask = int16(2^e - 1). For
 * e >= 16 the mask is -1 and the same steps give +1 / -1 (the reference's quirk), so one formula
 * covers every e in [0, 31]. SRSHL would round ties up, not away from zero, hence the explicit
 * form. Then the saturating int16 add (SQADD) and the clamp. The tail (< 16 elements) goes
 * through a stack buffer, so nothing past the tensors is touched. */
#include <arm_neon.h>
#include <stdint.h>
#include <string.h>

#include "variants.h"

typedef struct pot_k {
  int16x8_t cnt, mask, half, lo, hi;
} pot_k;

static inline __attribute__((always_inline)) int16x8_t pot8(const pot_k *k, int16x8_t s, int16x8_t p) {
  /* Comparison results are all-ones (-1 as int16): subtracting one adds 1. */
  const int16x8_t thr = vsubq_s16(k->half, vreinterpretq_s16_u16(vcltzq_s16(s)));
  const int16x8_t q = vsubq_s16(vshlq_s16(s, k->cnt), vreinterpretq_s16_u16(vcgtq_s16(vandq_s16(s, k->mask), thr)));
  return vminq_s16(vmaxq_s16(vqaddq_s16(q, p), k->lo), k->hi);
}

void qk_i16x8_add_pot__neon_run(const qk_add_i16_pot_params *p, size_t n, const int16_t *x1, const int16_t *x2,
                                int16_t *y) {
  const int first_plain = p->input1_shift == 0;
  const int16_t *pl = first_plain ? x1 : x2, *sh = first_plain ? x2 : x1;
  const int e = first_plain ? -p->input2_shift : -p->input1_shift;
  const int16_t mask = (int16_t)(uint16_t)((UINT64_C(1) << e) - 1u);
  const pot_k k = {vdupq_n_s16((int16_t)-e), vdupq_n_s16(mask), vdupq_n_s16((int16_t)(mask >> 1)),
                   vdupq_n_s16((int16_t)p->act_min), vdupq_n_s16((int16_t)p->act_max)};
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    vst1q_s16(y + i, pot8(&k, vld1q_s16(sh + i), vld1q_s16(pl + i)));
    vst1q_s16(y + i + 8, pot8(&k, vld1q_s16(sh + i + 8), vld1q_s16(pl + i + 8)));
  }
  if (i + 8 <= n) {
    vst1q_s16(y + i, pot8(&k, vld1q_s16(sh + i), vld1q_s16(pl + i)));
    i += 8;
  }
  if (i < n) {
    int16_t bs[8] = {0}, bp[8] = {0}, by[8];
    memcpy(bs, sh + i, (n - i) * sizeof *bs);
    memcpy(bp, pl + i, (n - i) * sizeof *bp);
    vst1q_s16(by, pot8(&k, vld1q_s16(bs), vld1q_s16(bp)));
    memcpy(y + i, by, (n - i) * sizeof *by);
  }
}
