/* Quantization math: SPEC.md §1-§3 edge cases, stated as the spec states them. */
#include <criterion/criterion.h>
#include <math.h>

#include "qk/qk.h"

static void qm(double real, qk_rounding mode, int32_t em, int es) {
  int32_t m;
  int s;
  cr_assert_eq(qk_quantize_multiplier(real, mode, &m, &s), QK_OK);
  cr_expect(m == em && s == es, "QuantizeMultiplier(%.17g) = (%d, %d), want (%d, %d)", real, m, s, em, es);
}

Test(quant, quantize_multiplier_edges) {
  qm(0.0, QK_ROUND_DOUBLE, 0, 0);
  qm(0.5 + ldexp(1, -32), QK_ROUND_DOUBLE, (1 << 30) + 1, 0); /* half rounds away */
  qm(1.0 - ldexp(1, -33), QK_ROUND_DOUBLE, 1 << 30, 1);         /* 2^31 fix-up */
  qm(ldexp(1, -32), QK_ROUND_DOUBLE, 1 << 30, -31);             /* boundary kept */
  qm(ldexp(1, -33), QK_ROUND_DOUBLE, 0, 0);                     /* flushed */
  qm(-(1.0 - ldexp(1, -33)), QK_ROUND_DOUBLE, INT32_MIN, 0);    /* no fix-up when negative */
  qm(ldexp(1, 40), QK_ROUND_DOUBLE, 1 << 30, 41);               /* default build: no clamp */
  qm(ldexp(1, 40), QK_ROUND_SINGLE, INT32_MAX, 30);             /* single rounding clamps */
  int32_t m;
  int s;
  cr_expect_eq(qk_quantize_multiplier(NAN, QK_ROUND_DOUBLE, &m, &s), QK_ERR_PARAM);
  cr_expect_eq(qk_quantize_multiplier(INFINITY, QK_ROUND_DOUBLE, &m, &s), QK_ERR_PARAM);
  cr_expect_eq(qk_quantize_multiplier(1.0, QK_ROUND_DOUBLE, NULL, &s), QK_ERR_NULL);
}

Test(quant, srdhm_ties_toward_plus_infinity) {
  /* a*b/2^31 = +-2.5 */
  cr_expect_eq(qk_srdhm(5, 1 << 30), 3);
  cr_expect_eq(qk_srdhm(-5, 1 << 30), -2);
  cr_expect_eq(qk_srdhm(INT32_MIN, INT32_MIN), INT32_MAX);
}

Test(quant, rdbpot_ties_away_from_zero) {
  cr_expect_eq(qk_rdbpot(5, 1), 3);
  cr_expect_eq(qk_rdbpot(-5, 1), -3);
  cr_expect_eq(qk_rdbpot(-6, 2), -2);
  cr_expect_eq(qk_rdbpot(12345, 0), 12345);
  cr_expect_eq(qk_rdbpot(INT32_MIN, 31), -1);
  cr_expect_eq(qk_rdbpot(INT32_MAX, 31), 1);
}

Test(quant, mbqm32_double_vs_single) {
  /* SPEC §1.3: exact 1.25 -> double rounding 2, single rounding 1. */
  cr_expect_eq(qk_mbqm32(5, 1 << 30, -1, QK_ROUND_DOUBLE), 2);
  cr_expect_eq(qk_mbqm32(5, 1 << 30, -1, QK_ROUND_SINGLE), 1);
  /* single rounding ties toward +inf: -2.5 -> -2 */
  cr_expect_eq(qk_mbqm32(-5, 1 << 30, 0, QK_ROUND_SINGLE), -2);
  /* the double-rounding left shift wraps in int32 */
  cr_expect_eq(qk_mbqm32(1 << 30, INT32_MAX, 2, QK_ROUND_DOUBLE), 0);
}

Test(quant, mbqm64_reduced_multiplier) {
  cr_expect_eq(qk_mbqm64(1 << 20, 1 << 30, 0), 1 << 19);
  cr_expect_eq(qk_mbqm64(3, 0x7FFF0000, 0), 3); /* rm saturates at 0x7FFF: 3*0x7FFF/2^15 = 2.9999 -> 3 */
  cr_expect_eq(qk_mbqm64(-(INT64_C(1) << 20), 1 << 30, 0), -(1 << 19));
  cr_expect_eq(qk_mbqm64(1, 1 << 30, 0), 1);  /* +0.5 -> 1 */
  cr_expect_eq(qk_mbqm64(-1, 1 << 30, 0), 0); /* -0.5 -> 0: ties toward +inf */
}

