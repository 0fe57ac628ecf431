/* Golden-vector runner (VECTORS.md): every case through the reference and every runnable variant
 * of its op, bit for bit; one line per (file, variant). Malformed input is an error naming the
 * file and line, never a crash and never a silent pass. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "check.h"

enum { MAX_ROWS = 32, MAX_DIMS = 8 };

typedef struct row {
  char name[80];
  size_t run, passed, failed, skipped;
  const char *skip_reason;
  char first[400];
} row;

typedef struct file_ctx {
  const char *path;
  size_t line;
  row rows[MAX_ROWS];
  int nrows;
  int errors;
  size_t cases;
  FILE *out;
} file_ctx;

typedef struct tensor {
  char dtype[12];
  int ndim;
  int64_t shape[MAX_DIMS];
  size_t n;
  int64_t *i; /* integer tensors */
  double *f;  /* float tensors (float32 values widened exactly) */
} tensor;

static void tensor_free(tensor *t) {
  free(t->i);
  free(t->f);
  memset(t, 0, sizeof *t);
}

static void error_at(file_ctx *c, const char *fmt, const char *a, const char *b) {
  fprintf(c->out, "%s:%zu: error: ", c->path, c->line);
  fprintf(c->out, fmt, a, b);
  fputc('\n', c->out);
  c->errors++;
}

static row *row_get(file_ctx *c, const char *name) {
  for (int i = 0; i < c->nrows; i++)
    if (strcmp(c->rows[i].name, name) == 0) return &c->rows[i];
  if (c->nrows == MAX_ROWS) return &c->rows[MAX_ROWS - 1];
  row *r = &c->rows[c->nrows++];
  memset(r, 0, sizeof *r);
  snprintf(r->name, sizeof r->name, "%s", name);
  return r;
}

static void row_result(row *r, bool ok, const char *case_id, const char *detail) {
  r->run++;
  if (ok) {
    r->passed++;
  } else {
    r->failed++;
    if (!r->first[0]) snprintf(r->first, sizeof r->first, "case %s: %s", case_id, detail);
  }
}

/* Reads tensor `name`; dtype must be one of the VECTORS.md types. `bits` wins for floats. */
static bool read_tensor(file_ctx *c, json_object *tensors, const char *name, tensor *t, bool *is_null) {
  memset(t, 0, sizeof *t);
  json_object *o;
  if (is_null) *is_null = false;
  if (!json_object_object_get_ex(tensors, name, &o) || !o) {
    if (is_null) {
      *is_null = true;
      return true;
    }
    error_at(c, "tensor '%s' is missing%s", name, "");
    return false;
  }
  json_object *dt, *shape, *data, *bits = NULL;
  if (!json_object_object_get_ex(o, "dtype", &dt) || !json_object_object_get_ex(o, "shape", &shape) ||
      !json_object_object_get_ex(o, "data", &data) || !json_object_is_type(shape, json_type_array) ||
      !json_object_is_type(data, json_type_array)) {
    error_at(c, "tensor '%s' lacks dtype, shape or data%s", name, "");
    return false;
  }
  json_object_object_get_ex(o, "bits", &bits);
  snprintf(t->dtype, sizeof t->dtype, "%s", json_object_get_string(dt));
  const bool is_float = strncmp(t->dtype, "float", 5) == 0;
  if (!is_float && strcmp(t->dtype, "int8") && strcmp(t->dtype, "int16") && strcmp(t->dtype, "int32") &&
      strcmp(t->dtype, "int64")) {
    error_at(c, "tensor '%s' has unknown dtype '%s'", name, t->dtype);
    return false;
  }
  t->ndim = (int)json_object_array_length(shape);
  if (t->ndim > MAX_DIMS) {
    error_at(c, "tensor '%s' has too many dimensions%s", name, "");
    return false;
  }
  size_t n = 1;
  for (int d = 0; d < t->ndim; d++) {
    t->shape[d] = json_object_get_int64(json_object_array_get_idx(shape, (size_t)d));
    if (t->shape[d] < 0 || __builtin_mul_overflow(n, (size_t)t->shape[d], &n)) {
      error_at(c, "tensor '%s' has an invalid shape%s", name, "");
      return false;
    }
  }
  if (json_object_array_length(data) != n || (bits && json_object_array_length(bits) != n)) {
    error_at(c, "tensor '%s': data length does not match its shape%s", name, "");
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
        error_at(c, "tensor '%s' holds a non-integer value%s", name, "");
        return false;
      }
      t->i[k] = json_object_get_int64(e);
    }
  }
  return true;
}

