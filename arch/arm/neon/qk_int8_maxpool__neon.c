/* int8 MaxPool, NHWC, armv8-a NEON, 16 channels per step. Matches qk_ref_maxpool_int8
 * (SPEC.md §8) bit for bit: the maximum of the raw codes over the in-image taps, starting from
 * -128 (so the empty-window guard of the reference also holds), then the activation clamp. All of
 * it stays in int8 lanes (SMAX / SMIN), 16 channels per instruction. */
#include <arm_neon.h>
#include <stddef.h>
#include <stdint.h>

#include "neon_tail.h"
#include "pool_window.h"
#include "requant.h"
#include "variants.h"

void qk_int8_maxpool__neon_run(const qk_pool_int8_desc *d, const qk_conv2d_geom *g, const int8_t *x, int8_t *y) {
  const size_t H = d->in_h, W = d->in_w, C = d->channels;
  const int8_t *const x_end = x + d->batch * H * W * C;
  const int8x16_t lo = vdupq_n_s8((int8_t)d->act_min), hi = vdupq_n_s8((int8_t)d->act_max);
  for (size_t b = 0; b < d->batch; b++)
    for (size_t oy = 0; oy < g->out_h; oy++)
      for (size_t ox = 0; ox < g->out_w; ox++, y += C) {
        const qk_pool_span s = qk_pool_window(d, g, oy, ox);
        for (size_t c0 = 0; c0 < C; c0 = qk_neon_next_block(c0, C)) {
          /* Two running maxima halve the dependency chain through SMAX. */
          int8x16_t m0 = vdupq_n_s8(INT8_MIN), m1 = m0;
          for (size_t iy = s.y0; iy < s.y1; iy++) {
            const int8_t *p = x + ((b * H + iy) * W + s.x0) * C + c0;
            size_t ix = s.x0;
            if (C >= 16) {
              for (; ix + 2 <= s.x1; ix += 2, p += 2 * C) {
                m0 = vmaxq_s8(m0, vld1q_s8(p));
                m1 = vmaxq_s8(m1, vld1q_s8(p + C));
              }
              if (ix < s.x1) m0 = vmaxq_s8(m0, vld1q_s8(p));
            } else {
              for (; ix < s.x1; ix++, p += C) m0 = vmaxq_s8(m0, qk_neon_load_s8x16_upto(p, x_end));
            }
          }
          const int8x16_t r = vminq_s8(vmaxq_s8(vmaxq_s8(m0, m1), lo), hi);
          if (C >= 16) vst1q_s8(y + c0, r);
          else qk_neon_store_s8x16(y + c0, r, C);
        }
      }
}