Test(quant, activation_ranges) {
  int32_t lo, hi;
  cr_assert_eq(qk_activation_range(QK_ACT_RELU6, 0.05f, -10, -128, 127, &lo, &hi), QK_OK);
  cr_expect(lo == -10 && hi == 110, "relu6 [%d, %d]", lo, hi);
  cr_assert_eq(qk_activation_range(QK_ACT_RELU_N1_TO_1, 0.5f, 0, -128, 127, &lo, &hi), QK_OK);
  cr_expect(lo == -2 && hi == 2, "relu_n1_to_1 [%d, %d]", lo, hi);
  cr_assert_eq(qk_activation_range(QK_ACT_RELU, 1.0f, 127, -128, 127, &lo, &hi), QK_OK);
  cr_expect(lo == 127 && hi == 127);
  cr_expect_eq(qk_activation_range(QK_ACT_RELU, 0.0f, 0, -128, 127, &lo, &hi), QK_ERR_PARAM);
  cr_expect_eq(qk_activation_range(QK_ACT_RELU6, 1e-38f, 0, -128, 127, &lo, &hi), QK_ERR_PARAM);
}

Test(quant, per_tensor_fc_rounds_the_product_to_float_first) {
  /* Find scales where float32(s_in*s_w) differs from the exact product: the two derivations of
   * SPEC §3 must then be able to disagree, and each must follow its own rule. */
  const float s_in = 0.0123456789f, s_out = 0.0456f;
  int differ = 0;
  for (int i = 1; i < 2000; i++) {
    const float s_w = 1e-3f * (float)i / 7.0f;
    int32_t m1, m2, sh1, sh2;
    cr_assert_eq(qk_multiplier_per_tensor_fc(s_in, s_w, s_out, QK_ROUND_DOUBLE, &m1, &sh1), QK_OK);
    cr_assert_eq(qk_multipliers_per_channel(s_in, &s_w, 1, s_out, QK_ROUND_DOUBLE, &m2, &sh2), QK_OK);
    int32_t em;
    int es;
    qk_quantize_multiplier((double)(s_in * s_w) / (double)s_out, QK_ROUND_DOUBLE, &em, &es);
    cr_expect(m1 == em && sh1 == es);
    differ += m1 != m2;
  }
  cr_expect_gt(differ, 0, "per-tensor and per-channel rules never differed: test data too tame");
}

Test(quant, choose_asymmetric) {
  float s;
  int32_t zp;
  cr_assert_eq(qk_choose_asymmetric(-1.0f, 1.0f, -128, 127, &s, &zp), QK_OK);
  cr_expect_float_eq(s, 2.0f / 255.0f, 1e-9);
  cr_expect_eq(zp, -1); /* zero_point_from_min = -128 + 127.5 = -0.5, rounded half away */
  cr_assert_eq(qk_choose_asymmetric(0.5f, 6.0f, -128, 127, &s, &zp), QK_OK); /* widened to include 0 */
  cr_expect_eq(zp, -128);
  cr_assert_eq(qk_choose_asymmetric(-6.0f, -0.5f, -128, 127, &s, &zp), QK_OK);
  cr_expect_eq(zp, 127);
  cr_assert_eq(qk_choose_asymmetric(0.0f, 0.0f, -128, 127, &s, &zp), QK_OK);
  cr_expect(s == 0.0f && zp == -128);
  cr_expect_eq(qk_choose_asymmetric(1.0f, -1.0f, -128, 127, &s, &zp), QK_ERR_PARAM);
  cr_expect_eq(qk_choose_asymmetric(NAN, 1.0f, -128, 127, &s, &zp), QK_ERR_PARAM);
}

Test(quant, per_channel_weights) {
  const float w[2][4] = {{0.5f, -1.0f, 0.25f, 0.0f}, {0.0f, 0.0f, 0.0f, 0.0f}};
  int8_t q[8];
  float sc[2];
  cr_assert_eq(qk_quantize_weights_per_channel(&w[0][0], 2, 4, q, sc), QK_OK);
  cr_expect_float_eq(sc[0], 1.0f / 127.0f, 1e-12);
  cr_expect(q[0] == 64 && q[1] == -127 && q[2] == 32 && q[3] == 0, "%d %d %d %d", q[0], q[1], q[2], q[3]);
  cr_expect(sc[1] == 0.0f && q[4] == 0 && q[7] == 0);
  cr_expect_eq(qk_quantize_weights_per_channel(&w[0][0], 0, 4, q, sc), QK_ERR_SHAPE);
}