static bool param_int(file_ctx *c, json_object *params, const char *key, int64_t lo, int64_t hi, int64_t *v) {
  json_object *o;
  if (!json_object_object_get_ex(params, key, &o) || !json_object_is_type(o, json_type_int)) {
    error_at(c, "param '%s' is missing or not an integer%s", key, "");
    return false;
  }
  *v = json_object_get_int64(o);
  if (*v < lo || *v > hi) {
    error_at(c, "param '%s' is outside the supported range%s", key, "");
    return false;
  }
  return true;
}

static bool param_double(file_ctx *c, json_object *params, const char *key, double *v) {
  json_object *o;
  if (!json_object_object_get_ex(params, key, &o) ||
      !(json_object_is_type(o, json_type_double) || json_object_is_type(o, json_type_int))) {
    error_at(c, "param '%s' is missing or not a number%s", key, "");
    return false;
  }
  *v = json_object_get_double(o);
  return true;
}

/* Reads an int array param, or a scalar broadcast to n entries. */
static bool param_int_array(file_ctx *c, json_object *params, const char *key, size_t n, int32_t *out) {
  json_object *o;
  if (!json_object_object_get_ex(params, key, &o)) {
    error_at(c, "param '%s' is missing%s", key, "");
    return false;
  }
  if (json_object_is_type(o, json_type_int)) {
    for (size_t k = 0; k < n; k++) out[k] = (int32_t)json_object_get_int64(o);
    return true;
  }
  const size_t len = json_object_is_type(o, json_type_array) ? json_object_array_length(o) : 0;
  if (len != n && len != 1) {
    error_at(c, "param '%s' has the wrong length%s", key, "");
    return false;
  }
  for (size_t k = 0; k < n; k++) {
    const int64_t v = json_object_get_int64(json_object_array_get_idx(o, len == 1 ? 0 : k));
    if (v < INT32_MIN || v > INT32_MAX) {
      error_at(c, "param '%s' does not fit int32%s", key, "");
      return false;
    }
    out[k] = (int32_t)v;
  }
  return true;
}

/* Rounding modes a line asks for: bit 0 double, bit 1 single. */
static int rounding_modes(file_ctx *c, json_object *line) {
  json_object *o;
  const char *s = json_object_object_get_ex(line, "rounding", &o) ? json_object_get_string(o) : NULL;
  if (s && strcmp(s, "double") == 0) return 1;
  if (s && strcmp(s, "single") == 0) return 2;
  if (s && strcmp(s, "both") == 0) return 3;
  error_at(c, "rounding '%s' is not double, single or both%s", s ? s : "(absent)", "");
  return 0;
}

static void run_quantize_multiplier(file_ctx *c, json_object *line, json_object *tensors, const char *id) {
  const int modes = rounding_modes(c, line);
  tensor in, m, sh;
  if (modes && read_tensor(c, tensors, "input", &in, NULL) && read_tensor(c, tensors, "multiplier", &m, NULL) &&
      read_tensor(c, tensors, "shift", &sh, NULL)) {
    if (!in.f || m.n != in.n || sh.n != in.n) {
      error_at(c, "QuantizeMultiplier tensors disagree in length or type%s%s", "", "");
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
        row_result(row_get(c, "qk_quantize_multiplier"), ok, id, detail);
      }
    }
  }
  tensor_free(&in), tensor_free(&m), tensor_free(&sh);
}

static void run_mbqm(file_ctx *c, json_object *line, json_object *tensors, const char *id, bool wide) {
  const int modes = rounding_modes(c, line);
  tensor x, m, sh, out;
  if (modes && read_tensor(c, tensors, "x", &x, NULL) && read_tensor(c, tensors, "multiplier", &m, NULL) &&
      read_tensor(c, tensors, "shift", &sh, NULL) && read_tensor(c, tensors, "output", &out, NULL)) {
    if (!x.i || m.n != x.n || sh.n != x.n || out.n != x.n) {
      error_at(c, "MultiplyByQuantizedMultiplier tensors disagree in length or type%s%s", "", "");
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
        row_result(row_get(c, wide ? "qk_mbqm64" : "qk_mbqm32"), ok, id, detail);
      }
    }
  }
  tensor_free(&x), tensor_free(&m), tensor_free(&sh), tensor_free(&out);
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

static bool compare_int8(const int8_t *got, const tensor *exp, char *detail, size_t dlen) {
  for (size_t k = 0; k < exp->n; k++)
    if (got[k] != exp->i[k]) {
      snprintf(detail, dlen, "first difference at index %zu: expected %" PRId64 ", got %d", k, exp->i[k], got[k]);
      return false;
    }
  return true;
}

