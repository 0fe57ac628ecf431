/* Runtime entry points of the int8 ops beyond FC: bad input, and dispatch at every level. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static int32_t mult[64], shift[64];

static qk_conv2d_int8_desc conv(void) {
  for (int i = 0; i < 64; i++) mult[i] = 1 << 30, shift[i] = -9;
  return (qk_conv2d_int8_desc){.batch = 1, .in_h = 9, .in_w = 7, .in_ch = 12, .out_ch = 24, .k_h = 3, .k_w = 3,
                               .stride_h = 2, .stride_w = 1, .dilation_h = 1, .dilation_w = 2, .padding = QK_PAD_SAME,
                               .groups = 1, .depth_multiplier = 2, .input_zp = -5, .output_zp = 3, .act_min = -128,
                               .act_max = 127, .rounding = QK_ROUND_DOUBLE, .multiplier = mult, .shift = shift};
}

static void rejected(qk_conv2d_int8_desc d, bool dw, qk_status want, const char *what) {
  static const int8_t w[24 * 9 * 12];
  qk_conv2d_int8_op *op = (qk_conv2d_int8_op *)&op;
  const qk_status st = dw ? qk_dwconv2d_int8_create(&d, w, NULL, &op) : qk_conv2d_int8_create(&d, w, NULL, &op);
  cr_expect_eq(st, want, "%s: got %s (%s)", what, qk_status_str(st), qk_last_error());
  cr_expect_null(op, "%s", what);
}

Test(ops, conv_rejects_bad_descriptors) {
  qk_conv2d_int8_desc d;
  d = conv(), d.in_h = 0, rejected(d, false, QK_ERR_SHAPE, "zero height");
  d = conv(), d.k_w = 0, rejected(d, false, QK_ERR_SHAPE, "zero kernel");
  d = conv(), d.stride_h = 0, rejected(d, false, QK_ERR_SHAPE, "zero stride");
  d = conv(), d.groups = 5, rejected(d, false, QK_ERR_SHAPE, "groups not dividing channels");
  d = conv(), d.groups = 0, rejected(d, false, QK_ERR_SHAPE, "zero groups");
  d = conv(), d.padding = QK_PAD_VALID, d.k_h = 10, rejected(d, false, QK_ERR_SHAPE, "VALID kernel beyond input");
  d = conv(), d.padding = (qk_padding)9, rejected(d, false, QK_ERR_PARAM, "unknown padding");
  d = conv(), d.in_w = SIZE_MAX / 4, rejected(d, false, QK_ERR_OVERFLOW, "huge width");
  d = conv(), d.input_zp = 200, rejected(d, false, QK_ERR_PARAM, "zero point");
  d = conv(), d.shift = NULL, rejected(d, false, QK_ERR_NULL, "null shifts");
  d = conv(), d.out_ch = 25, rejected(d, true, QK_ERR_SHAPE, "depthwise channels != in*dm");
  d = conv(), d.depth_multiplier = 0, rejected(d, true, QK_ERR_SHAPE, "zero depth multiplier");
  d = conv(), shift[3] = 31, rejected(d, false, QK_ERR_PARAM, "shift 31");
  cr_expect_eq(qk_conv2d_int8_run(NULL, (int8_t[1]){0}, (int8_t[1]){0}), QK_ERR_NULL);
}

Test(ops, conv_and_depthwise_match_reference_at_every_level) {
  for (int dw = 0; dw < 2; dw++) {
    qk_conv2d_int8_desc d = conv();
    if (!dw) d.out_ch = 20;
    qk_conv2d_geom g;
    cr_assert_eq(dw ? qk_dwconv2d_int8_check(&d, &g) : qk_conv2d_int8_check(&d, &g), QK_OK, "%s", qk_last_error());
    const size_t nx = 9 * 7 * 12, nw = dw ? 9 * 24 : 20 * 9 * 12, ny = g.out_h * g.out_w * d.out_ch;
    int8_t *x = malloc(nx), *w = malloc(nw), *y = malloc(ny), *yref = malloc(ny);
    int32_t bias[24];
    qkc_rng r = {99};
    for (size_t i = 0; i < nx; i++) x[i] = (int8_t)qkc_range(&r, -128, 127);
    for (size_t i = 0; i < nw; i++) w[i] = (int8_t)qkc_range(&r, -127, 127);
    for (int i = 0; i < 24; i++) bias[i] = qkc_range(&r, -5000, 5000);
    if (dw) qk_ref_dwconv2d_int8(&d, &g, x, w, bias, yref);
    else qk_ref_conv2d_int8(&d, &g, x, w, bias, yref);
    for (int cap = 0; cap < QK_ISA_COUNT; cap++) {
      if (!qk_isa_supported((qk_isa)cap)) continue;
      qk_set_isa_cap((qk_isa)cap);
      qk_conv2d_int8_op *op;
      cr_assert_eq(dw ? qk_dwconv2d_int8_create(&d, w, bias, &op) : qk_conv2d_int8_create(&d, w, bias, &op), QK_OK);
      memset(y, 0, ny);
      cr_assert_eq(qk_conv2d_int8_run(op, x, y), QK_OK);
      cr_expect_arr_eq(y, yref, ny, "%s differs at cap %s", qk_conv2d_int8_variant(op), qk_isa_name((qk_isa)cap));
      qk_conv2d_int8_destroy(op);
    }
    qk_set_isa_cap(QK_ISA_COUNT);
    free(x), free(w), free(y), free(yref);
  }
}

Test(ops, stateless_ops_check_their_arguments) {
  const size_t a[4] = {1, 2, 3, 4}, b[4] = {1, 2, 1, 5};
  int8_t x[24] = {0}, y[24];
  qk_add_int8_params ap = {0};
  cr_assert_eq(qk_add_derive(0.1f, 0.2f, 0.3f, 20, QK_ROUND_DOUBLE, &ap), QK_OK);
  ap.act_min = -128, ap.act_max = 127;
  cr_expect_eq(qk_add_int8(&ap, a, x, b, x, y), QK_ERR_SHAPE, "4 vs 5 channels must not broadcast");
  cr_expect_eq(qk_add_int8(&ap, a, NULL, a, x, y), QK_ERR_NULL);
  cr_expect_eq(qk_add_int8(&ap, a, x, a, x, y), QK_OK);
  ap.left_shift = 21;
  cr_expect_eq(qk_add_int8(&ap, a, x, a, x, y), QK_ERR_PARAM);
  cr_expect_eq(qk_add_derive(0.1f, -0.2f, 0.3f, 20, QK_ROUND_DOUBLE, &ap), QK_ERR_PARAM);
  qk_mul_int8_params mp = {.act_min = -128, .act_max = 127, .output_multiplier = -1};
  cr_expect_eq(qk_mul_int8(&mp, a, x, a, x, y), QK_ERR_PARAM);
  const float f[3] = {1.0f, 2.0f, NAN};
  cr_expect_eq(qk_quantize(f, 3, 0.0f, 0, QK_Q_INT8, y), QK_ERR_PARAM);
  cr_expect_eq(qk_quantize(f, 3, 0.5f, 200, QK_Q_INT8, y), QK_ERR_PARAM);
  cr_expect_eq(qk_quantize(f, 0, 0.5f, 0, QK_Q_INT8, y), QK_ERR_SHAPE);
  cr_assert_eq(qk_quantize(f, 3, 0.5f, 10, QK_Q_UINT8, y), QK_OK);
  cr_expect(((uint8_t *)y)[0] == 12 && ((uint8_t *)y)[1] == 14 && ((uint8_t *)y)[2] == 10, "NaN maps to the zero point");
  qk_requant_params rp = {.in_type = QK_Q_INT8, .out_type = QK_Q_UINT8, .input_zp = 0, .output_zp = 300};
  cr_expect_eq(qk_requantize(&rp, x, 4, y), QK_ERR_PARAM);
  qk_pool_int8_desc pd = {.batch = 1, .in_h = 2, .in_w = 2, .channels = 3, .filter_h = 3, .filter_w = 3,
                          .stride_h = 1, .stride_w = 1, .padding = QK_PAD_VALID, .act_min = -128, .act_max = 127};
  cr_expect_eq(qk_avgpool_int8(&pd, x, y), QK_ERR_SHAPE);
  pd.padding = QK_PAD_SAME;
  cr_expect_eq(qk_maxpool_int8(&pd, x, y), QK_OK);
}
