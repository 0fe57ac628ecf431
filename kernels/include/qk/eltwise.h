/* int8 Add and Mul with TFLite's general-scale arithmetic (SPEC.md §6, §7) and numpy-style
 * broadcasting over 4-D NHWC shapes. */
#ifndef QK_ELTWISE_H
#define QK_ELTWISE_H

#include <stddef.h>
#include <stdint.h>
#include "qk/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qk_add_int8_params {
  int32_t input1_zp, input2_zp, output_zp;
  int left_shift; /* 20 for int8 */
  int32_t input1_multiplier, input1_shift;
  int32_t input2_multiplier, input2_shift;
  int32_t output_multiplier, output_shift;
  int32_t act_min, act_max;
  qk_rounding rounding;
} qk_add_int8_params;

typedef struct qk_mul_int8_params {
  int32_t input1_zp, input2_zp, output_zp;
  int32_t output_multiplier, output_shift;
  int32_t act_min, act_max;
  qk_rounding rounding;
} qk_mul_int8_params;

/* CalculateOpDataAdd: the three multipliers from the float scales (left_shift 20 for int8). */
qk_status qk_add_derive(float s1, float s2, float s_out, int left_shift, qk_rounding mode,
                        qk_add_int8_params *p);
/* Mul: real = D(s1)*D(s2)/D(s_out). */
qk_status qk_mul_derive(float s1, float s2, float s_out, qk_rounding mode, qk_mul_int8_params *p);

/* Broadcast shapes: each dimension equal, or 1 in one of the inputs. Computes the output shape. */
qk_status qk_broadcast_shape(const size_t a[4], const size_t b[4], size_t out[4]);

qk_status qk_add_int8_check(const qk_add_int8_params *p);
qk_status qk_mul_int8_check(const qk_mul_int8_params *p);

void qk_ref_add_int8(const qk_add_int8_params *p, const size_t s1[4], const int8_t *x1,
                     const size_t s2[4], const int8_t *x2, int8_t *y);
void qk_ref_mul_int8(const qk_mul_int8_params *p, const size_t s1[4], const int8_t *x1,
                     const size_t s2[4], const int8_t *x2, int8_t *y);

/* Checked and dispatched entry points (the reference when nothing faster runs here). */
qk_status qk_add_int8(const qk_add_int8_params *p, const size_t s1[4], const int8_t *x1, const size_t s2[4],
                      const int8_t *x2, int8_t *y);
qk_status qk_mul_int8(const qk_mul_int8_params *p, const size_t s1[4], const int8_t *x1, const size_t s2[4],
                      const int8_t *x2, int8_t *y);

#ifdef __cplusplus
}
#endif
#endif
