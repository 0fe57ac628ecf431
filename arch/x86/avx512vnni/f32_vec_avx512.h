/* AVX-512 (F only) vector helpers for the float templates arch/x86/f32_gemm.h (FC and the
 * conv GEMM) and arch/x86/f32_dwconv.h (depthwise, 16 channels per vector).
 *
 * GEMM tile 14 x 32: 28 zmm accumulators, 2 weight vectors, 1 broadcast = 31 of 32 registers.
 * Each k step is 28 FMAs against 2 weight loads and 14 broadcasts; two FMA ports with 4-cycle
 * latency need 8 independent chains and get 28. 14 rows divide the MobileNetV2 pointwise
 * layers' pixel counts 112^2 ... 14^2 (7^2 is three tiles and a 7-row one, still 14 chains).
 * For binary16 weights the 2 extra vcvtph2ps per k step share the FMA ports with 28 FMAs, the
 * best ratio of the tiles that fit (about 2% slower than f32 over MobileNetV2's 1x1 layers). */
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#define FG_MR 14
#define FG_LANES 16

typedef __m512 fg_vec;

static inline fg_vec fg_load(const float *p) { return _mm512_load_ps(p); }
static inline fg_vec fg_loadu(const float *p) { return _mm512_loadu_ps(p); }
/* n in [1, 15]; masked-off lanes are neither read nor faulted on. */
static inline fg_vec fg_load_part(const float *p, size_t n) { return _mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1u), p); }
static inline fg_vec fg_cvth(const uint16_t *p) { return _mm512_cvtph_ps(_mm256_load_si256((const __m256i *)(const void *)p)); }
static inline fg_vec fg_bcast(const float *p) { return _mm512_set1_ps(*p); }
static inline fg_vec fg_fma(fg_vec a, fg_vec b, fg_vec c) { return _mm512_fmadd_ps(a, b, c); }
static inline fg_vec fg_add(fg_vec a, fg_vec b) { return _mm512_add_ps(a, b); }
static inline fg_vec fg_min(fg_vec a, fg_vec b) { return _mm512_min_ps(a, b); }
static inline fg_vec fg_max(fg_vec a, fg_vec b) { return _mm512_max_ps(a, b); }
static inline fg_vec fg_zero(void) { return _mm512_setzero_ps(); }
static inline fg_vec fg_set1(float v) { return _mm512_set1_ps(v); }
static inline void fg_store(float *p, fg_vec v) { _mm512_storeu_ps(p, v); }
/* n in [1, 15]; masked-off lanes are neither written nor faulted on. */
static inline void fg_store_part(float *p, fg_vec v, size_t n) {
  _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1u), v);
}


