/* int8 AveragePool NHWC, SSE4.1: bit-exact with qk_ref_avgpool_int8 (SPEC.md §8).
 *
 * Vectorized over channels, 16 per pass: the taps of the clipped window (../pool_window.h) are
 * summed in four int32 accumulators (raw codes, no zero point), then each lane takes
 *   n = sum + (sum > 0 ? count/2 : -(count/2)),  avg = n / count truncated toward zero,
 * with count = in-bounds taps, the same for every channel of the pixel.
 *
 * The division is one divps, exact for count < 2^16: |n| <= 128 count + count/2 < 2^24, so n and
 * count are exact floats, and IEEE division returns q = n / count correctly rounded. If q is an
 * integer, it is returned exactly. Otherwise q lies strictly between two integers at distance at
 * least 1/count > 2^-16 from both, while |q| <= 128.5 < 256 bounds the rounding error by half an
 * ulp, at most 2^-17: the rounded quotient stays strictly between the same two integers, so
 * truncating it (cvttps2dq) gives trunc(q), which is C's integer division. Larger windows
 * (allowed up to 2^23 taps) divide the int32 sums in scalar.
 *
 * A channel remainder is one more block ending at the last channel when C >= 16 (it recomputes a
 * few channels with the same values; x is only read), otherwise each tap is read through a stack
 * buffer of exactly the valid bytes. */
#include <smmintrin.h>
#include <stdbool.h>
#include <stdint.h>

#include "qk/pool.h"
#include "../pool_window.h"
#include "variants.h"
#include "int8_io.h"

/* Channels [0, n) at base, n <= 16 (n < 16 reads and writes only n bytes). */
QK_INLINE void avg_block(const int8_t *base, size_t row_stride, size_t C, const qk_pool_window *w, size_t n,
                         int8_t *out, __m128i lo, __m128i hi) {
  __m128i s[4] = {_mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128()};
  for (size_t fy = 0; fy < w->rows; fy++)
    for (size_t fx = 0; fx < w->cols; fx++) {
      const int8_t *t = base + fy * row_stride + fx * C;
      const __m128i v = n == 16 ? _mm_loadu_si128((const __m128i *)t) : qk128_load_partial(t, n);
      for (int j = 0; j < 4; j++) s[j] = _mm_add_epi32(s[j], qk128_widen(v, j, false));
    }
  const size_t count = w->rows * w->cols;
  const int32_t half = (int32_t)(count / 2);
  if (count != 0 && count < (1u << 16)) {
    const __m128 cf = _mm_set1_ps((float)count);
    const __m128i h = _mm_set1_epi32(half), nh = _mm_set1_epi32(-half);
    for (int j = 0; j < 4; j++) {
      const __m128i pos = _mm_cmpgt_epi32(s[j], _mm_setzero_si128());
      const __m128i num = _mm_add_epi32(s[j], _mm_blendv_epi8(nh, h, pos));
      s[j] = _mm_cvttps_epi32(_mm_div_ps(_mm_cvtepi32_ps(num), cf));
    }
  } else {
    _Alignas(16) int32_t v[16];
    for (int j = 0; j < 4; j++) _mm_store_si128((__m128i *)(void *)(v + 4 * j), s[j]);
    for (int i = 0; i < 16; i++) {
      const int32_t c = (int32_t)count;
      v[i] = c == 0 ? 0 : v[i] > 0 ? (v[i] + half) / c : (v[i] - half) / c;
    }
    for (int j = 0; j < 4; j++) s[j] = _mm_load_si128((const __m128i *)(const void *)(v + 4 * j));
  }
  const __m128i r = qk128_narrow_s8(s, lo, hi);
  if (n == 16) _mm_storeu_si128((__m128i *)out, r);
  else qk128_store_partial(out, r, n);
}

void qk_int8_avgpool__sse41_run(const qk_pool_int8_desc *d, const qk_conv2d_geom *g, const int8_t *x, int8_t *y) {
  const size_t C = d->channels, row_stride = d->in_w * C;
  const __m128i lo = _mm_set1_epi8((char)d->act_min), hi = _mm_set1_epi8((char)d->act_max);
  for (size_t b = 0; b < d->batch; b++) {
    const int8_t *img = x + b * d->in_h * row_stride;
    for (size_t oy = 0; oy < g->out_h; oy++)
      for (size_t ox = 0; ox < g->out_w; ox++, y += C) {
        const qk_pool_window w = qk_pool_window_at(d, g, oy, ox);
        const int8_t *base = img + w.first;
        size_t c = 0;
        for (; c + 16 <= C; c += 16) avg_block(base + c, row_stride, C, &w, 16, y + c, lo, hi);
        if (c < C) {
          if (C >= 16) avg_block(base + C - 16, row_stride, C, &w, 16, y + C - 16, lo, hi);
          else avg_block(base, row_stride, C, &w, C, y, lo, hi);
        }
      }
  }
}
