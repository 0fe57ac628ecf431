/* int16 Add, TFLite's power-of-two-scale path (tensorflow/lite/kernels/add.cc, the "pot_scale_int16"
 * branch; kernel reference_ops::Add for int16 with input shifts), which full TFLite uses for int16
 * tensors whose zero points are all 0 and whose scales are all powers of two (LSTM-style Q0.15
 * fixed point). It is not the general-scale int16 Add of qk/i16x8.h (SPEC.md §6), not covered by
 * the golden vectors. Registered as its own op (QK_OP_ADD_POT, path I16X8) with SIMD variants.
 *
 * Semantics, per element i of equally sized tensors (no broadcasting: the kernel only accepts
 * tensors of the same number of elements):
 *   one input is taken as is ("not shifted"), the other is divided by 2^e with gemmlowp's
 *   RoundingDivideByPOT evaluated in int16 (qk_rdbpot16), then
 *   out[i] = clamp(saturate_int16(scaled + unshifted), act_min, act_max).
 * Which input is shifted: input 1 when input1_shift != 0, else input 2; e = -that shift. */
#ifndef QK_ADD_I16_POT_H
#define QK_ADD_I16_POT_H

#include <stddef.h>
#include <stdint.h>
#include "qk/status.h"
#include "qk/quant.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qk_add_i16_pot_params {
  int input1_shift, input2_shift; /* log2(s_in) - log2(s_out): both <= 0, one of them 0, >= -31 */
  int32_t act_min, act_max;       /* within int16 */
} qk_add_i16_pot_params;

/* Prepare: zero points must be 0 and every scale a power of two in TFLite's CheckedLog2 sense
 * (|log2(s) - round(log2(s))| < 1e-3, log2 computed in float32 as log(s) * (1 / log(2))); the
 * shifts are the differences of the rounded logarithms. act_min / act_max come from the fused
 * activation (CalculateActivationRangeQuantized with zero point 0). Fails (QK_ERR_PARAM) where
 * TFLite's Prepare would: a non-zero zero point, a scale that is not a power of two, both shifts
 * non-zero, a positive shift. */
qk_status qk_add_i16_pot_derive(float s1, int32_t zp1, float s2, int32_t zp2, float s_out, int32_t zp_out,
                                qk_activation act, qk_add_i16_pot_params *p);
qk_status qk_add_i16_pot_check(const qk_add_i16_pot_params *p);

/* gemmlowp RoundingDivideByPOT<int16_t>(x, e), 0 <= e <= 31, with its int16 arithmetic kept:
 * e <= 15 rounds x / 2^e to nearest with ties away from zero; for e >= 16 the int16 mask
 * (2^e - 1 truncated to 16 bits) is -1 and the result is 1 for x >= 0 (even x = 0) and -1 for
 * x < 0. */
int16_t qk_rdbpot16(int16_t x, int e);

/* The reference kernel: n elements of each input and of the output. */
void qk_ref_add_i16_pot(const qk_add_i16_pot_params *p, size_t n, const int16_t *x1, const int16_t *x2, int16_t *y);

/* Runtime entry point: checks p (qk_add_i16_pot_check) and the buffers, then runs the variant
 * dispatch picks for (QK_OP_ADD_POT, QK_PATH_I16X8) on n elements of each input. n = 0 is a
 * no-op; y may be x1 or x2 (in place), no other overlap. */
qk_status qk_add_i16_pot(const qk_add_i16_pot_params *p, size_t n, const int16_t *x1, const int16_t *x2, int16_t *y);

#ifdef __cplusplus
}
#endif
#endif
