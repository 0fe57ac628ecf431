/* Golden-vector runner (VECTORS.md): every case through the reference and every runnable variant
 * of its op, bit for bit; one line per (file, variant). Malformed input is an error naming the
 * file and line, never a crash and never a silent pass. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "check.h"
#include "vec.h"

void vec_tensor_free(tensor *t) {
  free(t->i);
  free(t->f);
  memset(t, 0, sizeof *t);
}

void vec_error(file_ctx *c, const char *fmt, const char *a, const char *b) {
  fprintf(c->out, "%s:%zu: error: ", c->path, c->line);
  fprintf(c->out, fmt, a, b);
  fputc('\n', c->out);
  c->errors++;
}

row *vec_row(file_ctx *c, const char *name) {
  for (int i = 0; i < c->nrows; i++)
    if (strcmp(c->rows[i].name, name) == 0) return &c->rows[i];
  if (c->nrows == MAX_ROWS) return &c->rows[MAX_ROWS - 1];
  row *r = &c->rows[c->nrows++];
  memset(r, 0, sizeof *r);
  snprintf(r->name, sizeof r->name, "%s", name);
  return r;
}

void vec_result(row *r, bool ok, const char *case_id, const char *detail) {
  r->run++;
  if (ok) {
    r->passed++;
  } else {
    r->failed++;
    if (!r->first[0]) snprintf(r->first, sizeof r->first, "case %s: %s", case_id, detail);
  }
}

/* Reads tensor `name`; dtype must be one of the VECTORS.md types. `bits` wins for floats. */
bool vec_tensor(file_ctx *c, json_object *tensors, const char *name, tensor *t, bool *is_null) {
  memset(t, 0, sizeof *t);
  json_object *o;
  if (is_null) *is_null = false;
  if (!json_object_object_get_ex(tensors, name, &o) || !o) {
    if (is_null) {
      *is_null = true;
      return true;
    }
    vec_error(c, "tensor '%s' is missing%s", name, "");
    return false;
  }
  json_object *dt, *shape, *data, *bits = NULL;
  if (!json_object_object_get_ex(o, "dtype", &dt) || !json_object_object_get_ex(o, "shape", &shape) ||
      !json_object_object_get_ex(o, "data", &data) || !json_object_is_type(shape, json_type_array) ||
      !json_object_is_type(data, json_type_array)) {
    vec_error(c, "tensor '%s' lacks dtype, shape or data%s", name, "");
    return false;
  }
  json_object_object_get_ex(o, "bits", &bits);
  snprintf(t->dtype, sizeof t->dtype, "%s", json_object_get_string(dt));
  const bool is_float = strncmp(t->dtype, "float", 5) == 0;
  if (!is_float && strcmp(t->dtype, "int8") && strcmp(t->dtype, "int16") && strcmp(t->dtype, "int32") &&
      strcmp(t->dtype, "int64")) {
    vec_error(c, "tensor '%s' has unknown dtype '%s'", name, t->dtype);
    return false;
  }
  t->ndim = (int)json_object_array_length(shape);
  if (t->ndim > MAX_DIMS) {
    vec_error(c, "tensor '%s' has too many dimensions%s", name, "");
    return false;
  }
  size_t n = 1;
  for (int d = 0; d < t->ndim; d++) {
    t->shape[d] = json_object_get_int64(json_object_array_get_idx(shape, (size_t)d));
    if (t->shape[d] < 0 || __builtin_mul_overflow(n, (size_t)t->shape[d], &n)) {
      vec_error(c, "tensor '%s' has an invalid shape%s", name, "");
      return false;
    }
  }
  if (json_object_array_length(data) != n || (bits && json_object_array_length(bits) != n)) {
    vec_error(c, "tensor '%s': data length does not match its shape%s", name, "");
    return false;
  }
  t->n = n;
  if (is_float) {
    t->f = malloc((n ? n : 1) * sizeof *t->f);
    if (!t->f) return false;
    const bool f32 = strcmp(t->dtype, "float32") == 0;
    for (size_t k = 0; k < n; k++) {
      if (bits) {
        const int64_t b = json_object_get_int64(json_object_array_get_idx(bits, k));
        if (f32) {
          const uint32_t u = (uint32_t)b;
          float fv;
          memcpy(&fv, &u, sizeof fv);
          t->f[k] = fv;
        } else {
          const uint64_t u = (uint64_t)b;
          memcpy(&t->f[k], &u, sizeof u);
        }
      } else {
        const double dv = json_object_get_double(json_object_array_get_idx(data, k));
        t->f[k] = f32 ? (double)(float)dv : dv;
      }
    }
  } else {
    t->i = malloc((n ? n : 1) * sizeof *t->i);
    if (!t->i) return false;
    for (size_t k = 0; k < n; k++) {
      json_object *e = json_object_array_get_idx(data, k);
      if (!json_object_is_type(e, json_type_int)) {
        vec_error(c, "tensor '%s' holds a non-integer value%s", name, "");
        return false;
      }
      t->i[k] = json_object_get_int64(e);
    }
  }
  return true;
}

