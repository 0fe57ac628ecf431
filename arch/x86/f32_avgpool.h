/* The x86 float AveragePool template (NHWC), shared by the SSE4.1, AVX2 and AVX-512 variants. One
 * .c file per variant includes its ISA's vector helpers (arch/x86/<isa>/f32_vec_<isa>.h) and then
 * this; the includer defines FP_NAME (the run function) and FP_DIV (the ISA's vector division).
 *
 * Vectors run along the channels, contiguous in NHWC; the window is the clipped one of
 * ../pool_window.h, so count = in-bounds taps and every channel of a pixel shares it. Per channel
 * the arithmetic is the reference's, in its order: total = +0, plus each in-bounds tap in (row,
 * column) order, one IEEE division by (float)count, then the reference clamp as min(hi, max(lo, v))
 * (the same function, NaN and signed zeros included: see f32_add.h). So the result is bit for bit
 * qk_ref_avgpool_f32's, inside the harness's bound by construction; the division is a true one
 * (vdivps), not a multiplication by 1/count, which would be a second rounding.
 *
 * Each tap adds into one accumulator per vector, a dependency chain of one add latency (4 cycles)
 * per tap, so blocks are 8 vectors wide to keep more adds in flight, which is what the global pools
 * need (MobileNetV2 7x7x1280, 49 taps per channel: AVX2 1.75 us with 8 vectors, 1.9 with 4, 2.3
 * with 2; AVX-512 reaches L2 bandwidth from 4 on, 1.4 us). A channel remainder below 8 vectors is
 * one more block of as many full vectors as remain plus, for the last C mod LANES channels, a
 * partial vector read and written with fg_load_part / fg_store_part, so no access leaves the image
 * or the output row (x and y may end at a guard page). */
#include <stddef.h>

#include "qk/float.h"
#include "pool_window.h"
#include "variants.h"

#define FP_INLINE static inline __attribute__((always_inline))
#define FP_BLOCK 8 /* vectors per channel block; the tail switch below covers 0 .. 7 */
_Static_assert(FP_BLOCK == 8, "FP_TAIL cases must cover 0 .. FP_BLOCK - 1 full vectors");

/* Channels [0, NV * LANES + part) of one output pixel; base points at channel 0 of the window's
 * first tap. NV is a constant after inlining, so the accumulators live in registers. */
FP_INLINE void fp_block(const int NV, size_t part, const float *base, size_t row_stride, size_t C,
                        const qk_pool_window *w, fg_vec div, fg_vec lo, fg_vec hi, float *out) {
  enum { L = FG_LANES };
  fg_vec s[FP_BLOCK + 1];
  for (int j = 0; j <= NV; j++) s[j] = fg_zero();
  for (size_t fy = 0; fy < w->rows; fy++) {
    const float *t = base + fy * row_stride;
    for (size_t fx = 0; fx < w->cols; fx++, t += C) {
      for (int j = 0; j < NV; j++) s[j] = fg_add(s[j], fg_loadu(t + j * L));
      if (part) s[NV] = fg_add(s[NV], fg_load_part(t + NV * L, part));
    }
  }
  for (int j = 0; j < NV; j++) fg_store(out + j * L, fg_min(hi, fg_max(lo, FP_DIV(s[j], div))));
  if (part) fg_store_part(out + NV * L, fg_min(hi, fg_max(lo, FP_DIV(s[NV], div))), part);
}

void FP_NAME(const qk_pool_f32_desc *d, const qk_conv2d_geom *g, const float *x, float *y) {
  enum { L = FG_LANES, BC = FP_BLOCK * FG_LANES };
  /* pool_window.h reads only the geometry, which the int8 descriptor shares field for field. */
  const qk_pool_int8_desc geo = {.batch = d->batch, .in_h = d->in_h, .in_w = d->in_w, .channels = d->channels,
                                 .filter_h = d->filter_h, .filter_w = d->filter_w, .stride_h = d->stride_h,
                                 .stride_w = d->stride_w, .padding = d->padding};
  const size_t C = d->channels, row_stride = d->in_w * C;
  const fg_vec lo = fg_set1(d->act_min), hi = fg_set1(d->act_max);
  for (size_t b = 0; b < d->batch; b++) {
    const float *img = x + b * d->in_h * row_stride;
    for (size_t oy = 0; oy < g->out_h; oy++)
      for (size_t ox = 0; ox < g->out_w; ox++, y += C) {
        const qk_pool_window w = qk_pool_window_at(&geo, g, oy, ox);
        const size_t count = w.rows * w.cols;
        /* The reference's (float)count (the same rounding, should a count pass 2^24). An empty
         * window (SAME and VALID never make one) sums nothing: +0 / 1 is the reference's 0. */
        const fg_vec div = fg_set1(count ? (float)count : 1.0f);
        const float *base = img + w.first;
        size_t c = 0;
        for (; c + BC <= C; c += BC) fp_block(FP_BLOCK, 0, base + c, row_stride, C, &w, div, lo, hi, y + c);
        if (c == C) continue;
        const size_t part = (C - c) % L;
        switch ((C - c) / L) {
#define FP_TAIL(nv) \
  case nv: fp_block(nv, part, base + c, row_stride, C, &w, div, lo, hi, y + c); break;
          FP_TAIL(0) FP_TAIL(1) FP_TAIL(2) FP_TAIL(3) FP_TAIL(4) FP_TAIL(5) FP_TAIL(6) FP_TAIL(7)
#undef FP_TAIL
          default: break;
        }
      }
  }
}
