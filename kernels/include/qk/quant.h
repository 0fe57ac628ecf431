/* Quantization arithmetic, exactly TFLite's (SPEC.md §1-§3). */
#ifndef QK_QUANT_H
#define QK_QUANT_H

#include <stdint.h>
#include "qk/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Contract every kernel's requantization accepts (checked by the op APIs). */
#define QK_SHIFT_MIN (-31)
#define QK_SHIFT_MAX 30
#define QK_SHIFT64_MAX 7

/* QuantizeMultiplier: real ~= m * 2^(shift-31). QK_ROUND_SINGLE adds TFLite's e>30 clamp.
 * Fails (QK_ERR_PARAM) on NaN or infinity. */
qk_status qk_quantize_multiplier(double real, qk_rounding mode, int32_t *multiplier, int *shift);

/* gemmlowp SaturatingRoundingDoublingHighMul and RoundingDivideByPOT (0 <= n <= 31). */
int32_t qk_srdhm(int32_t a, int32_t b);
int32_t qk_rdbpot(int32_t x, int n);

/* MultiplyByQuantizedMultiplier for int32 x. Requires 0 <= m, QK_SHIFT_MIN <= shift <= QK_SHIFT_MAX.
 * Double rounding: x * 2^shift wraps in int32 as TFLite's (formally undefined) int32 shift does on
 * every real target; single rounding: the 64-bit result is truncated to int32 like TFLite's cast. */
int32_t qk_mbqm32(int32_t x, int32_t m, int shift, qk_rounding mode);
/* MultiplyByQuantizedMultiplier for int64 x (16x8): same in both builds.
 * Requires 0 <= m, -31 <= shift <= 7, x in [-2^47, 2^47). */
int32_t qk_mbqm64(int64_t x, int32_t m, int shift);

/* Wrapping int32 add: kernels add the output zero point after requantization in int32, and the
 * SIMD variants wrap; keeping the reference free of signed overflow keeps it well defined. */
static inline int32_t qk_wrap_add32(int32_t a, int32_t b) {
  return (int32_t)((uint32_t)a + (uint32_t)b);
}

typedef enum qk_activation {
  QK_ACT_NONE = 0,
  QK_ACT_RELU,
  QK_ACT_RELU6,
  QK_ACT_RELU_N1_TO_1,
} qk_activation;

/* CalculateActivationRangeQuantized for an output type with range [qmin, qmax]. */
qk_status qk_activation_range(qk_activation act, float out_scale, int32_t out_zp, int32_t qmin,
                              int32_t qmax, int32_t *act_min, int32_t *act_max);

/* Per-channel (conv, depthwise, per-channel FC): real_c = D(s_in)*D(s_w[c])/D(s_out). */
qk_status qk_multipliers_per_channel(float s_in, const float *s_w, size_t n, float s_out,
                                     qk_rounding mode, int32_t *multiplier, int32_t *shift);
/* Per-tensor FC: real = D(float32(s_in*s_w))/D(s_out) (GetQuantizedConvolutionMultipler). */
qk_status qk_multiplier_per_tensor_fc(float s_in, float s_w, float s_out, qk_rounding mode,
                                      int32_t *multiplier, int32_t *shift);

/* Asymmetric parameters from a float range, as TFLite's optimize tools choose them
 * (GetAsymmetricQuantizationParams): the range is widened to include 0, scale in float32,
 * zero point nudged onto the integer grid and clamped to [qmin, qmax]. */
qk_status qk_choose_asymmetric(float min, float max, int32_t qmin, int32_t qmax, float *scale,
                               int32_t *zero_point);

/* Per-channel symmetric int8 weights (SymmetricPerChannelQuantization): w is [channels, inner]
 * row-major; scale_c = max|w|/127, q = clamp(round(w * (127/max|w|)), -127, 127). */
qk_status qk_quantize_weights_per_channel(const float *w, size_t channels, size_t inner,
                                          int8_t *q, float *scales);

#ifdef __cplusplus
}
#endif
#endif
