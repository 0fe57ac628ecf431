/* TFLite quantization arithmetic; each function cites its upstream source in quant.h / SPEC.md. */
#include <math.h>

#include "qk/quant.h"
#include "internal.h"

qk_status qk_quantize_multiplier(double real, qk_rounding mode, int32_t *multiplier, int *shift) {
  if (!multiplier || !shift) return qk_fail(QK_ERR_NULL, "quantize_multiplier: null output");
  if (!isfinite(real)) return qk_fail(QK_ERR_PARAM, "quantize_multiplier: non-finite %g", real);
  if (real == 0.0) {
    *multiplier = 0;
    *shift = 0;
    return QK_OK;
  }
  int e;
  const double q = frexp(real, &e);
  /* round(), not nearbyint(): TfLiteRound rounds half away from zero. */
  int64_t qf = (int64_t)round(q * 2147483648.0);
  if (qf == INT64_C(2147483648)) {
    qf /= 2;
    e += 1;
  }
  if (e < -31) {
    qf = 0;
    e = 0;
  }
  if (mode == QK_ROUND_SINGLE && e > 30) {
    qf = INT32_MAX;
    e = 30;
  }
  *multiplier = (int32_t)qf;
  *shift = e;
  return QK_OK;
}

int32_t qk_srdhm(int32_t a, int32_t b) {
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  const int64_t ab = (int64_t)a * (int64_t)b;
  /* floor((ab + 2^30) / 2^31): gemmlowp's two nudges both reduce to this. */
  return (int32_t)((ab + (INT64_C(1) << 30)) >> 31);
}

int32_t qk_rdbpot(int32_t x, int n) {
  const int32_t mask = (int32_t)((UINT32_C(1) << n) - 1u);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> n) + (remainder > threshold ? 1 : 0);
}

int32_t qk_mbqm32(int32_t x, int32_t m, int shift, qk_rounding mode) {
  if (mode == QK_ROUND_SINGLE) {
    const int t = 31 - shift;
    const int64_t p = (int64_t)x * (int64_t)m + (INT64_C(1) << (t - 1));
    return (int32_t)(p >> t);
  }
  const int ls = shift > 0 ? shift : 0;
  const int rs = shift > 0 ? 0 : -shift;
  const int32_t xs = (int32_t)((uint32_t)x << ls);
  return qk_rdbpot(qk_srdhm(xs, m), rs);
}

int32_t qk_mbqm64(int64_t x, int32_t m, int shift) {
  const int64_t rm = m < 0x7FFF0000 ? ((int64_t)m + (1 << 15)) >> 16 : 0x7FFF;
  const int t = 15 - shift;
  return (int32_t)((x * rm + (INT64_C(1) << (t - 1))) >> t);
}

/* TFLite's Quantize() helper in kernel_util.cc: float32 division, round half away, and an error
 * where the rounded value leaves int32. Computed in int64 so zp + q cannot overflow. */
static qk_status quantize_act(float f, float scale, int32_t zp, int64_t *q) {
  const float t = roundf(f / scale);
  if (!(t >= -2147483648.0f && t <= 2147483520.0f))
    return qk_fail(QK_ERR_PARAM, "activation_range: %g / %g overflows int32", f, scale);
  *q = (int64_t)zp + (int64_t)t;
  return QK_OK;
}

qk_status qk_activation_range(qk_activation act, float out_scale, int32_t out_zp, int32_t qmin,
                              int32_t qmax, int32_t *act_min, int32_t *act_max) {
  if (!act_min || !act_max) return qk_fail(QK_ERR_NULL, "activation_range: null output");
  if (!(out_scale > 0.0f) || !isfinite(out_scale))
    return qk_fail(QK_ERR_PARAM, "activation_range: output scale %g is not positive", out_scale);
  if (qmin > qmax) return qk_fail(QK_ERR_PARAM, "activation_range: empty range [%d, %d]", qmin, qmax);
  int64_t lo = qmin, hi = qmax, q = 0;
  qk_status st;
  switch (act) {
    case QK_ACT_NONE: break;
    case QK_ACT_RELU:
    case QK_ACT_RELU6:
      if ((st = quantize_act(0.0f, out_scale, out_zp, &q))) return st;
      lo = q > qmin ? q : qmin;
      if (act == QK_ACT_RELU6) {
        if ((st = quantize_act(6.0f, out_scale, out_zp, &q))) return st;
        hi = q < qmax ? q : qmax;
      }
      break;
    case QK_ACT_RELU_N1_TO_1:
      if ((st = quantize_act(-1.0f, out_scale, out_zp, &q))) return st;
      lo = q > qmin ? q : qmin;
      if ((st = quantize_act(1.0f, out_scale, out_zp, &q))) return st;
      hi = q < qmax ? q : qmax;
      break;
    default: return qk_fail(QK_ERR_PARAM, "activation_range: unknown activation %d", (int)act);
  }
  /* A zero point outside the type can push the clamp outside it; report rather than invert. */
  if (lo > hi) return qk_fail(QK_ERR_PARAM, "activation_range: empty clamp [%lld, %lld]", (long long)lo, (long long)hi);
  *act_min = (int32_t)lo;
  *act_max = (int32_t)hi;
  return QK_OK;
}

