/* Scalar variant of the f16 path (native binary16 arithmetic, SPEC.md §14 with u = 2^-11): what
 * dispatch falls back to where the CPU has no FP16 arithmetic, and the path's portable definition.
 * Every binary16 operation is emulated in float32 followed by one rounding to binary16
 * (qk_f32_to_f16, ties to even):
 * - a product of two halves is exact in float32 (22 significant bits, exponents far inside its
 *   range), so rounding it to binary16 is the correctly rounded half product;
 * - a sum of two halves rounded first to float32 and then to binary16 is still correctly rounded,
 *   because 24 >= 2 * 11 + 2 makes the double rounding innocuous for addition.
 * So this is genuine binary16 arithmetic: x rounded to half, each product rounded, each partial sum
 * rounded (no fused multiply-add, unlike the NEON FP16 variant: both meet the same bound), then the
 * float32 bias and the clamp, as in the SIMD variants. Built with the references (-ffp-contract=off). */
#include "qk/float.h"
#include "variants.h"

static float to_half(float f) { return qk_f16_to_f32(qk_f32_to_f16(f)); }
static float clampf(float v, float lo, float hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Packed: float bias[N] (zeros without a bias), then the weights widened (exactly) to float. */
size_t qk_f16_fc_1x1c1__scalar_packed_size(size_t n, size_t k) { return (n + n * k) * sizeof(float); }

void qk_f16_fc_1x1c1__scalar_pack(const qk_fc_f32_desc *d, const void *w, const float *bias, void *packed) {
  const size_t N = d->out_ch, K = d->in_ch;
  float *b = packed;
  for (size_t o = 0; o < N; o++) b[o] = bias ? bias[o] : 0.0f;
  qk_ref_f16_to_f32(w, N * K, b + N);
}

void qk_f16_fc_1x1c1__scalar_run(const qk_fc_f32_desc *d, const void *packed, size_t batch, const float *x,
                                 float *y) {
  const size_t N = d->out_ch, K = d->in_ch;
  const float *bias = packed, *w = bias + N;
  for (size_t b = 0; b < batch; b++)
    for (size_t o = 0; o < N; o++) {
      float acc = 0.0f;
      for (size_t k = 0; k < K; k++) acc = to_half(acc + to_half(to_half(x[b * K + k]) * w[o * K + k]));
      y[b * N + o] = clampf(acc + bias[o], d->act_min, d->act_max);
    }
}
