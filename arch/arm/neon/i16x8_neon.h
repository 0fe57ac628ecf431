/* Pieces shared by the armv8-a NEON 16x8 variants (FC, depthwise): MBQM64 on vectors, the int16
 * clamp, and int16 tail loads and stores that never touch memory past the caller's buffers.
 * Base armv8-a only.
 *
 * MBQM64 (SPEC.md §1.5): out = int32((acc * rm + 2^(t-1)) >> t), rm = the 15-bit reduced
 * multiplier, t = 15 - shift in [8, 46]. NEON has no 64 x 64 multiply, so each int64 lane is split
 * as acc = hi * 2^32 + lo with lo the unsigned low word and hi the signed high word:
 *   acc * rm = (hi * rm) * 2^32 + lo * rm
 * - lo * rm < 2^32 * 2^15 = 2^47 (UMULL, exact, non-negative);
 * - the contract |acc| < 2^47 gives |hi| <= 2^15, so |hi * rm| <= 2^30 (SMULL) and the shifted
 *   term stays below 2^62; the sum is the exact int64 product the reference forms.
 * SRSHL by -t is exactly (p + 2^(t-1)) >> t (the hardware rounds without losing the carry, and the
 * reference's sum cannot overflow: |p| < 2^62, 2^(t-1) <= 2^45). XTN keeps the low 32 bits, the
 * reference's int32 truncation. */
#ifndef QK_ARM_NEON_I16X8_H
#define QK_ARM_NEON_I16X8_H

#include <arm_neon.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The reduced multiplier of SPEC.md §1.5, computed once at pack time. */
static inline int32_t qk_i16x8_reduced_multiplier(int32_t m) {
  return m < 0x7FFF0000 ? (int32_t)(((int64_t)m + (1 << 15)) >> 16) : 0x7FFF;
}

/* Four channels: a holds channels 0-1, b channels 2-3; rm their reduced multipliers; ta, tb
 * their -t as SRSHL counts. */
static inline __attribute__((always_inline)) int32x4_t qk_neon_mbqm64x4(int64x2_t a, int64x2_t b, int32x4_t rm,
                                                                        int64x2_t ta, int64x2_t tb) {
  const int32x4_t wa = vreinterpretq_s32_s64(a), wb = vreinterpretq_s32_s64(b);
  const uint32x4_t lo = vreinterpretq_u32_s32(vuzp1q_s32(wa, wb)); /* low words, channels 0-3 */
  const int32x4_t hi = vuzp2q_s32(wa, wb);                         /* high words */
  const uint32x4_t urm = vreinterpretq_u32_s32(rm);
  int64x2_t pa = vreinterpretq_s64_u64(vmull_u32(vget_low_u32(lo), vget_low_u32(urm)));
  int64x2_t pb = vreinterpretq_s64_u64(vmull_high_u32(lo, urm));
  pa = vaddq_s64(pa, vshlq_n_s64(vmull_s32(vget_low_s32(hi), vget_low_s32(rm)), 32));
  pb = vaddq_s64(pb, vshlq_n_s64(vmull_high_s32(hi, rm), 32));
  return vmovn_high_s64(vmovn_s64(vrshlq_s64(pa, ta)), vrshlq_s64(pb, tb));
}

/* int32 -> int16 then the clamp. Saturating first is exact: the clamp bounds lie inside int16,
 * so clamp(sat16(v)) == clamp(v) for every int32 v. */
static inline int16x8_t qk_neon_narrow_clamp_s16(int32x4_t a, int32x4_t b, int16x8_t lo, int16x8_t hi) {
  return vminq_s16(vmaxq_s16(vqmovn_high_s32(vqmovn_s32(a), b), lo), hi);
}

/* The first n (< 16) int16 of p in v[0] (lanes 0-7) and v[1] (8-15); the rest read as zero. */
static inline void qk_neon_load_s16x16_part(const int16_t *p, size_t n, int16x8_t v[2]) {
  int16_t buf[16] = {0};
  memcpy(buf, p, n * sizeof *p);
  v[0] = vld1q_s16(buf);
  v[1] = vld1q_s16(buf + 8);
}

/* Stores the first n (<= 16) lanes of (a, b); full vectors only where they fit. */
static inline void qk_neon_store_s16x16(int16_t *p, int16x8_t a, int16x8_t b, size_t n) {
  if (n >= 16) {
    vst1q_s16(p, a);
    vst1q_s16(p + 8, b);
    return;
  }
  int16_t buf[16];
  vst1q_s16(buf, a);
  vst1q_s16(buf + 8, b);
  memcpy(p, buf, n * sizeof *p);
}

#endif
