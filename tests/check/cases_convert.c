/* Exactness cases for quantize / dequantize / requantize: lengths across every tail up to 2x64,
 * int8 and uint8, exact ties at power-of-two scales (round half away, not to even), +-0, tiny,
 * saturating, infinite and NaN inputs, equal-scale int8<->uint8 (the xor fast path), both roundings. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "op_cases.h"

enum { SWEEP = 130, RANDOM = 50 };

size_t convert_case_count(const qk_variant *v) {
  (void)v;
  return SWEEP + RANDOM;
}

static float draw_float(qkc_rng *g, float scale) {
  switch (qkc_next(g) % 10) {
    case 0: return ((float)qkc_range(g, -300, 300) + 0.5f) * scale; /* exact tie when scale is 2^k */
    case 1: return qkc_next(g) & 1 ? 0.0f : -0.0f;
    case 2: return (float)qkc_range(g, -5, 5) * 1e-30f;
    case 3: return (qkc_next(g) & 1 ? 1.0f : -1.0f) * 1e30f;
    case 4: return (float[]){INFINITY, -INFINITY, NAN}[qkc_next(g) % 3];
    default: return (float)qkc_range(g, -(1 << 20), 1 << 20) / (float)(1 << 20) * 200.0f * scale;
  }
}

bool convert_run_case(const qk_variant *v, uint64_t seed, size_t index, qkc_report *r) {
  qkc_rng g = {seed ^ (UINT64_C(0xA54FF53A5F1D36F1) * (index + 1))};
  const size_t n = index < SWEEP ? index + 1 : (size_t)qkc_range(&g, 1, 2000);
  const bool wide = v->path == QK_PATH_I16X8;
  const size_t es = wide ? 2 : 1;
  const qk_qtype t = wide ? QK_Q_INT16 : qkc_next(&g) & 1 ? QK_Q_UINT8 : QK_Q_INT8;
  const qk_qtype t2 = wide ? QK_Q_INT16 : qkc_next(&g) & 1 ? QK_Q_UINT8 : QK_Q_INT8;
  const int32_t lo = wide ? -32768 : t == QK_Q_UINT8 ? 0 : -128, lo2 = wide ? -32768 : t2 == QK_Q_UINT8 ? 0 : -128;
  const int32_t span = wide ? 65535 : 255;
  const float scale = qkc_next(&g) & 1 ? ldexpf(1.0f, qkc_range(&g, -12, 2)) : (float)qkc_range(&g, 1, 1 << 20) * 1e-7f;
  const int32_t zp = wide && qkc_next(&g) % 4 ? 0 : qkc_range(&g, lo, lo + span);
  char what[160], why[200] = "";
  bool ok = false;
  void *x = NULL, *y = NULL, *yref = NULL;
  if (v->op == QK_OP_QUANTIZE) {
    snprintf(what, sizeof what, "quantize n=%zu to type %d scale %g zp %d", n, (int)t, scale, zp);
    float *xf = x = qkc_guard_alloc(n * sizeof(float), 4);
    y = qkc_guard_alloc(n * es, es), yref = malloc(n * es);
    if (x && y && yref) {
      for (size_t i = 0; i < n; i++) xf[i] = draw_float(&g, wide ? scale * 256.0f : scale);
      qk_ref_quantize(xf, n, scale, zp, t, yref);
      ((const qk_quantize_impl *)v->impl)->run(xf, n, scale, zp, t, y);
      ok = memcmp(y, yref, n * es) == 0;
    }
  } else if (v->op == QK_OP_DEQUANTIZE) {
    snprintf(what, sizeof what, "dequantize n=%zu from type %d scale %g zp %d", n, (int)t, scale, zp);
    x = qkc_guard_alloc(n * es, es), y = qkc_guard_alloc(n * sizeof(float), 4), yref = malloc(n * sizeof(float));
    if (x && y && yref) {
      for (size_t i = 0; i < n * es; i++) ((uint8_t *)x)[i] = (uint8_t)qkc_range(&g, 0, 255);
      qk_ref_dequantize(x, n, t, scale, zp, yref);
      ((const qk_dequantize_impl *)v->impl)->run(x, n, t, scale, zp, y);
      ok = memcmp(y, yref, n * sizeof(float)) == 0; /* bit for bit */
    }
  } else {
    qk_requant_params p = {.in_type = t, .out_type = t2, .input_zp = zp, .output_zp = qkc_range(&g, lo2, lo2 + span)};
    const int style = (int)(qkc_next(&g) % 4);
    float s_out = scale * (float)qkc_range(&g, 1, 4000) / 1000.0f;
    if (style == 0 && !wide) s_out = scale, p.output_zp = zp + (t2 == t ? 0 : t2 == QK_Q_UINT8 ? 128 : -128);
    qk_requant_derive(scale, s_out, (qk_rounding)(qkc_next(&g) & 1), &p);
    snprintf(what, sizeof what, "requantize n=%zu %s->%s zp %d->%d m %d shift %d %s", n, t ? "uint8" : "int8",
             t2 ? "uint8" : "int8", p.input_zp, p.output_zp, p.multiplier, p.shift, p.rounding ? "single" : "double");
    if (qk_requant_check(&p) != QK_OK) {
      snprintf(why, sizeof why, "generator produced invalid parameters: %s", qk_last_error());
      qkc_record(r, v, seed, index, false, what, why);
      return false;
    }
    x = qkc_guard_alloc(n * es, es), y = qkc_guard_alloc(n * es, es), yref = malloc(n * es);
    if (x && y && yref) {
      for (size_t i = 0; i < n * es; i++) ((uint8_t *)x)[i] = (uint8_t)qkc_range(&g, 0, 255);
      qk_ref_requantize(&p, x, n, yref);
      ((const qk_requantize_impl *)v->impl)->run(&p, x, n, y);
      ok = memcmp(y, yref, n * es) == 0;
    }
  }
  if (!x || !y || !yref) snprintf(why, sizeof why, "out of memory");
  else if (!ok) snprintf(why, sizeof why, "output differs from the reference");
  else if (!qkc_guard_intact(y)) ok = false, snprintf(why, sizeof why, "write before the start of the output");
  qkc_record(r, v, seed, index, ok, what, why);
  qkc_guard_free(x), qkc_guard_free(y), free(yref);
  return ok;
}