bool vec_int(file_ctx *c, json_object *params, const char *key, int64_t lo, int64_t hi, int64_t *v) {
  json_object *o;
  if (!json_object_object_get_ex(params, key, &o) || !json_object_is_type(o, json_type_int)) {
    vec_error(c, "param '%s' is missing or not an integer%s", key, "");
    return false;
  }
  *v = json_object_get_int64(o);
  if (*v < lo || *v > hi) {
    vec_error(c, "param '%s' is outside the supported range%s", key, "");
    return false;
  }
  return true;
}

bool vec_double(file_ctx *c, json_object *params, const char *key, double *v) {
  json_object *o;
  if (!json_object_object_get_ex(params, key, &o) ||
      !(json_object_is_type(o, json_type_double) || json_object_is_type(o, json_type_int))) {
    vec_error(c, "param '%s' is missing or not a number%s", key, "");
    return false;
  }
  *v = json_object_get_double(o);
  return true;
}

/* Reads an int array param, or a scalar broadcast to n entries. */
bool vec_int_array(file_ctx *c, json_object *params, const char *key, size_t n, int32_t *out) {
  json_object *o;
  if (!json_object_object_get_ex(params, key, &o)) {
    vec_error(c, "param '%s' is missing%s", key, "");
    return false;
  }
  if (json_object_is_type(o, json_type_int)) {
    for (size_t k = 0; k < n; k++) out[k] = (int32_t)json_object_get_int64(o);
    return true;
  }
  const size_t len = json_object_is_type(o, json_type_array) ? json_object_array_length(o) : 0;
  if (len != n && len != 1) {
    vec_error(c, "param '%s' has the wrong length%s", key, "");
    return false;
  }
  for (size_t k = 0; k < n; k++) {
    const int64_t v = json_object_get_int64(json_object_array_get_idx(o, len == 1 ? 0 : k));
    if (v < INT32_MIN || v > INT32_MAX) {
      vec_error(c, "param '%s' does not fit int32%s", key, "");
      return false;
    }
    out[k] = (int32_t)v;
  }
  return true;
}

/* Rounding modes a line asks for: bit 0 double, bit 1 single. */
int vec_rounding_modes(file_ctx *c, json_object *line) {
  json_object *o;
  const char *s = json_object_object_get_ex(line, "rounding", &o) ? json_object_get_string(o) : NULL;
  if (s && strcmp(s, "double") == 0) return 1;
  if (s && strcmp(s, "single") == 0) return 2;
  if (s && strcmp(s, "both") == 0) return 3;
  vec_error(c, "rounding '%s' is not double, single or both%s", s ? s : "(absent)", "");
  return 0;
}

