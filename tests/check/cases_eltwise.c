/* Exactness cases for Add and Mul: flat lengths across every tail up to 2x64 bytes, then
 * broadcasts (scalar, per-channel, per-pixel, mixed, on either side), zero points at the ends,
 * scale ratios from equal to 1:1000, narrow clamps, both roundings. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "op_cases.h"

enum { SWEEP = 130, BCAST = 40, RANDOM = 30 };

size_t eltwise_case_count(const qk_variant *v) {
  (void)v;
  return SWEEP + BCAST + RANDOM;
}

static float log_uniform(qkc_rng *g, float lo, float hi) {
  const double u = (double)(qkc_next(g) >> 11) / 9007199254740992.0;
  return (float)(lo * pow(hi / lo, u));
}

bool eltwise_run_case(const qk_variant *v, uint64_t seed, size_t index, qkc_report *r) {
  qkc_rng g = {seed ^ (UINT64_C(0xBB67AE8584CAA73B) * (index + 1))};
  const bool mul = v->op == QK_OP_MUL, wide = v->path == QK_PATH_I16X8;
  const size_t es = wide ? 2 : 1;
  size_t s1[4] = {1, 1, 1, 1}, s2[4] = {1, 1, 1, 1}, so[4];
  if (index < SWEEP) {
    s1[3] = s2[3] = index + 1;
  } else if (index < SWEEP + BCAST) {
    const size_t H = (size_t)qkc_range(&g, 1, 5), W = (size_t)qkc_range(&g, 1, 5), C = (size_t)qkc_range(&g, 1, 70);
    size_t full[4] = {1, H, W, C};
    memcpy(s1, full, sizeof full);
    switch ((index - SWEEP) % 5) {
      case 0: break;                          /* scalar */
      case 1: s2[3] = C; break;               /* per channel */
      case 2: s2[1] = H, s2[2] = W; break;    /* per pixel */
      case 3: s2[1] = H, s2[3] = C; s1[1] = 1; break; /* mixed: both sides broadcast */
      case 4: s2[0] = 2; s2[3] = C; break;    /* batch from the other side */
    }
    if (qkc_next(&g) & 1) { /* broadcast on either input */
      size_t t[4];
      memcpy(t, s1, sizeof t), memcpy(s1, s2, sizeof t), memcpy(s2, t, sizeof t);
    }
  } else {
    for (int i = 0; i < 4; i++) s1[i] = s2[i] = (size_t)qkc_range(&g, 1, i == 3 ? 40 : 4);
    for (int i = 0; i < 4; i++)
      if (qkc_next(&g) % 3 == 0) (qkc_next(&g) & 1 ? s1 : s2)[i] = 1;
  }
  qk_broadcast_shape(s1, s2, so);
  const size_t n1 = s1[0] * s1[1] * s1[2] * s1[3], n2 = s2[0] * s2[1] * s2[2] * s2[3], no = so[0] * so[1] * so[2] * so[3];
  const int style = (int)(qkc_next(&g) % 6);
  const qk_rounding rounding = (qk_rounding)(qkc_next(&g) & 1);
  const int32_t tmin = wide ? -32768 : -128, tmax = wide ? 32767 : 127;
  /* int16 models use zero point 0; the general path still takes others, kept small here. */
  int32_t z1 = wide ? 0 : qkc_range(&g, -128, 127), z2 = wide ? 0 : qkc_range(&g, -128, 127),
          zo = wide ? 0 : qkc_range(&g, -64, 63);
  if (wide && style == 2) z1 = qkc_range(&g, -300, 300), z2 = qkc_range(&g, -300, 300), zo = qkc_range(&g, -300, 300);
  if (style == 4) z1 = tmin, z2 = tmax, zo = qkc_next(&g) & 1 ? tmin : tmax;
  int32_t lo = tmin, hi = tmax;
  if (style == 5) lo = qkc_range(&g, tmin, 0), hi = lo + qkc_range(&g, 0, 2);
  const float sc1 = log_uniform(&g, 1e-3f, 1.0f), sc2 = style == 3 ? sc1 : sc1 * log_uniform(&g, 1e-3f, 1e3f);
  const float sco = (mul ? sc1 * sc2 * 300.0f : (sc1 > sc2 ? sc1 : sc2) * 2.0f) * log_uniform(&g, 0.05f, 2.0f);
  char what[200], why[200] = "";
  snprintf(what, sizeof what, "%s [%zu,%zu,%zu,%zu] x [%zu,%zu,%zu,%zu], scales %g %g -> %g, zp %d %d -> %d, clamp [%d,%d], %s",
           mul ? "mul" : "add", s1[0], s1[1], s1[2], s1[3], s2[0], s2[1], s2[2], s2[3], sc1, sc2, sco, z1, z2, zo, lo, hi,
           rounding ? "single" : "double");
  qk_add_int8_params ap = {.input1_zp = z1, .input2_zp = z2, .output_zp = zo, .act_min = lo, .act_max = hi};
  qk_mul_int8_params mp = {.input1_zp = z1, .input2_zp = z2, .output_zp = zo, .act_min = lo, .act_max = hi};
  const qk_status st = mul ? qk_mul_derive(sc1, sc2, sco, rounding, &mp)
                            : qk_add_derive(sc1, sc2, sco, wide ? 15 : 20, rounding, &ap);
  const qk_status ck = mul ? qk_mul_int8_check(&mp) : wide ? qk_add_i16_check(&ap) : qk_add_int8_check(&ap);
  if (st != QK_OK || ck != QK_OK) {
    snprintf(why, sizeof why, "generator produced invalid parameters: %s", qk_last_error());
    qkc_record(r, v, seed, index, false, what, why);
    return false;
  }
  void *a = qkc_guard_alloc(n1 * es, es), *b = qkc_guard_alloc(n2 * es, es), *y = qkc_guard_alloc(no * es, es);
  void *yref = malloc(no * es);
  bool ok = a && b && y && yref;
  if (ok && wide) {
    for (size_t i = 0; i < n1; i++) ((int16_t *)a)[i] = (int16_t)qkc_range(&g, -32768, 32767);
    for (size_t i = 0; i < n2; i++) ((int16_t *)b)[i] = (int16_t)qkc_range(&g, -32768, 32767);
    qk_ref_add_i16(&ap, s1, a, s2, b, yref);
    ((const qk_add_i16_impl *)v->impl)->run(&ap, s1, a, s2, b, y);
    ok = memcmp(y, yref, no * es) == 0;
    if (!ok) snprintf(why, sizeof why, "output differs from the reference");
    if (ok && !qkc_guard_intact(y)) ok = false, snprintf(why, sizeof why, "write before the start of the output");
  } else if (ok) {
    for (size_t i = 0; i < n1; i++) ((int8_t *)a)[i] = (int8_t)qkc_range(&g, -128, 127);
    for (size_t i = 0; i < n2; i++) ((int8_t *)b)[i] = (int8_t)qkc_range(&g, -128, 127);
    if (mul) {
      qk_ref_mul_int8(&mp, s1, a, s2, b, yref);
      ((const qk_mul_int8_impl *)v->impl)->run(&mp, s1, a, s2, b, y);
    } else {
      qk_ref_add_int8(&ap, s1, a, s2, b, yref);
      ((const qk_add_int8_impl *)v->impl)->run(&ap, s1, a, s2, b, y);
    }
    ok = qkc_same8(y, yref, no, why, sizeof why);
    if (ok && !qkc_guard_intact(y)) ok = false, snprintf(why, sizeof why, "write before the start of the output");
  } else {
    snprintf(why, sizeof why, "out of memory");
  }
  qkc_record(r, v, seed, index, ok, what, why);
  qkc_guard_free(a), qkc_guard_free(b), qkc_guard_free(y), free(yref);
  return ok;
}
