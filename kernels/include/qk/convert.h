/* Model-boundary conversions (SPEC.md §9-§11, §15): quantize float32 -> int8/uint8/int16,
 * dequantize back to float32, requantize between int8 and uint8 (or int16 and int16) with a new
 * scale and zero point. Buffers hold elements of the named type (int16: 2 bytes). */
#ifndef QK_CONVERT_H
#define QK_CONVERT_H

#include <stddef.h>
#include <stdint.h>
#include "qk/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum qk_qtype { QK_Q_INT8 = 0, QK_Q_UINT8 = 1, QK_Q_INT16 = 2 } qk_qtype;

/* q = clamp(zp + int32(round_half_away(x / scale)), type range): float32 division, never a
 * reciprocal multiply. Values beyond int32 saturate; NaN maps to the zero point (TFLite's cast
 * is undefined there). */
qk_status qk_ref_quantize(const float *x, size_t n, float scale, int32_t zp, qk_qtype type, void *y);
/* y = float32(D(scale) * (q - zp)), one rounding. */
qk_status qk_ref_dequantize(const void *x, size_t n, qk_qtype type, float scale, int32_t zp, float *y);

typedef struct qk_requant_params {
  qk_qtype in_type, out_type;
  int32_t input_zp, output_zp;
  int32_t multiplier, shift; /* QuantizeMultiplier(D(s_in)/D(s_out)) */
  qk_rounding rounding;
} qk_requant_params;

qk_status qk_requant_derive(float s_in, float s_out, qk_rounding mode, qk_requant_params *p);
qk_status qk_requant_check(const qk_requant_params *p);
/* out = clamp(MBQM32(x - zp_in, m, shift) + zp_out, out type range). */
void qk_ref_requantize(const qk_requant_params *p, const void *x, size_t n, void *y);

/* Checked and dispatched entry points. */
qk_status qk_quantize(const float *x, size_t n, float scale, int32_t zp, qk_qtype type, void *y);
qk_status qk_dequantize(const void *x, size_t n, qk_qtype type, float scale, int32_t zp, float *y);
qk_status qk_requantize(const qk_requant_params *p, const void *x, size_t n, void *y);

#ifdef __cplusplus
}
#endif
#endif
