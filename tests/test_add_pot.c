/* int16 Add, power-of-two-scale path (qk/add_i16_pot.h): hand-computed cases from the semantics
 * of TFLite's add.cc (Prepare, pot_scale_int16), reference_ops::Add for int16 with input shifts
 * and gemmlowp's RoundingDivideByPOT / SaturatingAdd at int16. Not covered by the golden vectors. */
#include <criterion/criterion.h>
#include <math.h>

#include <stdlib.h>
#include <string.h>

#include "qk/add_i16_pot.h"
#include "qk/registry.h"

Test(add_pot, rdbpot16_rounds_half_away_from_zero) {
  cr_expect_eq(qk_rdbpot16(5, 1), 3);   /* 2.5 */
  cr_expect_eq(qk_rdbpot16(-5, 1), -3); /* -2.5 */
  cr_expect_eq(qk_rdbpot16(6, 2), 2);   /* 1.5 */
  cr_expect_eq(qk_rdbpot16(-6, 2), -2); /* -1.5 */
  cr_expect_eq(qk_rdbpot16(7, 2), 2);   /* 1.75 */
  cr_expect_eq(qk_rdbpot16(-7, 2), -2);
  cr_expect_eq(qk_rdbpot16(5, 2), 1);   /* 1.25 */
  cr_expect_eq(qk_rdbpot16(-5, 2), -1);
  cr_expect_eq(qk_rdbpot16(1234, 0), 1234);
  cr_expect_eq(qk_rdbpot16(-32768, 0), -32768);
  /* e = 15, the widest exact case: x / 32768 in {-1, 0, 1}. */
  cr_expect_eq(qk_rdbpot16(16384, 15), 1);   /* 0.5 */
  cr_expect_eq(qk_rdbpot16(16383, 15), 0);
  cr_expect_eq(qk_rdbpot16(-16384, 15), -1); /* -0.5 */
  cr_expect_eq(qk_rdbpot16(-16383, 15), 0);
  cr_expect_eq(qk_rdbpot16(32767, 15), 1);
  cr_expect_eq(qk_rdbpot16(-32768, 15), -1);
}

Test(add_pot, rdbpot16_int16_mask_quirk) {
  /* For e >= 16 the mask 2^e - 1 truncated to int16 is -1: threshold -1 (x >= 0) or 0 (x < 0),
   * remainder x, so x >= 0 gives 0 + 1 and x < 0 gives -1 + 0. */
  cr_expect_eq(qk_rdbpot16(0, 16), 1);
  cr_expect_eq(qk_rdbpot16(100, 20), 1);
  cr_expect_eq(qk_rdbpot16(32767, 31), 1);
  cr_expect_eq(qk_rdbpot16(-1, 16), -1);
  cr_expect_eq(qk_rdbpot16(-32768, 31), -1);
}

static void run(int sh1, int sh2, int32_t lo, int32_t hi, size_t n, const int16_t *x1, const int16_t *x2,
                const int16_t *want) {
  const qk_add_i16_pot_params p = {.input1_shift = sh1, .input2_shift = sh2, .act_min = lo, .act_max = hi};
  cr_assert_eq(qk_add_i16_pot_check(&p), QK_OK);
  int16_t y[16];
  qk_ref_add_i16_pot(&p, n, x1, x2, y);
  for (size_t i = 0; i < n; i++)
    cr_expect_eq(y[i], want[i], "shifts (%d, %d) element %zu: %d + %d gave %d, want %d", sh1, sh2, i, x1[i], x2[i],
                 y[i], want[i]);
}

Test(add_pot, input2_shifted) {
  /* x2 / 4 rounded: 1.5 -> 2, 100, -100, -0.5 -> -1, -1.5 -> -2, 1.75 -> 2; then the int16
   * saturating add: 32767 + 100 and -32768 - 100 saturate. */
  const int16_t x1[] = {100, 32767, -32768, 0, 10, -10};
  const int16_t x2[] = {6, 400, -400, -2, -6, 7};
  const int16_t want[] = {102, 32767, -32768, -1, 8, -8};
  run(0, -2, -32768, 32767, 6, x1, x2, want);
}