static void run_quantize_multiplier(file_ctx *c, json_object *line, json_object *tensors, const char *id) {
  const int modes = vec_rounding_modes(c, line);
  tensor in, m, sh;
  if (modes && vec_tensor(c, tensors, "input", &in, NULL) && vec_tensor(c, tensors, "multiplier", &m, NULL) &&
      vec_tensor(c, tensors, "shift", &sh, NULL)) {
    if (!in.f || m.n != in.n || sh.n != in.n) {
      vec_error(c, "QuantizeMultiplier tensors disagree in length or type%s%s", "", "");
    } else {
      for (int mode = 0; mode < 2; mode++) {
        if (!(modes & (1 << mode))) continue;
        char detail[160] = "";
        bool ok = true;
        for (size_t k = 0; k < in.n && ok; k++) {
          int32_t gm;
          int gs;
          if (qk_quantize_multiplier(in.f[k], (qk_rounding)mode, &gm, &gs) != QK_OK || gm != m.i[k] || gs != sh.i[k]) {
            ok = false;
            snprintf(detail, sizeof detail, "element %zu (real %.17g): expected (%" PRId64 ", %" PRId64 "), got (%d, %d)",
                     k, in.f[k], m.i[k], sh.i[k], gm, gs);
          }
        }
        vec_result(vec_row(c, "qk_quantize_multiplier"), ok, id, detail);
      }
    }
  }
  vec_tensor_free(&in), vec_tensor_free(&m), vec_tensor_free(&sh);
}

static void run_mbqm(file_ctx *c, json_object *line, json_object *tensors, const char *id, bool wide) {
  const int modes = vec_rounding_modes(c, line);
  tensor x, m, sh, out;
  if (modes && vec_tensor(c, tensors, "x", &x, NULL) && vec_tensor(c, tensors, "multiplier", &m, NULL) &&
      vec_tensor(c, tensors, "shift", &sh, NULL) && vec_tensor(c, tensors, "output", &out, NULL)) {
    if (!x.i || m.n != x.n || sh.n != x.n || out.n != x.n) {
      vec_error(c, "MultiplyByQuantizedMultiplier tensors disagree in length or type%s%s", "", "");
    } else {
      for (int mode = 0; mode < 2; mode++) {
        if (!(modes & (1 << mode))) continue;
        char detail[200] = "";
        bool ok = true;
        for (size_t k = 0; k < x.n && ok; k++) {
          const int64_t mk = m.i[k], sk = sh.i[k], xk = x.i[k];
          const bool in_contract = wide ? (mk >= 0 && mk <= INT32_MAX && sk >= -31 && sk <= QK_SHIFT64_MAX &&
                                           xk >= -(INT64_C(1) << 47) && xk < (INT64_C(1) << 47))
                                        : (mk >= 0 && mk <= INT32_MAX && sk >= QK_SHIFT_MIN && sk <= QK_SHIFT_MAX &&
                                           xk >= INT32_MIN && xk <= INT32_MAX);
          if (!in_contract) {
            ok = false;
            snprintf(detail, sizeof detail, "element %zu is outside the documented contract", k);
            break;
          }
          const int32_t got = wide ? qk_mbqm64(xk, (int32_t)mk, (int)sk)
                                   : qk_mbqm32((int32_t)xk, (int32_t)mk, (int)sk, (qk_rounding)mode);
          if (got != out.i[k]) {
            ok = false;
            snprintf(detail, sizeof detail, "element %zu (x=%" PRId64 " m=%" PRId64 " shift=%" PRId64 "): expected %" PRId64 ", got %d",
                     k, xk, mk, sk, out.i[k], got);
          }
        }
        vec_result(vec_row(c, wide ? "qk_mbqm64" : "qk_mbqm32"), ok, id, detail);
      }
    }
  }
  vec_tensor_free(&x), vec_tensor_free(&m), vec_tensor_free(&sh), vec_tensor_free(&out);
}

