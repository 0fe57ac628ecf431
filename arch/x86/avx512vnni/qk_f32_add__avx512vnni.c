/* f32 Add with 4-D broadcasting, AVX-512 level: one add in the reference's operand order, then its
 * clamp; bit for bit qk_ref_add_f32 (arch/x86/f32_add.h).
 *
 * The vectors are 256-bit, with AVX-512VL opmasks for the row tails: Add streams three arrays
 * through the caches and does one add per element, so it runs at L2 bandwidth on every MobileNetV2
 * residual add (56x56x24 down to 7x7x160, 94 KB to 0.9 MB, beyond L1), and there zmm loads and
 * stores measured 8-12% slower than ymm ones, the same loop otherwise (taskset -c 1, CPU-time
 * medians; the same gap between compiler-vectorized bare loops). The opmask tail is one masked
 * load or store where AVX2 needs vmaskmovps with a mask vector from memory. */
#include <immintrin.h>
#include <stddef.h>

#define FG_LANES 8

typedef __m256 fg_vec;

/* Lanes [0, n), n in [1, 7]; masked-off lanes are neither read nor written, nor fault. */
static inline __mmask8 fa_mask(size_t n) { return (__mmask8)((1u << n) - 1u); }
static inline fg_vec fg_loadu(const float *p) { return _mm256_loadu_ps(p); }
static inline fg_vec fg_load_part(const float *p, size_t n) { return _mm256_maskz_loadu_ps(fa_mask(n), p); }
static inline fg_vec fg_bcast(const float *p) { return _mm256_broadcast_ss(p); }
static inline fg_vec fg_add(fg_vec a, fg_vec b) { return _mm256_add_ps(a, b); }
static inline fg_vec fg_min(fg_vec a, fg_vec b) { return _mm256_min_ps(a, b); }
static inline fg_vec fg_max(fg_vec a, fg_vec b) { return _mm256_max_ps(a, b); }
static inline fg_vec fg_zero(void) { return _mm256_setzero_ps(); }
static inline fg_vec fg_set1(float v) { return _mm256_set1_ps(v); }
static inline void fg_store(float *p, fg_vec v) { _mm256_storeu_ps(p, v); }
static inline void fg_store_part(float *p, fg_vec v, size_t n) { _mm256_mask_storeu_ps(p, fa_mask(n), v); }

#define FA_NAME qk_f32_add__avx512vnni_run
#include "../f32_add.h"
