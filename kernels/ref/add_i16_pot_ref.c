/* Reference int16 Add, power-of-two-scale path (qk/add_i16_pot.h). Written from TFLite's
 * tensorflow/lite/kernels/add.cc (Prepare, the pot_scale_int16 branch; CheckedLog2 in
 * kernels/internal/quantization_util.cc), reference_ops::Add for int16 with input1_shift /
 * input2_shift, and gemmlowp fixedpoint.h's generic RoundingDivideByPOT and SaturatingAdd<int16>. */
#include <math.h>

#include "qk/add_i16_pot.h"
#include "internal.h"

/* CheckedLog2: float32 log2 via log(x) * (1 / log(2)), rounded half away, tolerance 1e-3. */
static bool checked_log2(float x, int *log2_result) {
  const float x_log2 = logf(x) * (1.0f / logf(2.0f));
  const float rounded = roundf(x_log2);
  *log2_result = (int)rounded;
  return fabsf(x_log2 - rounded) < 1e-3f;
}

qk_status qk_add_i16_pot_derive(float s1, int32_t zp1, float s2, int32_t zp2, float s_out, int32_t zp_out,
                                qk_activation act, qk_add_i16_pot_params *p) {
  if (!p) return qk_fail(QK_ERR_NULL, "add_i16_pot: null params");
  if (zp1 != 0 || zp2 != 0 || zp_out != 0)
    return qk_fail(QK_ERR_PARAM, "add_i16_pot: zero points must be 0 (got %d, %d, %d)", zp1, zp2, zp_out);
  const float s[3] = {s1, s2, s_out};
  int l[3];
  for (int i = 0; i < 3; i++) {
    if (!(s[i] > 0.0f) || !isfinite(s[i])) return qk_fail(QK_ERR_PARAM, "add_i16_pot: scale %g invalid", s[i]);
    if (!checked_log2(s[i], &l[i])) return qk_fail(QK_ERR_PARAM, "add_i16_pot: scale %g is not a power of two", s[i]);
  }
  qk_add_i16_pot_params q = {.input1_shift = l[0] - l[2], .input2_shift = l[1] - l[2]};
  qk_status st = qk_activation_range(act, s_out, 0, -32768, 32767, &q.act_min, &q.act_max);
  if (st) return st;
  if ((st = qk_add_i16_pot_check(&q))) return st;
  *p = q;
  return QK_OK;
}

qk_status qk_add_i16_pot_check(const qk_add_i16_pot_params *p) {
  if (!p) return qk_fail(QK_ERR_NULL, "add_i16_pot: null params");
  /* TFLite shifts one input only (the graph must match the other to the output scale). */
  if (p->input1_shift != 0 && p->input2_shift != 0)
    return qk_fail(QK_ERR_PARAM, "add_i16_pot: both input shifts are non-zero (%d, %d)", p->input1_shift,
                   p->input2_shift);
  if (p->input1_shift > 0 || p->input2_shift > 0)
    return qk_fail(QK_ERR_PARAM, "add_i16_pot: positive input shift (%d, %d)", p->input1_shift, p->input2_shift);
  /* RoundingDivideByPOT asserts exponent <= 31 (and shifts an int by it). */
  if (p->input1_shift < -31 || p->input2_shift < -31)
    return qk_fail(QK_ERR_PARAM, "add_i16_pot: input shift below -31 (%d, %d)", p->input1_shift, p->input2_shift);
  if (p->act_min < -32768 || p->act_max > 32767 || p->act_min > p->act_max)
    return qk_fail(QK_ERR_PARAM, "add_i16_pot: clamp [%d, %d] invalid", p->act_min, p->act_max);
  return QK_OK;
}

/* gemmlowp's generic template at IntegerType = int16_t: every intermediate is converted back to
 * int16, which is what makes the mask -1 for e >= 16. */
int16_t qk_rdbpot16(int16_t x, int e) {
  const int16_t mask = (int16_t)(uint16_t)((UINT64_C(1) << e) - 1u);
  const int16_t remainder = (int16_t)(x & mask);
  const int16_t threshold = (int16_t)((mask >> 1) + (x < 0 ? 1 : 0));
  return (int16_t)((x >> e) + (remainder > threshold ? 1 : 0));
}

void qk_ref_add_i16_pot(const qk_add_i16_pot_params *p, size_t n, const int16_t *x1, const int16_t *x2, int16_t *y) {
  const bool first_plain = p->input1_shift == 0;
  const int16_t *plain = first_plain ? x1 : x2, *shifted = first_plain ? x2 : x1;
  const int e = first_plain ? -p->input2_shift : -p->input1_shift;
  for (size_t i = 0; i < n; i++) {
    const int32_t sum = (int32_t)qk_rdbpot16(shifted[i], e) + plain[i]; /* SaturatingAdd<int16> */
    const int32_t sat = sum < -32768 ? -32768 : sum > 32767 ? 32767 : sum;
    y[i] = (int16_t)(sat < p->act_min ? p->act_min : sat > p->act_max ? p->act_max : sat);
  }
}
