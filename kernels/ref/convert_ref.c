/* Reference quantize / dequantize / requantize, SPEC.md §9-§11 and §15. */
#include <math.h>

#include "qk/convert.h"
#include "qk/quant.h"
#include "internal.h"

static void type_range(qk_qtype t, int32_t *lo, int32_t *hi) {
  *lo = t == QK_Q_UINT8 ? 0 : t == QK_Q_INT16 ? -32768 : -128;
  *hi = t == QK_Q_UINT8 ? 255 : t == QK_Q_INT16 ? 32767 : 127;
}

static void store(void *y, size_t i, qk_qtype t, int32_t v) {
  if (t == QK_Q_UINT8) ((uint8_t *)y)[i] = (uint8_t)v;
  else if (t == QK_Q_INT16) ((int16_t *)y)[i] = (int16_t)v;
  else ((int8_t *)y)[i] = (int8_t)v;
}

static int32_t load(const void *x, size_t i, qk_qtype t) {
  return t == QK_Q_UINT8 ? ((const uint8_t *)x)[i] : t == QK_Q_INT16 ? ((const int16_t *)x)[i] : ((const int8_t *)x)[i];
}

qk_status qk_ref_quantize(const float *x, size_t n, float scale, int32_t zp, qk_qtype type, void *y) {
  if (!x || !y) return qk_fail(QK_ERR_NULL, "quantize: null buffer");
  if (n == 0) return qk_fail(QK_ERR_SHAPE, "quantize: empty tensor");
  if (!(scale > 0.0f) || !isfinite(scale)) return qk_fail(QK_ERR_PARAM, "quantize: scale %g invalid", scale);
  int32_t lo, hi;
  type_range(type, &lo, &hi);
  if (zp < lo || zp > hi) return qk_fail(QK_ERR_PARAM, "quantize: zero point %d outside the type", zp);
  for (size_t i = 0; i < n; i++) {
    const float t = roundf(x[i] / scale);
    /* Saturate before converting: the result is clamped to 8 bits anyway. */
    const int64_t q = t != t ? 0 : t >= 2147483648.0f ? INT32_MAX : t <= -2147483648.0f ? INT32_MIN : (int64_t)t;
    const int64_t v = q + zp;
    store(y, i, type, (int32_t)(v < lo ? lo : v > hi ? hi : v));
  }
  return QK_OK;
}

qk_status qk_ref_dequantize(const void *x, size_t n, qk_qtype type, float scale, int32_t zp, float *y) {
  if (!x || !y) return qk_fail(QK_ERR_NULL, "dequantize: null buffer");
  if (n == 0) return qk_fail(QK_ERR_SHAPE, "dequantize: empty tensor");
  if (!isfinite(scale)) return qk_fail(QK_ERR_PARAM, "dequantize: scale %g invalid", scale);
  for (size_t i = 0; i < n; i++) y[i] = (float)((double)scale * (double)(load(x, i, type) - zp));
  return QK_OK;
}

void qk_ref_requantize(const qk_requant_params *p, const void *x, size_t n, void *y) {
  int32_t lo, hi;
  type_range(p->out_type, &lo, &hi);
  for (size_t i = 0; i < n; i++) {
    int32_t v = qk_mbqm32(load(x, i, p->in_type) - p->input_zp, p->multiplier, p->shift, p->rounding);
    v = qk_wrap_add32(v, p->output_zp);
    store(y, i, p->out_type, v < lo ? lo : v > hi ? hi : v);
  }
}
