/* Requantize parameter derivation and checks (TFLite quantize_common.cc). */
#include <math.h>

#include "qk/convert.h"
#include "qk/quant.h"
#include "internal.h"

static bool zp_in_type(int32_t zp, qk_qtype t) {
  return t == QK_Q_INT8    ? (zp >= -128 && zp <= 127)
         : t == QK_Q_UINT8 ? (zp >= 0 && zp <= 255)
         : t == QK_Q_INT16 ? (zp >= -32768 && zp <= 32767)
                           : false;
}

qk_status qk_requant_derive(float s_in, float s_out, qk_rounding mode, qk_requant_params *p) {
  if (!p) return qk_fail(QK_ERR_NULL, "requant_derive: null params");
  if (!(s_in > 0.0f) || !(s_out > 0.0f) || !isfinite(s_in) || !isfinite(s_out))
    return qk_fail(QK_ERR_PARAM, "requant: scales (%g, %g) must be positive and finite", s_in, s_out);
  int sh;
  const double real = (double)s_in / (double)s_out;
  qk_status st = qk_quantize_multiplier(real, mode, &p->multiplier, &sh);
  if (st) return st;
  if (sh > QK_SHIFT_MAX) return qk_fail(QK_ERR_PARAM, "requant: ratio %g needs shift %d", real, sh);
  p->shift = sh;
  p->rounding = mode;
  return QK_OK;
}

qk_status qk_requant_check(const qk_requant_params *p) {
  if (!p) return qk_fail(QK_ERR_NULL, "requant: null params");
  const bool wide_in = p->in_type == QK_Q_INT16, wide_out = p->out_type == QK_Q_INT16;
  if (p->in_type > QK_Q_INT16 || p->out_type > QK_Q_INT16 || wide_in != wide_out)
    return qk_fail(QK_ERR_PARAM, "requant: types must be int8/uint8 on both sides, or int16 on both");
  if (!zp_in_type(p->input_zp, p->in_type) || !zp_in_type(p->output_zp, p->out_type))
    return qk_fail(QK_ERR_PARAM, "requant: zero points (%d, %d) outside their types", p->input_zp, p->output_zp);
  if (p->multiplier < 0 || p->shift < QK_SHIFT_MIN || p->shift > QK_SHIFT_MAX)
    return qk_fail(QK_ERR_PARAM, "requant: multiplier %d / shift %d outside the contract", p->multiplier, p->shift);
  if (p->rounding != QK_ROUND_DOUBLE && p->rounding != QK_ROUND_SINGLE)
    return qk_fail(QK_ERR_PARAM, "requant: unknown rounding %d", (int)p->rounding);
  return QK_OK;
}