static qk_status check_scale(const char *what, float s) {
  if (!(s > 0.0f) || !isfinite(s))
    return qk_fail(QK_ERR_PARAM, "%s scale %g is not a positive finite number", what, s);
  return QK_OK;
}

qk_status qk_multipliers_per_channel(float s_in, const float *s_w, size_t n, float s_out,
                                     qk_rounding mode, int32_t *multiplier, int32_t *shift) {
  if (!s_w || !multiplier || !shift) return qk_fail(QK_ERR_NULL, "multipliers_per_channel: null pointer");
  if (n == 0) return qk_fail(QK_ERR_SHAPE, "multipliers_per_channel: zero channels");
  qk_status st;
  if ((st = check_scale("input", s_in)) || (st = check_scale("output", s_out))) return st;
  for (size_t c = 0; c < n; c++) {
    if ((st = check_scale("filter", s_w[c]))) return st;
    int sh;
    const double real = (double)s_in * (double)s_w[c] / (double)s_out;
    if ((st = qk_quantize_multiplier(real, mode, &multiplier[c], &sh))) return st;
    if (sh > QK_SHIFT_MAX)
      return qk_fail(QK_ERR_PARAM, "channel %zu: multiplier %g needs shift %d > %d", c, real, sh, QK_SHIFT_MAX);
    shift[c] = sh;
  }
  return QK_OK;
}

qk_status qk_multiplier_per_tensor_fc(float s_in, float s_w, float s_out, qk_rounding mode,
                                      int32_t *multiplier, int32_t *shift) {
  if (!multiplier || !shift) return qk_fail(QK_ERR_NULL, "multiplier_per_tensor_fc: null pointer");
  qk_status st;
  if ((st = check_scale("input", s_in)) || (st = check_scale("filter", s_w)) ||
      (st = check_scale("output", s_out)))
    return st;
  const float prod = s_in * s_w; /* rounded to float32 first, as TFLite does */
  int sh;
  const double real = (double)prod / (double)s_out;
  if ((st = qk_quantize_multiplier(real, mode, multiplier, &sh))) return st;
  if (sh > QK_SHIFT_MAX)
    return qk_fail(QK_ERR_PARAM, "multiplier %g needs shift %d > %d", real, sh, QK_SHIFT_MAX);
  *shift = sh;
  return QK_OK;
}

qk_status qk_choose_asymmetric(float min, float max, int32_t qmin, int32_t qmax, float *scale,
                               int32_t *zero_point) {
  if (!scale || !zero_point) return qk_fail(QK_ERR_NULL, "choose_asymmetric: null output");
  if (!isfinite(min) || !isfinite(max) || min > max)
    return qk_fail(QK_ERR_PARAM, "choose_asymmetric: invalid range [%g, %g]", min, max);
  if (qmin >= qmax) return qk_fail(QK_ERR_PARAM, "choose_asymmetric: empty integer range");
  const float qminf = (float)qmin, qmaxf = (float)qmax;
  min = min < 0.0f ? min : 0.0f;
  max = max > 0.0f ? max : 0.0f;
  const float s = (max - min) / (qmaxf - qminf);
  float zp_from_min = qminf;
  if (s != 0.0f) zp_from_min = qminf - min / s;
  int32_t zp;
  if (zp_from_min < qminf) zp = qmin;
  else if (zp_from_min > qmaxf) zp = qmax;
  else zp = (int32_t)roundf(zp_from_min);
  *scale = s;
  *zero_point = zp;
  return QK_OK;
}

qk_status qk_quantize_weights_per_channel(const float *w, size_t channels, size_t inner,
                                          int8_t *q, float *scales) {
  if (!w || !q || !scales) return qk_fail(QK_ERR_NULL, "quantize_weights_per_channel: null pointer");
  if (channels == 0 || inner == 0) return qk_fail(QK_ERR_SHAPE, "quantize_weights_per_channel: empty tensor");
  size_t total;
  if (!qk_mul_size(channels, inner, &total)) return qk_fail(QK_ERR_OVERFLOW, "weights: %zu x %zu overflows", channels, inner);
  for (size_t i = 0; i < total; i++)
    if (!isfinite(w[i])) return qk_fail(QK_ERR_PARAM, "weight %zu is not finite", i);
  for (size_t c = 0; c < channels; c++) {
    const float *row = w + c * inner;
    float lo = row[0], hi = row[0];
    for (size_t i = 1; i < inner; i++) {
      if (row[i] < lo) lo = row[i];
      if (row[i] > hi) hi = row[i];
    }
    const float half_range = fabsf(lo) > fabsf(hi) ? fabsf(lo) : fabsf(hi);
    scales[c] = half_range / 127.0f;
    const float inv = half_range == 0.0f ? 0.0f : 127.0f / half_range;
    for (size_t i = 0; i < inner; i++) {
      int32_t v = (int32_t)roundf(row[i] * inv);
      q[c * inner + i] = (int8_t)(v < -127 ? -127 : v > 127 ? 127 : v);
    }
  }
  return QK_OK;
}
