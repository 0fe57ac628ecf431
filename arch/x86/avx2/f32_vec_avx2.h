/* AVX2 + FMA (+ F16C for binary16 weights) vector helpers for the float templates
 * arch/x86/f32_gemm.h (FC and the conv GEMM) and arch/x86/f32_dwconv.h (depthwise, 8 channels
 * per vector).
 *
 * GEMM tile 6 x 16: 12 ymm accumulators, 2 weight vectors, 1 broadcast = 15 of 16 registers; 12
 * independent FMA chains cover two FMA ports of 4-cycle latency. */
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#define FG_MR 6
#define FG_LANES 8

typedef __m256 fg_vec;

/* Lanes [0, n) selected, n in [0, 8]. */
static inline __m256i fg_mask(size_t n) {
  static const int32_t ones[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
  return _mm256_loadu_si256((const __m256i *)(const void *)(ones + 8 - n));
}

static inline fg_vec fg_load(const float *p) { return _mm256_load_ps(p); }
static inline fg_vec fg_loadu(const float *p) { return _mm256_loadu_ps(p); }
/* n in [1, 7]: vmaskmovps reads (and faults on) only the selected lanes. */
static inline fg_vec fg_load_part(const float *p, size_t n) { return _mm256_maskload_ps(p, fg_mask(n)); }
static inline fg_vec fg_cvth(const uint16_t *p) { return _mm256_cvtph_ps(_mm_load_si128((const __m128i *)(const void *)p)); }
static inline fg_vec fg_bcast(const float *p) { return _mm256_broadcast_ss(p); }
static inline fg_vec fg_fma(fg_vec a, fg_vec b, fg_vec c) { return _mm256_fmadd_ps(a, b, c); }
static inline fg_vec fg_add(fg_vec a, fg_vec b) { return _mm256_add_ps(a, b); }
static inline fg_vec fg_min(fg_vec a, fg_vec b) { return _mm256_min_ps(a, b); }
static inline fg_vec fg_max(fg_vec a, fg_vec b) { return _mm256_max_ps(a, b); }
static inline fg_vec fg_zero(void) { return _mm256_setzero_ps(); }
static inline fg_vec fg_set1(float v) { return _mm256_set1_ps(v); }
static inline void fg_store(float *p, fg_vec v) { _mm256_storeu_ps(p, v); }
/* n in [1, 7]: vmaskmovps writes (and faults on) only the selected lanes. */
static inline void fg_store_part(float *p, fg_vec v, size_t n) { _mm256_maskstore_ps(p, fg_mask(n), v); }


