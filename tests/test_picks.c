/* Kernel-pick tables steer dispatch per shape, within the cap, and reject malformed files. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static const char *write_table(const char *text) {
  static char path[] = "/tmp/qk_picks_XXXXXX";
  snprintf(path, sizeof path, "/tmp/qk_picks_XXXXXX");
  const int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  FILE *f = fdopen(fd, "w");
  fputs(text, f);
  fclose(f);
  return path;
}

Test(picks, a_pick_steers_fc_and_its_conv_twin) {
  int32_t m[8] = {1 << 30, 1 << 30, 1 << 30, 1 << 30, 1 << 30, 1 << 30, 1 << 30, 1 << 30};
  int32_t s[8] = {-9, -9, -9, -9, -9, -9, -9, -9};
  static const int8_t w[8 * 16];
  const qk_fc_int8_desc d = {.in_ch = 16, .out_ch = 8, .act_min = -128, .act_max = 127, .multiplier = m, .shift = s};
  const char *path = write_table("# qkbench kernel picks v1\nfc int8 64 16 8 qk_int8_fc_1x1c1__scalar 1.0\n"
                                 "fc int8 1 99 99 qk_int8_fc_no_such__variant 1.0\n");
  cr_assert_eq(qk_picks_load(path), QK_OK, "%s", qk_last_error());
  qk_fc_int8_op *op;
  cr_assert_eq(qk_fc_int8_create(&d, w, NULL, &op), QK_OK);
  cr_expect_str_eq(qk_fc_int8_variant(op), "qk_int8_fc_1x1c1__scalar");
  qk_fc_int8_destroy(op);
  /* A 1x1 conv over 8x8 pixels is the same GEMM: it takes the pick's conv twin. */
  const qk_conv2d_int8_desc c = {.batch = 1, .in_h = 8, .in_w = 8, .in_ch = 16, .out_ch = 8, .k_h = 1, .k_w = 1,
                                 .stride_h = 1, .stride_w = 1, .dilation_h = 1, .dilation_w = 1, .padding = QK_PAD_SAME,
                                 .groups = 1, .act_min = -128, .act_max = 127, .multiplier = m, .shift = s};
  qk_conv2d_int8_op *cop;
  cr_assert_eq(qk_conv2d_int8_create(&c, w, NULL, &cop), QK_OK);
  cr_expect_str_eq(qk_conv2d_int8_variant(cop), "qk_int8_conv2d_gemm_1x1c1__scalar");
  qk_conv2d_int8_destroy(cop);
  qk_picks_clear();
  cr_assert_eq(qk_fc_int8_create(&d, w, NULL, &op), QK_OK);
  cr_expect_str_eq(qk_fc_int8_variant(op), qk_dispatch(QK_OP_FC, QK_PATH_INT8)->name, "cleared table: plain dispatch");
  qk_fc_int8_destroy(op);
  remove(path);
}

Test(picks, malformed_tables_are_errors_with_the_line) {
  const char *path = write_table("fc int8 1 2\n");
  cr_expect_eq(qk_picks_load(path), QK_ERR_PARAM);
  cr_expect(strstr(qk_last_error(), ":1:") != NULL, "%s", qk_last_error());
  remove(path);
  path = write_table("# ok\nwarp int8 1 2 3 qk_int8_fc_1x1c1__scalar\n");
  cr_expect_eq(qk_picks_load(path), QK_ERR_PARAM);
  cr_expect(strstr(qk_last_error(), ":2:") != NULL, "%s", qk_last_error());
  remove(path);
  cr_expect_eq(qk_picks_load("/nonexistent/picks.txt"), QK_ERR_PARAM);
}