static void run_fc_int8(file_ctx *c, json_object *line, json_object *params, json_object *tensors, const char *id) {
  const int modes = rounding_modes(c, line);
  tensor in, f, b, out;
  bool no_bias = false;
  int32_t *mult = NULL, *shift = NULL, *bias = NULL;
  int8_t *w = NULL, *x = NULL, *yref = NULL;
  if (!modes || !read_tensor(c, tensors, "input", &in, NULL) || !read_tensor(c, tensors, "filter", &f, NULL) ||
      !read_tensor(c, tensors, "bias", &b, &no_bias) || !read_tensor(c, tensors, "output", &out, NULL))
    goto done;
  if (strcmp(in.dtype, "int8") || strcmp(f.dtype, "int8") || strcmp(out.dtype, "int8") ||
      (!no_bias && strcmp(b.dtype, "int32")) || f.ndim != 2) {
    error_at(c, "int8 fully_connected wants int8 input/filter/output, int32 bias and a 2-D filter%s%s", "", "");
    goto done;
  }
  const size_t O = (size_t)f.shape[0], D = (size_t)f.shape[1];
  if (O == 0 || D == 0 || out.n % O || in.n != out.n / O * D || (!no_bias && b.n != O)) {
    error_at(c, "fully_connected tensor shapes disagree%s%s", "", "");
    goto done;
  }
  const size_t B = out.n / O;
  int64_t zp_in, zp_out, amin, amax;
  double s_in, s_out;
  if (!param_int(c, params, "input_zero_point", -128, 127, &zp_in) ||
      !param_int(c, params, "output_zero_point", -128, 127, &zp_out) ||
      !param_int(c, params, "activation_min", -128, 127, &amin) ||
      !param_int(c, params, "activation_max", -128, 127, &amax) || !param_double(c, params, "input_scale", &s_in) ||
      !param_double(c, params, "output_scale", &s_out))
    goto done;
  mult = malloc(O * sizeof *mult), shift = malloc(O * sizeof *shift);
  w = malloc(O * D), x = malloc(in.n), yref = malloc(out.n);
  if (!no_bias) bias = malloc(O * sizeof *bias);
  if (!mult || !shift || !w || !x || !yref || (!no_bias && !bias)) goto done;
  if (!param_int_array(c, params, "output_multiplier", O, mult) || !param_int_array(c, params, "output_shift", O, shift))
    goto done;
  for (size_t k = 0; k < O * D; k++) w[k] = (int8_t)f.i[k];
  for (size_t k = 0; k < in.n; k++) x[k] = (int8_t)in.i[k];
  for (size_t k = 0; !no_bias && k < O; k++) bias[k] = (int32_t)b.i[k];
  json_object *pc, *fs, *fz, *act, *ovr;
  const bool per_channel = json_object_object_get_ex(params, "per_channel", &pc) && json_object_get_boolean(pc);
  if (json_object_object_get_ex(params, "filter_zero_point", &fz) && json_object_get_int64(fz) != 0) {
    error_at(c, "filter_zero_point must be 0 (symmetric weights)%s%s", "", "");
    goto done;
  }
  if (!json_object_object_get_ex(params, "filter_scales", &fs) || !json_object_is_type(fs, json_type_array) ||
      json_object_array_length(fs) != (per_channel ? O : json_object_array_length(fs)) || json_object_array_length(fs) == 0) {
    error_at(c, "filter_scales is missing or has the wrong length%s%s", "", "");
    goto done;
  }

  for (int mode = 0; mode < 2; mode++) {
    if (!(modes & (1 << mode))) continue;
    const qk_fc_int8_desc d = {.in_ch = D, .out_ch = O, .input_zp = (int32_t)zp_in, .output_zp = (int32_t)zp_out,
                               .act_min = (int32_t)amin, .act_max = (int32_t)amax, .rounding = (qk_rounding)mode,
                               .multiplier = mult, .shift = shift};
    if (qk_fc_int8_check(&d) != QK_OK) {
      error_at(c, "unsupported parameters: %s%s", qk_last_error(), "");
      goto done;
    }
    /* Our own derivation from the float scales must reproduce TFLite's integers. */
    char detail[300] = "";
    bool ok = true;
    for (size_t o = 0; o < O && ok; o++) {
      int32_t gm, gs;
      const float sw = (float)json_object_get_double(json_object_array_get_idx(fs, per_channel ? o : 0));
      const qk_status st = per_channel
                               ? qk_multipliers_per_channel((float)s_in, &sw, 1, (float)s_out, (qk_rounding)mode, &gm, &gs)
                               : qk_multiplier_per_tensor_fc((float)s_in, sw, (float)s_out, (qk_rounding)mode, &gm, &gs);
      if (st != QK_OK || gm != mult[o] || gs != shift[o]) {
        ok = false;
        snprintf(detail, sizeof detail, "channel %zu: derived (%d, %d), file has (%d, %d)", o, gm, gs, mult[o], shift[o]);
      }
    }
    const bool overridden = json_object_object_get_ex(params, "activation_override", &ovr) && ovr;
    if (ok && !overridden && json_object_object_get_ex(params, "fused_activation", &act)) {
      bool known;
      const qk_activation a = activation_from(json_object_get_string(act), &known);
      int32_t lo, hi;
      if (!known || qk_activation_range(a, (float)s_out, (int32_t)zp_out, -128, 127, &lo, &hi) != QK_OK || lo != amin ||
          hi != amax) {
        ok = false;
        snprintf(detail, sizeof detail, "activation %s: derived clamp differs from [%" PRId64 ", %" PRId64 "]",
                 json_object_get_string(act), amin, amax);
      }
    }
    row_result(row_get(c, "params (multipliers, clamp)"), ok, id, detail);

    qk_ref_fc_int8(&d, w, bias, B, x, yref);
    ok = compare_int8(yref, &out, detail, sizeof detail);
    row_result(row_get(c, "reference"), ok, id, detail);

    for (size_t vi = 0; vi < qk_variant_count(); vi++) {
      const qk_variant *v = qk_variant_at(vi);
      if (v->op != QK_OP_FC || v->path != QK_PATH_INT8) continue;
      row *r = row_get(c, v->name);
      const char *why = qk_variant_unavailable(v);
      if (why) {
        r->skipped++;
        r->skip_reason = why;
        continue;
      }
      const qk_fc_int8_impl *impl = v->impl;
      const size_t psize = (impl->packed_size(O, D) + 63) & ~(size_t)63;
      void *packed = qkc_guard_alloc(psize, 64);
      int8_t *gx = qkc_guard_alloc(in.n, 1), *gy = qkc_guard_alloc(out.n, 1);
      if (!packed || !gx || !gy) {
        row_result(r, false, id, "out of memory");
      } else {
        memcpy(gx, x, in.n);
        impl->pack(&d, w, bias, packed);
        impl->run(&d, packed, B, gx, gy);
        ok = compare_int8(gy, &out, detail, sizeof detail);
        if (ok && (!qkc_guard_intact(gy) || !qkc_guard_intact(packed))) {
          ok = false;
          snprintf(detail, sizeof detail, "wrote before the start of a buffer");
        }
        row_result(r, ok, id, detail);
      }
      qkc_guard_free(packed), qkc_guard_free(gx), qkc_guard_free(gy);
    }
  }
done:
  free(mult), free(shift), free(bias), free(w), free(x), free(yref);
  tensor_free(&in), tensor_free(&f), tensor_free(&b), tensor_free(&out);
}

