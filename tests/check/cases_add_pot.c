/* Exactness cases for the power-of-two-scale int16 Add (qk/add_i16_pot.h): every length up to
 * 130 (all tails up to 2x the widest vector, 32 lanes, and beyond), then every exponent e in
 * [0, 31] with each input as the shifted one on adversarial values (-32768, +-32767, exact
 * rounding ties k 2^e +- 2^(e-1) and their neighbours, 0 and +-1, which e >= 16 maps to +-1),
 * saturating sums, narrow and one-sided clamps, and random lengths. The kernel has no
 * broadcasting (TFLite's takes equal element counts), so the shapes are flat. */
#include <stdlib.h>
#include <string.h>

#include "op_cases.h"

enum { SWEEP = 130, SHIFTS = 2 * 32 * 2, RANDOM = 30 };

size_t add_pot_case_count(const qk_variant *v) {
  (void)v;
  return SWEEP + SHIFTS + RANDOM;
}

/* An int16 value the rounding of x / 2^e finds hard. */
static int16_t hard_value(qkc_rng *g, int e) {
  switch (qkc_next(g) % 8) {
    case 0: return -32768;
    case 1: return 32767;
    case 2: return -32767;
    case 3:
    case 4:
      if (e >= 1 && e <= 15) { /* an exact tie, or one off it */
        const int32_t k = qkc_range(g, -(32768 >> e), (32767 - (1 << (e - 1))) >> e);
        int32_t v = k * (1 << e) + (1 << (e - 1)) + (qkc_next(g) % 4 == 0 ? qkc_range(g, -1, 1) : 0);
        return (int16_t)(v < -32768 ? -32768 : v > 32767 ? 32767 : v);
      }
      return (int16_t)qkc_range(g, -32768, 32767);
    case 5: return (int16_t)qkc_range(g, -1, 1);
    default: return (int16_t)qkc_range(g, -32768, 32767);
  }
}

bool add_pot_run_case(const qk_variant *v, uint64_t seed, size_t index, qkc_report *r) {
  qkc_rng g = {seed ^ (UINT64_C(0x3C6EF372FE94F82B) * (index + 1))};
  size_t n;
  int e, side, hard;
  if (index < SWEEP) {
    n = index + 1, e = (int)(index % 32), side = (int)(index / 32) & 1, hard = (int)(index & 1);
  } else if (index < SWEEP + SHIFTS) {
    const size_t j = index - SWEEP;
    e = (int)(j % 32), side = (int)(j / 32) % 2, hard = 1;
    n = j < 2 * 32 ? 2 * (size_t)v->nr + 3 : (size_t)qkc_range(&g, 1, 4 * (int32_t)v->nr + 7);
  } else {
    n = (size_t)qkc_range(&g, 1, 1000), e = qkc_range(&g, 0, 31), side = (int)(qkc_next(&g) & 1);
    hard = (int)(qkc_next(&g) & 1);
  }
  if (index >= SWEEP + SHIFTS && qkc_next(&g) % 8 == 0) e = 0; /* both shifts zero: a saturating add */
  int32_t lo = -32768, hi = 32767;
  switch (qkc_next(&g) % 6) {
    case 0: lo = qkc_range(&g, -32768, 0), hi = lo + qkc_range(&g, 0, 3); break; /* narrow */
    case 1: lo = 0; break;                                                        /* ReLU */
    case 2: lo = qkc_range(&g, -2048, 0), hi = qkc_range(&g, 0, 2048); break;     /* ReLU-N style */
    default: break;
  }
  const qk_add_i16_pot_params p = {.input1_shift = side ? -e : 0, .input2_shift = side ? 0 : -e, .act_min = lo,
                                   .act_max = hi};
  char what[200], why[200] = "";
  snprintf(what, sizeof what, "add_pot n=%zu shifts (%d, %d) clamp [%d,%d] %s values", n, p.input1_shift,
           p.input2_shift, lo, hi, hard ? "adversarial" : "random");
  if (qk_add_i16_pot_check(&p) != QK_OK) {
    snprintf(why, sizeof why, "generator produced invalid parameters: %s", qk_last_error());
    qkc_record(r, v, seed, index, false, what, why);
    return false;
  }
  int16_t *a = qkc_guard_alloc(n * 2, 2), *b = qkc_guard_alloc(n * 2, 2), *y = qkc_guard_alloc(n * 2, 2);
  int16_t *yref = malloc(n * 2);
  bool ok = a && b && y && yref;
  if (ok) {
    for (size_t i = 0; i < n; i++) {
      a[i] = hard ? hard_value(&g, side ? e : 0) : (int16_t)qkc_range(&g, -32768, 32767);
      b[i] = hard ? hard_value(&g, side ? 0 : e) : (int16_t)qkc_range(&g, -32768, 32767);
    }
    qk_ref_add_i16_pot(&p, n, a, b, yref);
    ((const qk_add_i16_pot_impl *)v->impl)->run(&p, n, a, b, y);
    ok = memcmp(y, yref, n * 2) == 0;
    for (size_t i = 0; !ok && i < n; i++)
      if (y[i] != yref[i]) {
        snprintf(why, sizeof why, "first mismatch at %zu: %d + %d: expected %d, got %d", i, a[i], b[i], yref[i], y[i]);
        break;
      }
    if (ok && !qkc_guard_intact(y)) ok = false, snprintf(why, sizeof why, "write before the start of the output");
  } else {
    snprintf(why, sizeof why, "out of memory");
  }
  qkc_record(r, v, seed, index, ok, what, why);
  qkc_guard_free(a), qkc_guard_free(b), qkc_guard_free(y), free(yref);
  return ok;
}
