/* Criterion face of the exactness harness: one parameterized test per registered variant. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <signal.h>
#include <stdlib.h>

#include "check.h"

enum { MAX_VARIANTS = 256 };

/* Registry indices, not pointers: Criterion re-executes each test in a child (STYLE.md). */
ParameterizedTestParameters(exact, variant) {
  static size_t idx[MAX_VARIANTS];
  size_t n = qk_variant_count();
  if (n > MAX_VARIANTS) n = MAX_VARIANTS;
  for (size_t i = 0; i < n; i++) idx[i] = i;
  return cr_make_param_array(size_t, idx, n);
}

static uint64_t test_seed(void) {
  const char *s = getenv("QK_SEED");
  return s ? strtoull(s, NULL, 0) : UINT64_C(20261123);
}

ParameterizedTest(size_t *index, exact, variant, .timeout = 600) {
  const qk_variant *v = qk_variant_at(*index);
  cr_assert_not_null(v);
  const char *why = qk_variant_unavailable(v);
  if (why) cr_skip_test("%s skipped: %s", v->name, why);
  qkc_report r = {0};
  qkc_check_variant(v, test_seed(), NULL, &r);
  cr_log_info("%s: %zu cases, %zu passed (seed %llu)", v->name, r.cases, r.passed,
              (unsigned long long)test_seed());
  cr_assert_gt(r.cases, 0, "%s: no case ran", v->name);
  cr_assert_eq(r.failed, 0, "%s", r.first_failure);
  cr_assert_eq(r.mistrusted, 0, "%s", r.first_mistrusted);
}

Test(exact, something_runnable) {
  size_t runnable = 0;
  for (size_t i = 0; i < qk_variant_count(); i++) runnable += qk_variant_unavailable(qk_variant_at(i)) == NULL;
  cr_assert_gt(runnable, 0, "no variant can run on this CPU: the suite would test nothing");
}

/* A deliberately wrong kernel must be caught: proves the harness can fail. */
static size_t bad_packed_size(size_t n, size_t k) {
  return ((const qk_fc_int8_impl *)qk_variant_find("qk_int8_fc_1x1c1__scalar")->impl)->packed_size(n, k);
}
static void bad_pack(const qk_fc_int8_desc *d, const int8_t *w, const int32_t *bias, void *packed) {
  const qk_fc_int8_impl *ref = qk_variant_find("qk_int8_fc_1x1c1__scalar")->impl;
  ref->pack(d, w, bias, packed);
}
static void bad_run(const qk_fc_int8_desc *d, const void *packed, size_t batch, const int8_t *x, int8_t *y) {
  const qk_fc_int8_impl *ref = qk_variant_find("qk_int8_fc_1x1c1__scalar")->impl;
  qk_fc_int8_desc off = *d;
  off.output_zp = d->output_zp == 127 ? 126 : d->output_zp + 1; /* off by one LSB */
  ref->run(&off, packed, batch, x, y);
}

Test(exact, harness_catches_an_off_by_one_variant) {
  const qk_fc_int8_impl impl = {bad_packed_size, bad_pack, bad_run};
  const qk_variant bad = {"broken", QK_OP_FC, QK_PATH_INT8, QK_ISA_SCALAR, 1, 1, 1, &impl};
  qkc_report r = {0};
  for (size_t i = 0; i < 20; i++) qkc_run_case(&bad, 7, i, &r);
  cr_assert_gt(r.failed, 0, "an off-by-one kernel passed the harness");
}

Test(exact, guard_page_faults_on_overread, .signal = SIGSEGV) {
  volatile unsigned char *p = qkc_guard_alloc(13, 1);
  cr_assert_not_null((void *)p);
  (void)p[13];
}