bool vec_compare_int8(const int8_t *got, const tensor *exp, char *detail, size_t dlen) {
  for (size_t k = 0; k < exp->n; k++)
    if (got[k] != exp->i[k]) {
      snprintf(detail, dlen, "first difference at index %zu: expected %" PRId64 ", got %d", k, exp->i[k], got[k]);
      return false;
    }
  return true;
}

static qk_activation activation_from(const char *s, bool *known) {
  *known = true;
  if (s && strcmp(s, "NONE") == 0) return QK_ACT_NONE;
  if (s && strcmp(s, "RELU") == 0) return QK_ACT_RELU;
  if (s && strcmp(s, "RELU6") == 0) return QK_ACT_RELU6;
  if (s && strcmp(s, "RELU_N1_TO_1") == 0) return QK_ACT_RELU_N1_TO_1;
  *known = false;
  return QK_ACT_NONE;
}


bool vec_activation_matches(json_object *params, float s_out, int32_t zp_out, int64_t amin, int64_t amax,
                            char *detail, size_t dlen) {
  json_object *act, *ovr;
  if (json_object_object_get_ex(params, "activation_override", &ovr) && ovr) return true;
  if (!json_object_object_get_ex(params, "fused_activation", &act)) return true;
  bool known;
  const qk_activation a = activation_from(json_object_get_string(act), &known);
  int32_t lo, hi;
  if (known && qk_activation_range(a, s_out, zp_out, -128, 127, &lo, &hi) == QK_OK && lo == amin && hi == amax)
    return true;
  snprintf(detail, dlen, "activation %s: derived clamp differs from [%" PRId64 ", %" PRId64 "]",
           json_object_get_string(act), amin, amax);
  return false;
}

void vec_each_variant(file_ctx *c, qk_op op, qk_path path, const char *case_id, vec_variant_fn fn, void *ctx) {
  for (size_t vi = 0; vi < qk_variant_count(); vi++) {
    const qk_variant *v = qk_variant_at(vi);
    if (v->op != op || v->path != path) continue;
    row *r = vec_row(c, v->name);
    const char *why = qk_variant_unavailable(v);
    if (why) {
      r->skipped++;
      r->skip_reason = why;
      continue;
    }
    char detail[300] = "";
    const bool ok = fn(v, ctx, detail, sizeof detail);
    vec_result(r, ok, case_id, detail);
  }
}

