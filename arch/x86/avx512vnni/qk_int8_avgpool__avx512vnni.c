/* int8 AveragePool NHWC, AVX-512: bit-exact with qk_ref_avgpool_int8 (SPEC.md §8).
 *
 * Vectorized over channels, 64 per pass: the taps of the clipped window (pool_window.h) are summed
 * in four int32 accumulators (raw codes, no zero point), then each lane takes
 *   n = sum + (sum > 0 ? count/2 : -(count/2)),  avg = n / count truncated toward zero,
 * with count = in-bounds taps, the same for every channel of the pixel.
 *
 * The division is one vdivps, exact for count < 2^16: |n| <= 128 count + count/2 < 2^24, so n and
 * count are exact floats, and IEEE division returns q = n / count correctly rounded. If q is an
 * integer, it is returned exactly. Otherwise q lies strictly between two integers at distance at
 * least 1/count > 2^-16 from both, while |q| <= 128.5 < 256 bounds the rounding error by half an
 * ulp, at most 2^-17: the rounded quotient stays strictly between the same two integers, so
 * truncating it (vcvttps2dq) gives trunc(q), which is C's integer division. Larger windows
 * (allowed up to 2^23 taps) divide the int32 sums in scalar. */
#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>

#include "qk/pool.h"
#include "../pool_window.h"
#include "variants.h"
#include "int8_io.h"

/* Channels [c, c + n) of one output pixel, n <= 64; full = (n == 64) uses unmasked loads. */
QK_INLINE void avg_block(const int8_t *base, size_t row_stride, size_t C, const qk_pool_window *w, size_t n,
                         int8_t *out, __m512i lo, __m512i hi, bool full) {
  __m512i s[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512()};
  __mmask16 mk[4];
  for (size_t j = 0; j < 4; j++) mk[j] = (__mmask16)(n > 16 * j ? qk512_mask16(n - 16 * j) : 0);
  for (size_t fy = 0; fy < w->rows; fy++)
    for (size_t fx = 0; fx < w->cols; fx++) {
      const int8_t *t = base + fy * row_stride + fx * C;
      for (size_t j = 0; j < 4; j++) {
        /* Masked-out bytes are never read, so a tail cannot cross the end of x. */
        const __m128i v = full ? _mm_loadu_si128((const __m128i *)(t + 16 * j)) : _mm_maskz_loadu_epi8(mk[j], t + 16 * j);
        s[j] = _mm512_add_epi32(s[j], _mm512_cvtepi8_epi32(v));
      }
    }
  const size_t count = w->rows * w->cols;
  const int32_t half = (int32_t)(count / 2);
  if (count != 0 && count < (1u << 16)) {
    const __m512 cf = _mm512_set1_ps((float)count);
    const __m512i h = _mm512_set1_epi32(half);
    for (size_t j = 0; j < 4; j++) {
      const __mmask16 pos = _mm512_cmpgt_epi32_mask(s[j], _mm512_setzero_si512());
      const __m512i num = _mm512_mask_add_epi32(_mm512_sub_epi32(s[j], h), pos, s[j], h);
      s[j] = _mm512_cvttps_epi32(_mm512_div_ps(_mm512_cvtepi32_ps(num), cf));
    }
  } else {
    _Alignas(64) int32_t v[64];
    for (size_t j = 0; j < 4; j++) _mm512_store_si512(v + 16 * j, s[j]);
    for (size_t i = 0; i < 64; i++) {
      const int32_t c = (int32_t)count;
      v[i] = c == 0 ? 0 : v[i] > 0 ? (v[i] + half) / c : (v[i] - half) / c;
    }
    for (size_t j = 0; j < 4; j++) s[j] = _mm512_load_si512(v + 16 * j);
  }
  const __m512i r = qk512_narrow_s8(s, _mm512_setzero_si512(), lo, hi);
  if (full) _mm512_storeu_si512(out, r);
  else _mm512_mask_storeu_epi8(out, qk512_mask64(n), r);
}

void qk_int8_avgpool__avx512vnni_run(const qk_pool_int8_desc *d, const qk_conv2d_geom *g, const int8_t *x,
                                     int8_t *y) {
  const size_t C = d->channels, row_stride = d->in_w * C;
  const __m512i lo = _mm512_set1_epi8((char)d->act_min), hi = _mm512_set1_epi8((char)d->act_max);
  for (size_t b = 0; b < d->batch; b++) {
    const int8_t *img = x + b * d->in_h * row_stride;
    for (size_t oy = 0; oy < g->out_h; oy++)
      for (size_t ox = 0; ox < g->out_w; ox++, y += C) {
        const qk_pool_window w = qk_pool_window_at(d, g, oy, ox);
        const int8_t *base = img + w.first;
        size_t c = 0;
        for (; c + 64 <= C; c += 64) avg_block(base + c, row_stride, C, &w, 64, y + c, lo, hi, true);
        if (c < C) avg_block(base + c, row_stride, C, &w, C - c, y + c, lo, hi, false);
      }
  }
}
