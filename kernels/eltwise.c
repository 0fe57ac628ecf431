/* Add / Mul parameter derivation (TFLite add_common.cc, mul_common.cc) and contract checks. */
#include <math.h>

#include "qk/eltwise.h"
#include "qk/quant.h"
#include "internal.h"

static qk_status scale_ok(const char *op, float s) {
  if (!(s > 0.0f) || !isfinite(s)) return qk_fail(QK_ERR_PARAM, "%s: scale %g is not positive and finite", op, s);
  return QK_OK;
}

/* QuantizeMultiplierSmallerThanOneExp: same value as QuantizeMultiplier, shift must be <= 0. */
static qk_status smaller_than_one(double real, qk_rounding mode, int32_t *m, int32_t *s) {
  int sh;
  qk_status st = qk_quantize_multiplier(real, mode, m, &sh);
  if (st) return st;
  if (sh > 0 || sh < QK_SHIFT_MIN) return qk_fail(QK_ERR_PARAM, "add: multiplier %g is not below one", real);
  *s = sh;
  return QK_OK;
}

qk_status qk_add_derive(float s1, float s2, float s_out, int left_shift, qk_rounding mode,
                        qk_add_int8_params *p) {
  if (!p) return qk_fail(QK_ERR_NULL, "add_derive: null params");
  qk_status st;
  if ((st = scale_ok("add", s1)) || (st = scale_ok("add", s2)) || (st = scale_ok("add", s_out))) return st;
  if (left_shift < 0 || left_shift > 20) return qk_fail(QK_ERR_PARAM, "add: left_shift %d outside [0, 20]", left_shift);
  const double twice_max = 2.0 * (double)(s1 > s2 ? s1 : s2);
  const double real1 = (double)s1 / twice_max, real2 = (double)s2 / twice_max;
  const double realo = twice_max / ((double)(INT64_C(1) << left_shift) * (double)s_out);
  p->left_shift = left_shift;
  p->rounding = mode;
  if ((st = smaller_than_one(real1, mode, &p->input1_multiplier, &p->input1_shift)) ||
      (st = smaller_than_one(real2, mode, &p->input2_multiplier, &p->input2_shift)) ||
      (st = smaller_than_one(realo, mode, &p->output_multiplier, &p->output_shift)))
    return st;
  return QK_OK;
}

qk_status qk_mul_derive(float s1, float s2, float s_out, qk_rounding mode, qk_mul_int8_params *p) {
  if (!p) return qk_fail(QK_ERR_NULL, "mul_derive: null params");
  qk_status st;
  if ((st = scale_ok("mul", s1)) || (st = scale_ok("mul", s2)) || (st = scale_ok("mul", s_out))) return st;
  int sh;
  const double real = (double)s1 * (double)s2 / (double)s_out;
  if ((st = qk_quantize_multiplier(real, mode, &p->output_multiplier, &sh))) return st;
  if (sh > QK_SHIFT_MAX) return qk_fail(QK_ERR_PARAM, "mul: multiplier %g needs shift %d", real, sh);
  p->output_shift = sh;
  p->rounding = mode;
  return QK_OK;
}

qk_status qk_broadcast_shape(const size_t a[4], const size_t b[4], size_t out[4]) {
  if (!a || !b || !out) return qk_fail(QK_ERR_NULL, "broadcast: null shape");
  size_t total = 1;
  for (int i = 0; i < 4; i++) {
    if (a[i] == 0 || b[i] == 0) return qk_fail(QK_ERR_SHAPE, "broadcast: dimension %d is zero", i);
    if (a[i] != b[i] && a[i] != 1 && b[i] != 1)
      return qk_fail(QK_ERR_SHAPE, "broadcast: dimension %d: %zu vs %zu", i, a[i], b[i]);
    out[i] = a[i] > b[i] ? a[i] : b[i];
    if (!qk_mul_size(total, out[i], &total) || total > INT32_MAX)
      return qk_fail(QK_ERR_OVERFLOW, "broadcast: output size overflows");
  }
  return QK_OK;
}

static qk_status common(const char *op, int32_t z1, int32_t z2, int32_t zo, int32_t lo, int32_t hi, qk_rounding r) {
  if (z1 < -128 || z1 > 127 || z2 < -128 || z2 > 127 || zo < -128 || zo > 127)
    return qk_fail(QK_ERR_PARAM, "%s: zero points (%d, %d, %d) outside [-128, 127]", op, z1, z2, zo);
  if (lo < -128 || hi > 127 || lo > hi) return qk_fail(QK_ERR_PARAM, "%s: clamp [%d, %d] invalid", op, lo, hi);
  if (r != QK_ROUND_DOUBLE && r != QK_ROUND_SINGLE) return qk_fail(QK_ERR_PARAM, "%s: unknown rounding %d", op, (int)r);
  return QK_OK;
}

static bool mult_ok(int32_t m, int32_t s, int32_t smax) { return m >= 0 && s >= QK_SHIFT_MIN && s <= smax; }

qk_status qk_add_int8_check(const qk_add_int8_params *p) {
  if (!p) return qk_fail(QK_ERR_NULL, "add_int8: null params");
  qk_status st = common("add_int8", p->input1_zp, p->input2_zp, p->output_zp, p->act_min, p->act_max, p->rounding);
  if (st) return st;
  if (p->left_shift < 0 || p->left_shift > 20)
    return qk_fail(QK_ERR_PARAM, "add_int8: left_shift %d outside [0, 20]", p->left_shift);
  if (!mult_ok(p->input1_multiplier, p->input1_shift, 0) || !mult_ok(p->input2_multiplier, p->input2_shift, 0) ||
      !mult_ok(p->output_multiplier, p->output_shift, 0))
    return qk_fail(QK_ERR_PARAM, "add_int8: multipliers must be >= 0 with shifts in [%d, 0]", QK_SHIFT_MIN);
  return QK_OK;
}

qk_status qk_mul_int8_check(const qk_mul_int8_params *p) {
  if (!p) return qk_fail(QK_ERR_NULL, "mul_int8: null params");
  qk_status st = common("mul_int8", p->input1_zp, p->input2_zp, p->output_zp, p->act_min, p->act_max, p->rounding);
  if (st) return st;
  if (!mult_ok(p->output_multiplier, p->output_shift, QK_SHIFT_MAX))
    return qk_fail(QK_ERR_PARAM, "mul_int8: multiplier %d / shift %d outside the contract", p->output_multiplier,
                   p->output_shift);
  return QK_OK;
}
