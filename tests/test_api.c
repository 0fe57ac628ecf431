/* The public API: bad input gives a status and a message, never a crash; dispatch honours
 * QK_ISA and QK_VARIANT; the dispatched operator matches the reference. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static int32_t mult[8] = {1 << 30, 1 << 30, 1 << 30, 1 << 30, 1 << 30, 1 << 30, 1 << 30, 1 << 30};
static int32_t shift[8] = {-8, -8, -8, -8, -8, -8, -8, -8};
static const int8_t w[8 * 16] = {1, -2, 3};

static qk_fc_int8_desc good(void) {
  return (qk_fc_int8_desc){.in_ch = 16, .out_ch = 8, .input_zp = 3, .output_zp = -5, .act_min = -128,
                           .act_max = 127, .rounding = QK_ROUND_DOUBLE, .multiplier = mult, .shift = shift};
}

static void expect_rejected(qk_fc_int8_desc d, qk_status want, const char *what) {
  qk_fc_int8_op *op = (qk_fc_int8_op *)&op;
  const qk_status st = qk_fc_int8_create(&d, w, NULL, &op);
  cr_expect_eq(st, want, "%s: got %s (%s)", what, qk_status_str(st), qk_last_error());
  cr_expect_null(op, "%s: op must be NULL on failure", what);
  cr_expect_neq(qk_last_error()[0], '\0', "%s: no message", what);
}

Test(api, rejects_bad_descriptors) {
  qk_fc_int8_desc d;
  cr_expect_eq(qk_fc_int8_create(NULL, w, NULL, &(qk_fc_int8_op *){0}), QK_ERR_NULL);
  d = good(), d.in_ch = 0, expect_rejected(d, QK_ERR_SHAPE, "K=0");
  d = good(), d.out_ch = 0, expect_rejected(d, QK_ERR_SHAPE, "N=0");
  d = good(), d.in_ch = SIZE_MAX / 2, expect_rejected(d, QK_ERR_OVERFLOW, "K*N overflow");
  d = good(), d.multiplier = NULL, expect_rejected(d, QK_ERR_NULL, "null multipliers");
  d = good(), d.input_zp = 128, expect_rejected(d, QK_ERR_PARAM, "zp_in 128");
  d = good(), d.output_zp = -129, expect_rejected(d, QK_ERR_PARAM, "zp_out -129");
  d = good(), d.act_min = 5, d.act_max = 4, expect_rejected(d, QK_ERR_PARAM, "inverted clamp");
  d = good(), d.act_max = 128, expect_rejected(d, QK_ERR_PARAM, "clamp beyond int8");
  d = good(), d.rounding = (qk_rounding)7, expect_rejected(d, QK_ERR_PARAM, "rounding 7");
  int32_t bad_shift[8] = {-8, -8, 31, -8, -8, -8, -8, -8};
  d = good(), d.shift = bad_shift, expect_rejected(d, QK_ERR_PARAM, "shift 31");
  bad_shift[2] = -32;
  expect_rejected(d, QK_ERR_PARAM, "shift -32");
  int32_t bad_mult[8] = {1 << 30, -1, 0, 0, 0, 0, 0, 0};
  d = good(), d.multiplier = bad_mult, expect_rejected(d, QK_ERR_PARAM, "negative multiplier");
  d = good();
  cr_expect_eq(qk_fc_int8_create(&d, NULL, NULL, &(qk_fc_int8_op *){0}), QK_ERR_NULL);
  cr_expect_eq(qk_fc_int8_create(&d, w, NULL, NULL), QK_ERR_NULL);
}

Test(api, run_checks_its_arguments) {
  qk_fc_int8_desc d = good();
  qk_fc_int8_op *op;
  cr_assert_eq(qk_fc_int8_create(&d, w, NULL, &op), QK_OK, "%s", qk_last_error());
  int8_t x[16] = {0}, y[8];
  cr_expect_eq(qk_fc_int8_run(op, 0, x, y), QK_ERR_SHAPE);
  cr_expect_eq(qk_fc_int8_run(op, 1, NULL, y), QK_ERR_NULL);
  cr_expect_eq(qk_fc_int8_run(op, 1, x, NULL), QK_ERR_NULL);
  cr_expect_eq(qk_fc_int8_run(NULL, 1, x, y), QK_ERR_NULL);
  cr_expect_eq(qk_fc_int8_run(op, SIZE_MAX / 4, x, y), QK_ERR_OVERFLOW);
  qk_fc_int8_destroy(op);
  qk_fc_int8_destroy(NULL);
}

/* The dispatched operator, at every cap this CPU supports, equals the reference. */
Test(api, dispatched_operator_matches_reference_at_every_level) {
  enum { M = 7, K = 301, N = 67 };
  static int8_t wt[N * K], x[M * K], y[M * N], yref[M * N];
  static int32_t bias[N], m[N], sh[N];
  qkc_rng g = {42};
  for (size_t i = 0; i < sizeof wt; i++) wt[i] = (int8_t)qkc_range(&g, -128, 127);
  for (size_t i = 0; i < sizeof x; i++) x[i] = (int8_t)qkc_range(&g, -128, 127);
  for (int o = 0; o < N; o++) {
    bias[o] = qkc_range(&g, -100000, 100000);
    m[o] = qkc_range(&g, 1 << 30, INT32_MAX);
    sh[o] = qkc_range(&g, -14, -9);
  }
  for (int rounding = 0; rounding < 2; rounding++) {
    const qk_fc_int8_desc d = {.in_ch = K, .out_ch = N, .input_zp = -7, .output_zp = 9, .act_min = -100,
                               .act_max = 120, .rounding = (qk_rounding)rounding, .multiplier = m, .shift = sh};
    qk_ref_fc_int8(&d, wt, bias, M, x, yref);
    int levels = 0;
    for (int cap = 0; cap < QK_ISA_COUNT; cap++) {
      if (!qk_isa_supported((qk_isa)cap)) continue;
      qk_set_isa_cap((qk_isa)cap);
      qk_fc_int8_op *op;
      cr_assert_eq(qk_fc_int8_create(&d, wt, bias, &op), QK_OK, "%s", qk_last_error());
      const qk_variant *v = qk_variant_find(qk_fc_int8_variant(op));
      cr_assert_not_null(v);
      cr_expect_leq(v->isa, (qk_isa)cap, "cap %s chose %s", qk_isa_name((qk_isa)cap), v->name);
      memset(y, 0, sizeof y);
      cr_assert_eq(qk_fc_int8_run(op, M, x, y), QK_OK);
      cr_expect_arr_eq(y, yref, sizeof y, "%s differs from the reference", v->name);
      qk_fc_int8_destroy(op);
      levels++;
    }
    qk_set_isa_cap(QK_ISA_COUNT);
    cr_expect_gt(levels, 0);
  }
}

