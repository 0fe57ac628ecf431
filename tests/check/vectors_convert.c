/* Golden vectors: quantize, dequantize and requantize at model boundaries. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "vec.h"

static bool qtype_of(const char *dtype, qk_qtype *t) {
  if (strcmp(dtype, "int8") == 0) *t = QK_Q_INT8;
  else if (strcmp(dtype, "uint8") == 0) *t = QK_Q_UINT8;
  else return false;
  return true;
}

static bool pack8(const tensor *t, qk_qtype type, void *buf) {
  for (size_t k = 0; k < t->n; k++) {
    if (type == QK_Q_UINT8) ((uint8_t *)buf)[k] = (uint8_t)t->i[k];
    else ((int8_t *)buf)[k] = (int8_t)t->i[k];
  }
  return true;
}

static bool compare8(const void *got, qk_qtype type, const tensor *exp, char *detail, size_t dlen) {
  for (size_t k = 0; k < exp->n; k++) {
    const int64_t g = type == QK_Q_UINT8 ? ((const uint8_t *)got)[k] : ((const int8_t *)got)[k];
    if (g != exp->i[k]) {
      snprintf(detail, dlen, "first difference at index %zu: expected %" PRId64 ", got %" PRId64, k, exp->i[k], g);
      return false;
    }
  }
  return true;
}

void vec_run_convert(file_ctx *c, json_object *line, json_object *params, json_object *tensors, const char *id,
                     const char *op, const char *path) {
  tensor in = {0}, out = {0};
  void *y = NULL, *x = NULL;
  if (!vec_tensor(c, tensors, "input", &in, NULL) || !vec_tensor(c, tensors, "output", &out, NULL)) goto done;
  if (in.n != out.n || in.n == 0) {
    vec_error(c, "%s: input and output sizes differ or are empty%s", op, "");
    goto done;
  }
  char detail[300] = "";
  bool ok;
  qk_qtype t;
  if (strcmp(op, "quantize") == 0) {
    double s;
    int64_t zp;
    if (strcmp(in.dtype, "float32") || !qtype_of(out.dtype, &t)) {
      vec_error(c, "quantize path '%s' is not implemented%s", path, "");
      goto done;
    }
    if (!vec_double(c, params, "output_scale", &s) || !vec_int(c, params, "output_zero_point", -128, 255, &zp)) goto done;
    float *xf = malloc(in.n * sizeof *xf);
    y = malloc(out.n);
    if (!xf || !y) { free(xf); goto done; }
    for (size_t k = 0; k < in.n; k++) xf[k] = (float)in.f[k];
    if (qk_ref_quantize(xf, in.n, (float)s, (int32_t)zp, t, y) != QK_OK) {
      free(xf);
      vec_error(c, "unsupported parameters: %s%s", qk_last_error(), "");
      goto done;
    }
    free(xf);
    ok = compare8(y, t, &out, detail, sizeof detail);
  } else if (strcmp(op, "dequantize") == 0) {
    double s;
    int64_t zp;
    if (!qtype_of(in.dtype, &t) || strcmp(out.dtype, "float32")) {
      vec_error(c, "dequantize path '%s' is not implemented%s", path, "");
      goto done;
    }
    if (!vec_double(c, params, "input_scale", &s) || !vec_int(c, params, "input_zero_point", -128, 255, &zp)) goto done;
    x = malloc(in.n), y = malloc(out.n * sizeof(float));
    if (!x || !y) goto done;
    pack8(&in, t, x);
    if (qk_ref_dequantize(x, in.n, t, (float)s, (int32_t)zp, y) != QK_OK) {
      vec_error(c, "unsupported parameters: %s%s", qk_last_error(), "");
      goto done;
    }
    ok = true;
    for (size_t k = 0; k < out.n && ok; k++) {
      const float want = (float)out.f[k], got = ((float *)y)[k];
      if (memcmp(&want, &got, sizeof want) != 0) {
        ok = false;
        snprintf(detail, sizeof detail, "index %zu: expected %.9g, got %.9g (bitwise)", k, want, got);
      }
    }
  } else {
    const int modes = vec_rounding_modes(c, line);
    qk_qtype to;
    int64_t zi, zo, m, sh;
    double si, so;
    if (!modes) goto done;
    if (!qtype_of(in.dtype, &t) || !qtype_of(out.dtype, &to)) {
      vec_error(c, "requantize path '%s' is not implemented%s", path, "");
      goto done;
    }
    if (!vec_int(c, params, "input_zero_point", -128, 255, &zi) || !vec_int(c, params, "output_zero_point", -128, 255, &zo) ||
        !vec_int(c, params, "multiplier", 0, INT32_MAX, &m) || !vec_int(c, params, "shift", -31, 30, &sh) ||
        !vec_double(c, params, "input_scale", &si) || !vec_double(c, params, "output_scale", &so))
      goto done;
    x = malloc(in.n), y = malloc(out.n);
    if (!x || !y) goto done;
    pack8(&in, t, x);
    ok = true;
    for (int mode = 0; mode < 2; mode++) {
      if (!(modes & (1 << mode))) continue;
      qk_requant_params p = {.in_type = t, .out_type = to, .input_zp = (int32_t)zi, .output_zp = (int32_t)zo,
                             .multiplier = (int32_t)m, .shift = (int32_t)sh, .rounding = (qk_rounding)mode};
      qk_requant_params dp = p;
      if (qk_requant_check(&p) != QK_OK) {
        vec_error(c, "unsupported parameters: %s%s", qk_last_error(), "");
        goto done;
      }
      bool pok = qk_requant_derive((float)si, (float)so, (qk_rounding)mode, &dp) == QK_OK && dp.multiplier == p.multiplier &&
                 dp.shift == p.shift;
      if (!pok) snprintf(detail, sizeof detail, "derived (%d, %d), file has (%d, %d)", dp.multiplier, dp.shift, p.multiplier, p.shift);
      vec_result(vec_row(c, "params (multiplier)"), pok, id, detail);
      qk_ref_requantize(&p, x, in.n, y);
      ok = compare8(y, to, &out, detail, sizeof detail);
      vec_result(vec_row(c, "reference"), ok, id, detail);
    }
    goto done;
  }
  vec_result(vec_row(c, "reference"), ok, id, detail);
done:
  free(x), free(y);
  vec_tensor_free(&in), vec_tensor_free(&out);
}
