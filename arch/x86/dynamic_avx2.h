/* 256-bit pieces shared by the AVX2 and AVX-VNNI dynamic-range kernels (both folders build with
 * -mavx2, neither with -mfma): the row scan, the exact rounding, and the float epilogues. The
 * reasoning behind each step is in avx512vnni/dynamic_gemm.h, which does the same on 16 lanes.
 *
 * Packed header of a block of nv vectors of 8 channels (channel 8 j + l in lane l of vector j):
 *   int32 rowsum[nv][8] | float s_w[nv][8] | float bias[nv][8]   (nv * 96 bytes)
 * followed by the ISA's weight layout. */
#ifndef QK_X86_DYNAMIC_AVX2_H
#define QK_X86_DYNAMIC_AVX2_H

#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>

#include "dynamic_quant.h"

#define QKD8_INLINE static inline __attribute__((always_inline))

/* Lanes [0, left) set (left clipped to 8), for maskload / maskstore. */
QKD8_INLINE __m256i qkd8_mask(size_t left) {
  const int n = left >= 8 ? 8 : (int)left;
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

QKD8_INLINE float qkd8_hmax(__m256 v) {
  __m128 h = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  h = _mm_max_ps(h, _mm_movehl_ps(h, h));
  return _mm_cvtss_f32(_mm_max_ss(h, _mm_movehdup_ps(h)));
}

QKD8_INLINE float qkd8_hmin(__m256 v) {
  __m128 h = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  h = _mm_min_ps(h, _mm_movehl_ps(h, h));
  return _mm_cvtss_f32(_mm_min_ss(h, _mm_movehdup_ps(h)));
}

/* The row's quantization parameters (max |x|, or min and max, then dynamic_quant.h). */
static inline qkd_qparams qkd8_params(const float *x, size_t n, bool asymmetric) {
  size_t i = 0;
  if (!asymmetric) {
    const __m256 mag = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
    __m256 m0 = _mm256_setzero_ps(), m1 = m0, m2 = m0, m3 = m0;
    for (; i + 32 <= n; i += 32) {
      m0 = _mm256_max_ps(m0, _mm256_and_ps(mag, _mm256_loadu_ps(x + i)));
      m1 = _mm256_max_ps(m1, _mm256_and_ps(mag, _mm256_loadu_ps(x + i + 8)));
      m2 = _mm256_max_ps(m2, _mm256_and_ps(mag, _mm256_loadu_ps(x + i + 16)));
      m3 = _mm256_max_ps(m3, _mm256_and_ps(mag, _mm256_loadu_ps(x + i + 24)));
    }
    /* Masked-off lanes load +0.0f, neutral for max |x|. */
    for (; i < n; i += 8) m0 = _mm256_max_ps(m0, _mm256_and_ps(mag, _mm256_maskload_ps(x + i, qkd8_mask(n - i))));
    return qkd_params_symmetric(qkd8_hmax(_mm256_max_ps(_mm256_max_ps(m0, m1), _mm256_max_ps(m2, m3))));
  }
  const __m256 first = _mm256_set1_ps(x[0]);
  __m256 lo0 = first, lo1 = first, hi0 = first, hi1 = first;
  for (; i + 16 <= n; i += 16) {
    const __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
    lo0 = _mm256_min_ps(lo0, a), hi0 = _mm256_max_ps(hi0, a);
    lo1 = _mm256_min_ps(lo1, b), hi1 = _mm256_max_ps(hi1, b);
  }
  for (; i < n; i += 8) {
    /* Masked-off lanes take x[0], which changes neither extreme. */
    const __m256i m = qkd8_mask(n - i);
    const __m256 a = _mm256_blendv_ps(first, _mm256_maskload_ps(x + i, m), _mm256_castsi256_ps(m));
    lo0 = _mm256_min_ps(lo0, a), hi0 = _mm256_max_ps(hi0, a);
  }
  return qkd_params_asymmetric(qkd8_hmin(_mm256_min_ps(lo0, lo1)), qkd8_hmax(_mm256_max_ps(hi0, hi1)));
}

/* A rounded product never fused into a following add or sub, whatever -ffp-contract says (GCC
 * writes the _ps intrinsics as vector operators; see avx512vnni/dynamic_gemm.h). */
QKD8_INLINE __m256 qkd8_mul(__m256 a, __m256 b) {
  __m256 p = _mm256_mul_ps(a, b);
  __asm__("" : "+x"(p));
  return p;
}

/* int32(roundf(x[i..i+8) * inv [+ off])) by the exact rounding of dynamic_quant.h; lanes at or
 * past n read as 0.0f; not yet clamped. */
QKD8_INLINE __m256i qkd8_quant8(const float *x, size_t i, size_t n, __m256 inv, __m256 off, bool asymmetric) {
  const __m256 sign = _mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000)), half = _mm256_set1_ps(QKD_HALF_DOWN);
  const __m256 xv = i + 8 <= n ? _mm256_loadu_ps(x + i) : _mm256_maskload_ps(x + i, qkd8_mask(i < n ? n - i : 0));
  __m256 v = qkd8_mul(xv, inv);
  if (asymmetric) v = _mm256_add_ps(off, v);
  return _mm256_cvttps_epi32(_mm256_add_ps(v, _mm256_or_ps(_mm256_and_ps(v, sign), half)));
}

