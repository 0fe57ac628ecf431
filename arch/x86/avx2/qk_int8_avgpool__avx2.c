/* int8 AveragePool NHWC, AVX2: bit-exact with qk_ref_avgpool_int8 (SPEC.md §8).
 *
 * Vectorized over channels, 32 per pass: the taps of the clipped window (../pool_window.h) are
 * summed in four int32 accumulators (raw codes, no zero point), then each lane takes
 *   n = sum + (sum > 0 ? count/2 : -(count/2)),  avg = n / count truncated toward zero,
 * with count = in-bounds taps, the same for every channel of the pixel.
 *
 * The division is one vdivps, exact for count < 2^16: |n| <= 128 count + count/2 < 2^24, so n and
 * count are exact floats, and IEEE division returns q = n / count correctly rounded. If q is an
 * integer, it is returned exactly. Otherwise q lies strictly between two integers at distance at
 * least 1/count > 2^-16 from both, while |q| <= 128.5 < 256 bounds the rounding error by half an
 * ulp, at most 2^-17: the rounded quotient stays strictly between the same two integers, so
 * truncating it (vcvttps2dq) gives trunc(q), which is C's integer division. Larger windows
 * (allowed up to 2^23 taps) divide the int32 sums in scalar.
 *
 * A channel remainder is one more block ending at the last channel when C >= 32 (it recomputes a
 * few channels with the same values; x is only read); 16 <= C < 32 takes two overlapping blocks of
 * 16; below 16 channels each tap is read through a stack buffer of exactly the valid bytes. */
#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>

#include "qk/pool.h"
#include "../pool_window.h"
#include "variants.h"
#include "int8_io.h"

/* Channels [0, n) at base with nv = 4 (32 channels) or 2 (16 channels) accumulators; n < 8 nv
 * reads and writes only n bytes per tap and for the output. */
QK_INLINE void avg_block(const int8_t *base, size_t row_stride, size_t C, const qk_pool_window *w, int nv, size_t n,
                         int8_t *out, __m256i lo, __m256i hi) {
  const bool full = n == (size_t)(8 * nv);
  __m256i s[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()};
  for (size_t fy = 0; fy < w->rows; fy++)
    for (size_t fx = 0; fx < w->cols; fx++) {
      const int8_t *t = base + fy * row_stride + fx * C;
      if (full) {
        for (int j = 0; j < nv; j++)
          s[j] = _mm256_add_epi32(s[j], _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(t + 8 * j))));
      } else {
        const __m256i v = qk256_load_partial(t, n);
        for (int j = 0; j < nv; j++) s[j] = _mm256_add_epi32(s[j], _mm256_cvtepi8_epi32(qk256_chunk(v, j)));
      }
    }
  const size_t count = w->rows * w->cols;
  const int32_t half = (int32_t)(count / 2);
  if (count != 0 && count < (1u << 16)) {
    const __m256 cf = _mm256_set1_ps((float)count);
    const __m256i h = _mm256_set1_epi32(half), nh = _mm256_set1_epi32(-half);
    for (int j = 0; j < nv; j++) {
      const __m256i pos = _mm256_cmpgt_epi32(s[j], _mm256_setzero_si256());
      const __m256i num = _mm256_add_epi32(s[j], _mm256_blendv_epi8(nh, h, pos));
      s[j] = _mm256_cvttps_epi32(_mm256_div_ps(_mm256_cvtepi32_ps(num), cf));
    }
  } else {
    _Alignas(32) int32_t v[32];
    for (int j = 0; j < 4; j++) _mm256_store_si256((__m256i *)(void *)(v + 8 * j), s[j]);
    for (int i = 0; i < 32; i++) {
      const int32_t c = (int32_t)count;
      v[i] = c == 0 ? 0 : v[i] > 0 ? (v[i] + half) / c : (v[i] - half) / c;
    }
    for (int j = 0; j < 4; j++) s[j] = _mm256_load_si256((const __m256i *)(const void *)(v + 8 * j));
  }
  const __m256i r = qk256_narrow_s8(s, lo, hi);
  if (n == 32) _mm256_storeu_si256((__m256i *)out, r);
  else if (n == 16) _mm_storeu_si128((__m128i *)out, _mm256_castsi256_si128(r));
  else qk256_store_partial(out, r, n);
}

void qk_int8_avgpool__avx2_run(const qk_pool_int8_desc *d, const qk_conv2d_geom *g, const int8_t *x, int8_t *y) {
  const size_t C = d->channels, row_stride = d->in_w * C;
  const __m256i lo = _mm256_set1_epi8((char)d->act_min), hi = _mm256_set1_epi8((char)d->act_max);
  for (size_t b = 0; b < d->batch; b++) {
    const int8_t *img = x + b * d->in_h * row_stride;
    for (size_t oy = 0; oy < g->out_h; oy++)
      for (size_t ox = 0; ox < g->out_w; ox++, y += C) {
        const qk_pool_window w = qk_pool_window_at(d, g, oy, ox);
        const int8_t *base = img + w.first;
        size_t c = 0;
        for (; c + 32 <= C; c += 32) avg_block(base + c, row_stride, C, &w, 4, 32, y + c, lo, hi);
        if (c == C) continue;
        if (C >= 32) {
          avg_block(base + C - 32, row_stride, C, &w, 4, 32, y + C - 32, lo, hi);
        } else if (C >= 16) {
          avg_block(base, row_stride, C, &w, 2, 16, y, lo, hi);
          if (C > 16) avg_block(base + C - 16, row_stride, C, &w, 2, 16, y + C - 16, lo, hi);
        } else {
          avg_block(base, row_stride, C, &w, 2, C, y, lo, hi);
        }
      }
  }
}