Test(add_pot, input1_shifted) {
  /* input1_shift != 0: input 1 is the one divided, by 2 here: 1.5 -> 2, -1.5 -> -2, 0.5 -> 1,
   * -0.5 -> -1. */
  const int16_t x1[] = {3, -3, 1, -1};
  const int16_t x2[] = {0, 0, 10, 10};
  const int16_t want[] = {2, -2, 11, 9};
  run(-1, 0, -32768, 32767, 4, x1, x2, want);
}

Test(add_pot, no_shift_is_a_saturating_add) {
  const int16_t x1[] = {20000, -20000, 5, -32768};
  const int16_t x2[] = {20000, -20000, -7, 32767};
  const int16_t want[] = {32767, -32768, -2, -1};
  run(0, 0, -32768, 32767, 4, x1, x2, want);
}

Test(add_pot, clamp_after_saturation) {
  const int16_t x1[] = {100, -100, 3, 32767};
  const int16_t x2[] = {0, 0, 0, 32767};
  const int16_t want[] = {5, -5, 3, 5};
  run(0, -2, -5, 5, 4, x1, x2, want);
}

Test(add_pot, shift_of_16_or_more) {
  /* The shifted input collapses to +-1 (rdbpot16 quirk above), even a zero. */
  const int16_t x1[] = {0, 0, 5};
  const int16_t x2[] = {0, -1, 100};
  const int16_t want[] = {1, -1, 6};
  run(0, -16, -32768, 32767, 3, x1, x2, want);
}

Test(add_pot, derive_shifts_and_activation) {
  qk_add_i16_pot_params p;
  cr_assert_eq(qk_add_i16_pot_derive(ldexpf(1, -10), 0, ldexpf(1, -12), 0, ldexpf(1, -10), 0, QK_ACT_NONE, &p), QK_OK);
  cr_expect(p.input1_shift == 0 && p.input2_shift == -2, "shifts (%d, %d)", p.input1_shift, p.input2_shift);
  cr_expect(p.act_min == -32768 && p.act_max == 32767);
  /* Within CheckedLog2's 1e-3 tolerance on log2 the scale counts as a power of two. */
  cr_assert_eq(qk_add_i16_pot_derive(ldexpf(1, -13) * 1.00001f, 0, ldexpf(1, -10), 0, ldexpf(1, -10), 0, QK_ACT_RELU, &p),
               QK_OK);
  cr_expect(p.input1_shift == -3 && p.input2_shift == 0);
  cr_expect(p.act_min == 0 && p.act_max == 32767);
  cr_assert_eq(qk_add_i16_pot_derive(ldexpf(1, -10), 0, ldexpf(1, -10), 0, ldexpf(1, -10), 0, QK_ACT_RELU6, &p), QK_OK);
  cr_expect(p.act_min == 0 && p.act_max == 6144); /* 6 / 2^-10 */
  cr_assert_eq(qk_add_i16_pot_derive(ldexpf(1, -10), 0, ldexpf(1, -10), 0, ldexpf(1, -10), 0, QK_ACT_RELU_N1_TO_1, &p),
               QK_OK);
  cr_expect(p.act_min == -1024 && p.act_max == 1024);
}

Test(add_pot, derive_rejects_what_prepare_rejects) {
  qk_add_i16_pot_params p;
  const float s = ldexpf(1, -10);
  cr_expect_eq(qk_add_i16_pot_derive(s, 1, s, 0, s, 0, QK_ACT_NONE, &p), QK_ERR_PARAM);         /* zero point */
  cr_expect_eq(qk_add_i16_pot_derive(0.3f, 0, s, 0, s, 0, QK_ACT_NONE, &p), QK_ERR_PARAM);      /* not 2^k */
  cr_expect_eq(qk_add_i16_pot_derive(s * 1.01f, 0, s, 0, s, 0, QK_ACT_NONE, &p), QK_ERR_PARAM); /* log2 off by 0.014 */
  cr_expect_eq(qk_add_i16_pot_derive(s / 2, 0, s / 2, 0, s, 0, QK_ACT_NONE, &p), QK_ERR_PARAM); /* both shifted */
  cr_expect_eq(qk_add_i16_pot_derive(s, 0, s * 4, 0, s, 0, QK_ACT_NONE, &p), QK_ERR_PARAM);     /* shift > 0 */
  cr_expect_eq(qk_add_i16_pot_derive(s, 0, s, 0, s, 0, QK_ACT_NONE, NULL), QK_ERR_NULL);
  const qk_add_i16_pot_params deep = {.input1_shift = 0, .input2_shift = -32, .act_min = -32768, .act_max = 32767};
  cr_expect_eq(qk_add_i16_pot_check(&deep), QK_ERR_PARAM); /* RoundingDivideByPOT needs exponent <= 31 */
}