static void run_line(file_ctx *c, const char *text) {
  enum json_tokener_error jerr;
  json_object *line = json_tokener_parse_verbose(text, &jerr);
  if (!line || !json_object_is_type(line, json_type_object)) {
    vec_error(c, "malformed JSON: %s%s", line ? "not an object" : json_tokener_error_desc(jerr), "");
    json_object_put(line);
    return;
  }
  json_object *op, *path, *params, *tensors, *cid;
  if (!json_object_object_get_ex(line, "op", &op) || !json_object_object_get_ex(line, "path", &path) ||
      !json_object_object_get_ex(line, "params", &params) || !json_object_object_get_ex(line, "tensors", &tensors) ||
      !json_object_is_type(tensors, json_type_object) || !json_object_is_type(params, json_type_object)) {
    vec_error(c, "a case needs op, path, params and tensors%s%s", "", "");
    json_object_put(line);
    return;
  }
  const char *id = json_object_object_get_ex(line, "case_id", &cid) ? json_object_get_string(cid) : "?";
  const char *o = json_object_get_string(op), *p = json_object_get_string(path);
  const int errors_before = c->errors;
  if (strcmp(o, "QuantizeMultiplier") == 0) run_quantize_multiplier(c, line, tensors, id);
  else if (strcmp(o, "MultiplyByQuantizedMultiplier") == 0 && strcmp(p, "int32") == 0) run_mbqm(c, line, tensors, id, false);
  else if (strcmp(o, "MultiplyByQuantizedMultiplier") == 0 && strcmp(p, "int64") == 0) run_mbqm(c, line, tensors, id, true);
  else if (strcmp(o, "fully_connected") == 0 && strcmp(p, "int8") == 0) vec_run_fc_int8(c, line, params, tensors, id);
  else if (strcmp(o, "conv2d") == 0 && strcmp(p, "int8") == 0) vec_run_conv_int8(c, line, params, tensors, id, false);
  else if (strcmp(o, "depthwise_conv2d") == 0 && strcmp(p, "int8") == 0) vec_run_conv_int8(c, line, params, tensors, id, true);
  else if (strcmp(o, "add") == 0 && strcmp(p, "int8") == 0) vec_run_eltwise_int8(c, line, params, tensors, id, false);
  else if (strcmp(o, "mul") == 0 && strcmp(p, "int8") == 0) vec_run_eltwise_int8(c, line, params, tensors, id, true);
  else if (strcmp(o, "average_pool2d") == 0 && strcmp(p, "int8") == 0) vec_run_pool_int8(c, params, tensors, id, false);
  else if (strcmp(o, "max_pool2d") == 0 && strcmp(p, "int8") == 0) vec_run_pool_int8(c, params, tensors, id, true);
  else if (strcmp(o, "fully_connected") == 0 && strcmp(p, "int16x8") == 0) vec_run_fc_i16x8(c, params, tensors, id);
  else if (strcmp(o, "conv2d") == 0 && strcmp(p, "int16x8") == 0) vec_run_conv_i16x8(c, params, tensors, id, false);
  else if (strcmp(o, "depthwise_conv2d") == 0 && strcmp(p, "int16x8") == 0) vec_run_conv_i16x8(c, params, tensors, id, true);
  else if (strcmp(o, "add") == 0 && strcmp(p, "int16") == 0) vec_run_add_i16(c, line, params, tensors, id);
  else if ((strcmp(o, "quantize") == 0 && (strcmp(p, "float32_to_int8") == 0 || strcmp(p, "float32_to_int16") == 0)) ||
           (strcmp(o, "dequantize") == 0 && (strcmp(p, "int8_to_float32") == 0 || strcmp(p, "int16_to_float32") == 0)) ||
           (strcmp(o, "requantize") == 0 && strcmp(p, "int8_to_int8") == 0))
    vec_run_convert(c, line, params, tensors, id, o, p);
  else vec_error(c, "op '%s' with path '%s' is not implemented", o, p);
  if (c->errors == errors_before) c->cases++;
  json_object_put(line);
}

int qkc_run_vector_file(const char *path, FILE *out) {
  file_ctx c = {.path = path, .out = out};
  FILE *fp = fopen(path, "r");
  if (!fp) {
    fprintf(out, "%s: error: cannot open: %s\n", path, strerror(errno));
    return 1;
  }
  char *buf = NULL;
  size_t cap = 0;
  ssize_t len;
  while ((len = getline(&buf, &cap, fp)) >= 0) {
    c.line++;
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) buf[--len] = '\0';
    if (len == 0) continue;
    run_line(&c, buf);
  }
  free(buf);
  fclose(fp);
  int failures = c.errors;
  if (c.cases == 0) {
    fprintf(out, "%s: error: no case ran\n", path);
    failures++;
  }
  for (int i = 0; i < c.nrows; i++) {
    const row *r = &c.rows[i];
    fprintf(out, "%s %-36s %4zu run %4zu passed %3zu failed %3zu skipped%s%s%s\n", path, r->name, r->run,
            r->passed, r->failed, r->skipped, r->skip_reason ? " (" : "", r->skip_reason ? r->skip_reason : "",
            r->skip_reason ? ")" : "");
    if (r->failed) fprintf(out, "  FAIL %s: %s\n", r->name, r->first);
    failures += (int)r->failed;
  }
  return failures;
}

bool vec_shape4(const tensor *t, size_t s[4]) {
  if (t->ndim > 4) return false;
  for (int i = 0; i < 4; i++) s[i] = 1;
  for (int i = 0; i < t->ndim; i++) s[4 - t->ndim + i] = (size_t)t->shape[i];
  return true;
}
