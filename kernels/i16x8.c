/* 16x8 contract checks. */
#include "qk/i16x8.h"
#include "qk/quant.h"
#include "internal.h"

static qk_status check_requant(const char *op, size_t n, const int32_t *m, const int32_t *s, int32_t lo, int32_t hi,
                               const int64_t *bias) {
  if (!m || !s) return qk_fail(QK_ERR_NULL, "%s: null multiplier or shift array", op);
  if (lo < -32768 || hi > 32767 || lo > hi) return qk_fail(QK_ERR_PARAM, "%s: clamp [%d, %d] is not inside int16", op, lo, hi);
  for (size_t o = 0; o < n; o++) {
    if (m[o] < 0 || s[o] < QK_SHIFT_MIN || s[o] > QK_SHIFT64_MAX)
      return qk_fail(QK_ERR_PARAM, "%s: channel %zu multiplier %d / shift %d outside [0, INT32_MAX] x [%d, %d]", op, o,
                     m[o], s[o], QK_SHIFT_MIN, QK_SHIFT64_MAX);
    if (bias && (bias[o] > QK_I16X8_BIAS_MAX || bias[o] < -QK_I16X8_BIAS_MAX))
      return qk_fail(QK_ERR_PARAM, "%s: channel %zu bias %lld beyond +-2^40", op, o, (long long)bias[o]);
  }
  return QK_OK;
}

qk_status qk_fc_i16x8_check(const qk_fc_i16x8_desc *d, const int64_t *bias) {
  if (!d) return qk_fail(QK_ERR_NULL, "fc_i16x8: null descriptor");
  if (d->in_ch == 0 || d->out_ch == 0) return qk_fail(QK_ERR_SHAPE, "fc_i16x8: in_ch and out_ch must be >= 1");
  size_t n;
  if (d->in_ch > QK_I16X8_K_MAX || !qk_mul_size(d->in_ch, d->out_ch, &n) || n > (SIZE_MAX >> 4))
    return qk_fail(QK_ERR_OVERFLOW, "fc_i16x8: %zu x %zu weights overflow the contract", d->out_ch, d->in_ch);
  return check_requant("fc_i16x8", d->out_ch, d->multiplier, d->shift, d->act_min, d->act_max, bias);
}

static qk_status conv_common(const qk_conv2d_int8_desc *d, qk_conv2d_geom *g, const int64_t *bias, bool dw) {
  if (!d) return qk_fail(QK_ERR_NULL, "conv_i16x8: null descriptor");
  if (d->input_zp != 0 || d->output_zp != 0)
    return qk_fail(QK_ERR_PARAM, "conv_i16x8: zero points must be 0 (got %d, %d)", d->input_zp, d->output_zp);
  qk_status st = check_requant(dw ? "dwconv2d_i16x8" : "conv2d_i16x8", d->out_ch, d->multiplier, d->shift,
                               d->act_min, d->act_max, bias);
  if (st) return st;
  /* Geometry and sizes: the int8 check, given an int8-valid clamp and rounding (the 16x8 ones
   * were checked above; every 16x8 shift is also inside the int8 range). */
  qk_conv2d_int8_desc t = *d;
  t.act_min = -128, t.act_max = 127, t.rounding = QK_ROUND_DOUBLE;
  if ((st = dw ? qk_dwconv2d_int8_check(&t, g) : qk_conv2d_int8_check(&t, g))) return st;
  if (d->k_h * d->k_w * (dw ? 1 : d->in_ch / d->groups) > QK_I16X8_K_MAX)
    return qk_fail(QK_ERR_OVERFLOW, "conv_i16x8: reduction longer than 2^24");
  return QK_OK;
}

qk_status qk_conv2d_i16x8_check(const qk_conv2d_int8_desc *d, qk_conv2d_geom *g, const int64_t *bias) {
  return conv_common(d, g, bias, false);
}

qk_status qk_dwconv2d_i16x8_check(const qk_conv2d_int8_desc *d, qk_conv2d_geom *g, const int64_t *bias) {
  return conv_common(d, g, bias, true);
}

qk_status qk_add_i16_check(const qk_add_int8_params *p) {
  if (!p) return qk_fail(QK_ERR_NULL, "add_i16: null params");
  if (p->input1_zp < -32768 || p->input1_zp > 32767 || p->input2_zp < -32768 || p->input2_zp > 32767 ||
      p->output_zp < -32768 || p->output_zp > 32767)
    return qk_fail(QK_ERR_PARAM, "add_i16: zero points outside int16");
  if (p->act_min < -32768 || p->act_max > 32767 || p->act_min > p->act_max)
    return qk_fail(QK_ERR_PARAM, "add_i16: clamp [%d, %d] invalid", p->act_min, p->act_max);
  /* (x - zp) spans 17 bits; shifted left it must stay inside int32. */
  if (p->left_shift < 0 || p->left_shift > 15) return qk_fail(QK_ERR_PARAM, "add_i16: left_shift %d outside [0, 15]", p->left_shift);
  if (p->rounding != QK_ROUND_DOUBLE && p->rounding != QK_ROUND_SINGLE)
    return qk_fail(QK_ERR_PARAM, "add_i16: unknown rounding %d", (int)p->rounding);
  const int32_t m[3] = {p->input1_multiplier, p->input2_multiplier, p->output_multiplier};
  const int32_t s[3] = {p->input1_shift, p->input2_shift, p->output_shift};
  for (int i = 0; i < 3; i++)
    if (m[i] < 0 || s[i] < QK_SHIFT_MIN || s[i] > 0)
      return qk_fail(QK_ERR_PARAM, "add_i16: multipliers must be >= 0 with shifts in [%d, 0]", QK_SHIFT_MIN);
  return QK_OK;
}
