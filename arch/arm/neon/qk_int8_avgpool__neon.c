/* int8 AveragePool, NHWC, armv8-a NEON, 16 channels per step. Matches qk_ref_avgpool_int8
 * (SPEC.md §8) bit for bit: raw codes summed over the in-image taps, then
 *   avg = (sum > 0 ? sum + count/2 : sum - count/2) / count    (C division, truncating)
 * - Sums run in int16 (SADDW): up to 256 taps of [-128, 127] stay inside [-32768, 32512]. Larger
 *   windows flush into int32 every 256 taps.
 * - The division is a float32 FDIV truncated by FCVTZS, exact while |a| < 2^24 (a = the rounded
 *   numerator): a and count are then exact floats; if a/count is an integer the quotient is exact,
 *   otherwise it lies at least 1/count from every integer while the rounding error is below
 *   |a/count| * 2^-24 < 1/count, so truncation lands on the same integer. |sum| <= 128 * count, so
 *   windows of up to 2^16 taps qualify; larger ones divide lane by lane in C.
 * - The clamp bounds lie inside int8, so narrowing with saturation before clamping is exact. */
#include <arm_neon.h>
#include <stddef.h>
#include <stdint.h>

#include "neon_tail.h"
#include "pool_window.h"
#include "requant.h"
#include "variants.h"

enum { FLUSH = 256, FDIV_MAX_COUNT = 1 << 16 };

/* (sum +- count/2) / count for 4 lanes. */
static inline int32x4_t divide(int32x4_t sum, int32_t count) {
  const int32x4_t half = vdupq_n_s32(count / 2);
  const int32x4_t a = vbslq_s32(vcgtq_s32(sum, vdupq_n_s32(0)), vaddq_s32(sum, half), vsubq_s32(sum, half));
  if (count <= FDIV_MAX_COUNT)
    return vcvtq_s32_f32(vdivq_f32(vcvtq_f32_s32(a), vdupq_n_f32((float)count)));
  int32_t t[4];
  vst1q_s32(t, a);
  for (int i = 0; i < 4; i++) t[i] /= count;
  return vld1q_s32(t);
}

void qk_int8_avgpool__neon_run(const qk_pool_int8_desc *d, const qk_conv2d_geom *g, const int8_t *x, int8_t *y) {
  const size_t H = d->in_h, W = d->in_w, C = d->channels;
  const int8_t *const x_end = x + d->batch * H * W * C;
  qk_neon_out o;
  o.lo = vdupq_n_s8((int8_t)d->act_min);
  o.hi = vdupq_n_s8((int8_t)d->act_max);
  for (size_t b = 0; b < d->batch; b++)
    for (size_t oy = 0; oy < g->out_h; oy++)
      for (size_t ox = 0; ox < g->out_w; ox++, y += C) {
        const qk_pool_span s = qk_pool_window(d, g, oy, ox);
        const int32_t count = (int32_t)((s.y1 - s.y0) * (s.x1 - s.x0));
        for (size_t c0 = 0; c0 < C; c0 = qk_neon_next_block(c0, C)) {
          int32x4_t acc[4] = {vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)};
          int16x8_t lo = vdupq_n_s16(0), hi = vdupq_n_s16(0);
          int taps = 0;
          for (size_t iy = s.y0; iy < s.y1; iy++) {
            const int8_t *row = x + ((b * H + iy) * W) * C + c0;
            for (size_t ix = s.x0; ix < s.x1; ix++) {
              const int8_t *p = row + ix * C;
              const int8x16_t v = C >= 16 ? vld1q_s8(p) : qk_neon_load_s8x16_upto(p, x_end);
              lo = vaddw_s8(lo, vget_low_s8(v));
              hi = vaddw_high_s8(hi, v);
              if (++taps == FLUSH) {
                acc[0] = vaddw_s16(acc[0], vget_low_s16(lo));
                acc[1] = vaddw_high_s16(acc[1], lo);
                acc[2] = vaddw_s16(acc[2], vget_low_s16(hi));
                acc[3] = vaddw_high_s16(acc[3], hi);
                lo = hi = vdupq_n_s16(0);
                taps = 0;
              }
            }
          }
          acc[0] = vaddw_s16(acc[0], vget_low_s16(lo));
          acc[1] = vaddw_high_s16(acc[1], lo);
          acc[2] = vaddw_s16(acc[2], vget_low_s16(hi));
          acc[3] = vaddw_high_s16(acc[3], hi);
          const int8x16_t r = qk_neon_narrow_clamp_s8x16(divide(acc[0], count), divide(acc[1], count),
                                                         divide(acc[2], count), divide(acc[3], count), &o);
          if (C >= 16) vst1q_s8(y + c0, r);
          else qk_neon_store_s8x16(y + c0, r, C);
        }
      }
}