/* One vector of outputs from int32 accumulators, in the reference's operation order (every
 * product pinned by qkd8_mul, never fused). rs, s_w, bias: the block header rows of this vector;
 * srow: the row scale (FC) or the image scale (conv); off: the row's float zero point (FC
 * asymmetric). */
QKD8_INLINE __m256 qkd8_output(const int mode, __m256i acc, const void *rs, const void *s_w, const void *bias,
                               __m256 srow, __m256 off, __m256 lo, __m256 hi) {
  __m256 f = _mm256_cvtepi32_ps(acc), v;
  if (mode == QKD_EPI_FC_ASYM) {
    const __m256 rsf = _mm256_cvtepi32_ps(_mm256_load_si256((const __m256i *)rs));
    f = _mm256_cvtepi32_ps(_mm256_cvttps_epi32(_mm256_sub_ps(f, qkd8_mul(rsf, off))));
  }
  const __m256 sw = _mm256_load_ps((const float *)s_w), b = _mm256_load_ps((const float *)bias);
  if (mode == QKD_EPI_CONV) v = _mm256_add_ps(qkd8_mul(_mm256_mul_ps(f, sw), srow), b);
  else v = _mm256_add_ps(b, qkd8_mul(f, _mm256_mul_ps(srow, sw)));
  /* Bound first: vmaxps / vminps return the second operand on ties and NaN, as the reference's
   * `v < lo ? lo : v > hi ? hi : v` returns v. */
  return _mm256_min_ps(hi, _mm256_max_ps(lo, v));
}

QKD8_INLINE void qkd8_store(float *y, __m256 v, size_t valid) {
  if (valid >= 8) _mm256_storeu_ps(y, v);
  else _mm256_maskstore_ps(y, qkd8_mask(valid), v);
}

/* Packs the block header: rowsum from the caller, s_w and bias (no_bias where bias is NULL);
 * lanes past N are zero. */
static inline void qkd8_pack_header(size_t nv, size_t n0, size_t N, const int32_t *rowsum, const float *s_w,
                                    const float *bias, float no_bias, void *hdr) {
  int32_t *rs = hdr;
  float *sc = (float *)hdr + 8 * nv, *bs = (float *)hdr + 16 * nv;
  for (size_t c = 0; c < 8 * nv; c++) {
    const bool real = n0 + c < N;
    rs[c] = real ? rowsum[c] : 0;
    sc[c] = real ? s_w[n0 + c] : 0.0f;
    bs[c] = real ? (bias ? bias[n0 + c] : no_bias) : 0.0f;
  }
}

#endif