static void run_line(file_ctx *c, const char *text) {
  enum json_tokener_error jerr;
  json_object *line = json_tokener_parse_verbose(text, &jerr);
  if (!line || !json_object_is_type(line, json_type_object)) {
    error_at(c, "malformed JSON: %s%s", line ? "not an object" : json_tokener_error_desc(jerr), "");
    json_object_put(line);
    return;
  }
  json_object *op, *path, *params, *tensors, *cid;
  if (!json_object_object_get_ex(line, "op", &op) || !json_object_object_get_ex(line, "path", &path) ||
      !json_object_object_get_ex(line, "params", &params) || !json_object_object_get_ex(line, "tensors", &tensors) ||
      !json_object_is_type(tensors, json_type_object) || !json_object_is_type(params, json_type_object)) {
    error_at(c, "a case needs op, path, params and tensors%s%s", "", "");
    json_object_put(line);
    return;
  }
  const char *id = json_object_object_get_ex(line, "case_id", &cid) ? json_object_get_string(cid) : "?";
  const char *o = json_object_get_string(op), *p = json_object_get_string(path);
  const int errors_before = c->errors;
  if (strcmp(o, "QuantizeMultiplier") == 0) run_quantize_multiplier(c, line, tensors, id);
  else if (strcmp(o, "MultiplyByQuantizedMultiplier") == 0 && strcmp(p, "int32") == 0) run_mbqm(c, line, tensors, id, false);
  else if (strcmp(o, "MultiplyByQuantizedMultiplier") == 0 && strcmp(p, "int64") == 0) run_mbqm(c, line, tensors, id, true);
  else if (strcmp(o, "fully_connected") == 0 && strcmp(p, "int8") == 0) run_fc_int8(c, line, params, tensors, id);
  else error_at(c, "op '%s' with path '%s' is not implemented", o, p);
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
