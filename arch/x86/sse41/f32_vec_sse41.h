/* SSE4.1 vector helpers for the float templates arch/x86/f32_gemm.h (FC and the conv GEMM) and
 * arch/x86/f32_dwconv.h (depthwise, 4 channels per vector).
 *
 * GEMM tile 6 x 8: 12 xmm accumulators, 2 weight vectors, 1 broadcast = 15 of 16 registers.
 * Without FMA each step is a multiply and an add: two roundings, which the error bound of SPEC
 * §14 already counts (gamma_K covers the rounding of each product as well as of each sum). No
 * F16C either: the f16w variants widen their weights once at pack time and run this very code. */
#include <smmintrin.h>
#include <stddef.h>
#include <stdint.h>

#define FG_MR 6
#define FG_LANES 4

typedef __m128 fg_vec;

static inline fg_vec fg_load(const float *p) { return _mm_load_ps(p); }
static inline fg_vec fg_loadu(const float *p) { return _mm_loadu_ps(p); }
/* n in [1, 3]; reads nothing past p[n - 1]. */
static inline fg_vec fg_load_part(const float *p, size_t n) {
  const __m128 lo = n & 2 ? _mm_loadl_pi(_mm_setzero_ps(), (const __m64 *)(const void *)p) : _mm_load_ss(p);
  return n == 3 ? _mm_movelh_ps(lo, _mm_load_ss(p + 2)) : lo;
}
static inline fg_vec fg_bcast(const float *p) { return _mm_load1_ps(p); }
static inline fg_vec fg_fma(fg_vec a, fg_vec b, fg_vec c) { return _mm_add_ps(c, _mm_mul_ps(a, b)); }
static inline fg_vec fg_add(fg_vec a, fg_vec b) { return _mm_add_ps(a, b); }
static inline fg_vec fg_min(fg_vec a, fg_vec b) { return _mm_min_ps(a, b); }
static inline fg_vec fg_max(fg_vec a, fg_vec b) { return _mm_max_ps(a, b); }
static inline fg_vec fg_zero(void) { return _mm_setzero_ps(); }
static inline fg_vec fg_set1(float v) { return _mm_set1_ps(v); }
static inline void fg_store(float *p, fg_vec v) { _mm_storeu_ps(p, v); }
/* n in [1, 3]. */
static inline void fg_store_part(float *p, fg_vec v, size_t n) {
  if (n & 2) {
    _mm_storel_pi((__m64 *)(void *)p, v);
    v = _mm_movehl_ps(v, v);
    p += 2;
  }
  if (n & 1) _mm_store_ss(p, v);
}


