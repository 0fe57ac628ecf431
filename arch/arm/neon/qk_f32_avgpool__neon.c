/* f32 AveragePool, NHWC, armv8-a NEON, 16 channels per step. Bit for bit equal to
 * qk_ref_avgpool_f32 (the harness only asks for its error bound, but the reference's arithmetic is
 * as cheap as any other): per channel, total = 0, plus each in-image tap in (row, column) order,
 * one FDIV by the tap count as a float, then the reference's clamp.
 * Channel blocks of 16, then 4; a count that is not a multiple ends with a block aligned to the
 * last channel, overlapping the previous one (identical lanes recomputed); fewer than 4 channels go
 * through the stack, so no access leaves the pixel. */
#include <arm_neon.h>
#include <stddef.h>

#include "f32_neon.h"
#include "pool_window.h"
#include "variants.h"

/* One output pixel, channels [c0, c0 + 4*nq), or the first npart < 4 when nq == 0. */
static inline __attribute__((always_inline)) void pool_block(const size_t nq, const float *x, size_t W, size_t C,
                                                             const qk_pool_span *s, size_t c0, size_t npart,
                                                             float32x4_t div, float32x4_t lo, float32x4_t hi,
                                                             float *y) {
  const size_t nv = nq ? nq : 1;
  float32x4_t t[4];
  for (size_t q = 0; q < nv; q++) t[q] = vdupq_n_f32(0.0f);
  for (size_t iy = s->y0; iy < s->y1; iy++)
    for (size_t ix = s->x0; ix < s->x1; ix++) {
      const float *p = x + (iy * W + ix) * C + c0;
      if (!nq) t[0] = vaddq_f32(t[0], qk_f32_load_part(p, npart));
      else
        for (size_t q = 0; q < nq; q++) t[q] = vaddq_f32(t[q], vld1q_f32(p + 4 * q));
    }
  for (size_t q = 0; q < nv; q++) {
    const float32x4_t v = qk_f32_clamp(vdivq_f32(t[q], div), lo, hi);
    if (nq) vst1q_f32(y + c0 + 4 * q, v);
    else qk_f32_store_part(y, v, npart);
  }
}

void qk_f32_avgpool__neon_run(const qk_pool_f32_desc *d, const qk_conv2d_geom *g, const float *x, float *y) {
  const size_t H = d->in_h, W = d->in_w, C = d->channels;
  const float32x4_t lo = vdupq_n_f32(d->act_min), hi = vdupq_n_f32(d->act_max);
  for (size_t b = 0; b < d->batch; b++) {
    const float *xb = x + b * H * W * C;
    for (size_t oy = 0; oy < g->out_h; oy++)
      for (size_t ox = 0; ox < g->out_w; ox++, y += C) {
        qk_pool_span s;
        qk_pool_axis(oy, d->stride_h, g->pad_top, d->filter_h, H, &s.y0, &s.y1);
        qk_pool_axis(ox, d->stride_w, g->pad_left, d->filter_w, W, &s.x0, &s.x1);
        const float32x4_t div = vdupq_n_f32((float)((s.y1 - s.y0) * (s.x1 - s.x0)));
        if (C >= 16) {
          for (size_t c0 = 0;; c0 += 16) {
            if (c0 + 16 > C) c0 = C - 16;
            pool_block(4, xb, W, C, &s, c0, 0, div, lo, hi, y);
            if (c0 + 16 == C) break;
          }
        } else if (C >= 4) {
          for (size_t c0 = 0;; c0 += 4) {
            if (c0 + 4 > C) c0 = C - 4;
            pool_block(1, xb, W, C, &s, c0, 0, div, lo, hi, y);
            if (c0 + 4 == C) break;
          }
        } else {
          pool_block(0, xb, W, C, &s, 0, C, div, lo, hi, y);
        }
      }
  }
}
