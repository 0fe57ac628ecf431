/* Helpers shared by the per-op case generators. */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "op_cases.h"

void qkc_record(qkc_report *r, const qk_variant *v, uint64_t seed, size_t index, bool ok, const char *what,
                const char *why) {
  r->cases++;
  if (ok) {
    r->passed++;
    return;
  }
  r->failed++;
  if (!r->first_failure[0])
    snprintf(r->first_failure, sizeof r->first_failure,
             "%s case %zu (%s): %s; replay: qkbench verify --variant %s --seed %" PRIu64 " --case %zu", v->name, index,
             what, why, v->name, seed, index);
}

void qkc_spread_multiplier(qkc_rng *g, double acc_rms, qk_rounding mode, int32_t *m, int32_t *s) {
  const double jitter = 0.5 + (double)(qkc_next(g) >> 11) / 9007199254740992.0;
  int sh;
  qk_quantize_multiplier(30.0 * jitter / (acc_rms > 1.0 ? acc_rms : 1.0), mode, m, &sh);
  *s = sh < QK_SHIFT_MIN ? QK_SHIFT_MIN : sh > QK_SHIFT_MAX ? QK_SHIFT_MAX : sh;
}

bool qkc_same8(const int8_t *got, const int8_t *want, size_t n, char *why, size_t wlen) {
  for (size_t i = 0; i < n; i++)
    if (got[i] != want[i]) {
      snprintf(why, wlen, "first mismatch at index %zu: expected %d, got %d", i, want[i], got[i]);
      return false;
    }
  return true;
}