/* The runtime entry point: argument checks, and at every ISA cap the dispatched variant (which
 * must be an add_pot one at or below the cap) matches the reference, also in place. */
Test(add_pot, entry_point_checks_its_arguments) {
  const qk_add_i16_pot_params ok = {.input1_shift = 0, .input2_shift = -3, .act_min = -32768, .act_max = 32767};
  const qk_add_i16_pot_params both = {.input1_shift = -1, .input2_shift = -3, .act_min = -32768, .act_max = 32767};
  int16_t a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8}, y[4];
  cr_expect_eq(qk_add_i16_pot(NULL, 4, a, b, y), QK_ERR_NULL);
  cr_expect_eq(qk_add_i16_pot(&both, 4, a, b, y), QK_ERR_PARAM);
  cr_expect_eq(qk_add_i16_pot(&ok, 4, NULL, b, y), QK_ERR_NULL);
  cr_expect_eq(qk_add_i16_pot(&ok, 4, a, b, NULL), QK_ERR_NULL);
  cr_expect_eq(qk_add_i16_pot(&ok, 0, NULL, NULL, NULL), QK_OK);
}

Test(add_pot, entry_point_matches_reference_at_every_level) {
  enum { N = 77 };
  int16_t a[N], b[N], want[N], y[N];
  unsigned s = 12345;
  for (int sh = 0; sh < 2; sh++) {
    const qk_add_i16_pot_params p = {.input1_shift = sh ? -5 : 0, .input2_shift = sh ? 0 : -17, .act_min = -30000,
                                     .act_max = 30000};
    for (int i = 0; i < N; i++) {
      s = s * 1103515245u + 12345u;
      a[i] = (int16_t)(s >> 16);
      s = s * 1103515245u + 12345u;
      b[i] = (int16_t)(i % 7 == 0 ? 32767 : (int)(s >> 16) - 32768);
    }
    qk_ref_add_i16_pot(&p, N, a, b, want);
    for (int cap = 0; cap < QK_ISA_COUNT; cap++) {
      if (!qk_isa_supported((qk_isa)cap)) continue;
      qk_set_isa_cap((qk_isa)cap);
      const qk_variant *v = qk_dispatch(QK_OP_ADD_POT, QK_PATH_I16X8);
      cr_assert_not_null(v, "%s", qk_last_error());
      cr_expect(v->op == QK_OP_ADD_POT && v->isa <= (qk_isa)cap, "cap %s dispatched %s", qk_isa_name((qk_isa)cap),
                v->name);
      memset(y, 0, sizeof y);
      cr_assert_eq(qk_add_i16_pot(&p, N, a, b, y), QK_OK);
      cr_expect_arr_eq(y, want, sizeof y, "%s differs at cap %s", v->name, qk_isa_name((qk_isa)cap));
      int16_t in_place[N];
      memcpy(in_place, sh ? b : a, sizeof in_place);
      cr_assert_eq(qk_add_i16_pot(&p, N, sh ? a : in_place, sh ? in_place : b, in_place), QK_OK);
      cr_expect_arr_eq(in_place, want, sizeof y, "%s in place differs at cap %s", v->name, qk_isa_name((qk_isa)cap));
    }
    qk_set_isa_cap(QK_ISA_COUNT);
  }
}