Test(api, qk_variant_forces_and_rejects) {
  qk_fc_int8_desc d = good();
  qk_fc_int8_op *op;
  setenv("QK_VARIANT", "qk_int8_fc_1x1c1__scalar", 1);
  cr_assert_eq(qk_fc_int8_create(&d, w, NULL, &op), QK_OK, "%s", qk_last_error());
  cr_expect_str_eq(qk_fc_int8_variant(op), "qk_int8_fc_1x1c1__scalar");
  qk_fc_int8_destroy(op);
  setenv("QK_VARIANT", "qk_int8_fc_no_such__thing", 1);
  cr_expect_eq(qk_fc_int8_create(&d, w, NULL, &op), QK_ERR_UNSUPPORTED);
  cr_expect(strstr(qk_last_error(), "qk_int8_fc_no_such__thing") != NULL, "%s", qk_last_error());
  unsetenv("QK_VARIANT");
  setenv("QK_ISA", "pentium", 1);
  cr_expect_eq(qk_fc_int8_create(&d, w, NULL, &op), QK_ERR_UNSUPPORTED);
  cr_expect(strstr(qk_last_error(), "QK_ISA") != NULL, "%s", qk_last_error());
  setenv("QK_ISA", "scalar", 1);
  cr_assert_eq(qk_fc_int8_create(&d, w, NULL, &op), QK_OK);
  cr_expect_str_eq(qk_fc_int8_variant(op), "qk_int8_fc_1x1c1__scalar");
  qk_fc_int8_destroy(op);
  unsetenv("QK_ISA");
}

Test(api, registry_is_consistent) {
  cr_assert_gt(qk_variant_count(), 0);
  for (size_t i = 0; i < qk_variant_count(); i++) {
    const qk_variant *v = qk_variant_at(i);
    cr_expect_eq(qk_variant_find(v->name), v, "duplicate name %s", v->name);
    cr_expect(strstr(v->name, qk_isa_name(v->isa)) != NULL, "%s does not end in its ISA", v->name);
    cr_expect(qk_isa_built(v->isa));
  }
  cr_expect_null(qk_variant_at(qk_variant_count()));
  cr_expect(qk_isa_supported(QK_ISA_SCALAR));
}
