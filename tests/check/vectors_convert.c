/* Golden vectors: quantize, dequantize and requantize at model boundaries. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "vec.h"

static bool qtype_of(const char *dtype, qk_qtype *t) {
  if (strcmp(dtype, "int8") == 0) *t = QK_Q_INT8;
  else if (strcmp(dtype, "uint8") == 0) *t = QK_Q_UINT8;
  else if (strcmp(dtype, "int16") == 0) *t = QK_Q_INT16;
  else return false;
  return true;
}

static size_t esize(qk_qtype t) { return t == QK_Q_INT16 ? 2 : 1; }

static bool pack8(const tensor *t, qk_qtype type, void *buf) {
  for (size_t k = 0; k < t->n; k++) {
    if (type == QK_Q_UINT8) ((uint8_t *)buf)[k] = (uint8_t)t->i[k];
    else if (type == QK_Q_INT16) ((int16_t *)buf)[k] = (int16_t)t->i[k];
    else ((int8_t *)buf)[k] = (int8_t)t->i[k];
  }
  return true;
}

static bool compare8(const void *got, qk_qtype type, const tensor *exp, char *detail, size_t dlen) {
  for (size_t k = 0; k < exp->n; k++) {
    const int64_t g = type == QK_Q_UINT8   ? ((const uint8_t *)got)[k]
                      : type == QK_Q_INT16 ? ((const int16_t *)got)[k]
                                           : ((const int8_t *)got)[k];
    if (g != exp->i[k]) {
      snprintf(detail, dlen, "first difference at index %zu: expected %" PRId64 ", got %" PRId64, k, exp->i[k], g);
      return false;
    }
  }
  return true;
}

typedef enum { K_QUANT, K_DEQUANT, K_REQUANT } kind;

typedef struct cvt_ctx {
  kind k;
  qk_qtype t, to;
  float scale;
  int32_t zp;
  const qk_requant_params *rp;
  const void *x; /* float32 (quantize) or elements of type t */
  size_t n;
  const tensor *out;
} cvt_ctx;

static size_t in_bytes(const cvt_ctx *c) { return c->n * (c->k == K_QUANT ? sizeof(float) : esize(c->t)); }
static size_t out_bytes(const cvt_ctx *c) { return c->n * (c->k == K_DEQUANT ? sizeof(float) : esize(c->to)); }

/* Runs the reference (v == NULL) or a variant on guarded copies and compares with the file. */
static bool run_one(const qk_variant *v, void *p, char *detail, size_t dlen) {
  const cvt_ctx *c = p;
  void *x = qkc_guard_alloc(in_bytes(c), 4), *y = qkc_guard_alloc(out_bytes(c), 4);
  bool ok = false;
  if (!x || !y) {
    snprintf(detail, dlen, "out of memory");
    goto done;
  }
  memcpy(x, c->x, in_bytes(c));
  switch (c->k) {
    case K_QUANT:
      if (v) ((const qk_quantize_impl *)v->impl)->run(x, c->n, c->scale, c->zp, c->to, y);
      else qk_ref_quantize(x, c->n, c->scale, c->zp, c->to, y);
      break;
    case K_DEQUANT:
      if (v) ((const qk_dequantize_impl *)v->impl)->run(x, c->n, c->t, c->scale, c->zp, y);
      else qk_ref_dequantize(x, c->n, c->t, c->scale, c->zp, y);
      break;
    case K_REQUANT:
      if (v) ((const qk_requantize_impl *)v->impl)->run(c->rp, x, c->n, y);
      else qk_ref_requantize(c->rp, x, c->n, y);
      break;
  }
  if (c->k == K_DEQUANT) {
    ok = true;
    for (size_t k = 0; k < c->n && ok; k++) {
      const float want = (float)c->out->f[k], got = ((const float *)y)[k];
      if (memcmp(&want, &got, sizeof want) != 0) {
        ok = false;
        snprintf(detail, dlen, "index %zu: expected %.9g, got %.9g (bitwise)", k, want, got);
      }
    }
  } else {
    ok = compare8(y, c->to, c->out, detail, dlen);
  }
  if (ok && !qkc_guard_intact(y)) ok = false, snprintf(detail, dlen, "wrote before the start of the output");
done:
  qkc_guard_free(x), qkc_guard_free(y);
  return ok;
}

static void run_all(file_ctx *f, qk_op op, const cvt_ctx *c, const char *id) {
  char detail[300] = "";
  const bool ok = run_one(NULL, (void *)c, detail, sizeof detail);
  vec_result(vec_row(f, "reference"), ok, id, detail);
  const qk_path path = (c->k == K_QUANT ? c->to : c->t) == QK_Q_INT16 ? QK_PATH_I16X8 : QK_PATH_INT8;
  vec_each_variant(f, op, path, id, run_one, (void *)c);
}

void vec_run_convert(file_ctx *c, json_object *line, json_object *params, json_object *tensors, const char *id,
                     const char *op, const char *path) {
  tensor in = {0}, out = {0};
  void *x = NULL;
  if (!vec_tensor(c, tensors, "input", &in, NULL) || !vec_tensor(c, tensors, "output", &out, NULL)) goto done;
  if (in.n != out.n || in.n == 0) {
    vec_error(c, "%s: input and output sizes differ or are empty%s", op, "");
    goto done;
  }
  cvt_ctx ctx = {.n = in.n, .out = &out};
  double s;
  int64_t zp;
  if (strcmp(op, "quantize") == 0) {
    ctx.k = K_QUANT;
    if (strcmp(in.dtype, "float32") || !qtype_of(out.dtype, &ctx.to)) {
      vec_error(c, "quantize path '%s' is not implemented%s", path, "");
      goto done;
    }
    if (!vec_double(c, params, "output_scale", &s) || !vec_int(c, params, "output_zero_point", -32768, 32767, &zp)) goto done;
    float *xf = x = malloc(in.n * sizeof *xf);
    if (!x) goto done;
    for (size_t k = 0; k < in.n; k++) xf[k] = (float)in.f[k];
  } else if (strcmp(op, "dequantize") == 0) {
    ctx.k = K_DEQUANT;
    if (!qtype_of(in.dtype, &ctx.t) || strcmp(out.dtype, "float32")) {
      vec_error(c, "dequantize path '%s' is not implemented%s", path, "");
      goto done;
    }
    if (!vec_double(c, params, "input_scale", &s) || !vec_int(c, params, "input_zero_point", -32768, 32767, &zp)) goto done;
    if (!(x = malloc(in.n * esize(ctx.t)))) goto done;
    pack8(&in, ctx.t, x);
  } else {
    ctx.k = K_REQUANT;
    const int modes = vec_rounding_modes(c, line);
    int64_t zi, zo, m, sh;
    double si, so;
    if (!modes) goto done;
    if (!qtype_of(in.dtype, &ctx.t) || !qtype_of(out.dtype, &ctx.to)) {
      vec_error(c, "requantize path '%s' is not implemented%s", path, "");
      goto done;
    }
    if (!vec_int(c, params, "input_zero_point", -32768, 32767, &zi) ||
        !vec_int(c, params, "output_zero_point", -32768, 32767, &zo) || !vec_int(c, params, "multiplier", 0, INT32_MAX, &m) ||
        !vec_int(c, params, "shift", -31, 30, &sh) || !vec_double(c, params, "input_scale", &si) ||
        !vec_double(c, params, "output_scale", &so))
      goto done;
    if (!(x = malloc(in.n * esize(ctx.t)))) goto done;
    pack8(&in, ctx.t, x);
    ctx.x = x;
    for (int mode = 0; mode < 2; mode++) {
      if (!(modes & (1 << mode))) continue;
      qk_requant_params p = {.in_type = ctx.t, .out_type = ctx.to, .input_zp = (int32_t)zi, .output_zp = (int32_t)zo,
                             .multiplier = (int32_t)m, .shift = (int32_t)sh, .rounding = (qk_rounding)mode};
      qk_requant_params dp = p;
      if (qk_requant_check(&p) != QK_OK) {
        vec_error(c, "unsupported parameters: %s%s", qk_last_error(), "");
        goto done;
      }
      char detail[200] = "";
      const bool pok = qk_requant_derive((float)si, (float)so, (qk_rounding)mode, &dp) == QK_OK &&
                       dp.multiplier == p.multiplier && dp.shift == p.shift;
      if (!pok) snprintf(detail, sizeof detail, "derived (%d, %d), file has (%d, %d)", dp.multiplier, dp.shift, p.multiplier, p.shift);
      vec_result(vec_row(c, "params (multiplier)"), pok, id, detail);
      ctx.rp = &p;
      run_all(c, QK_OP_REQUANTIZE, &ctx, id);
    }
    goto done;
  }
  ctx.scale = (float)s, ctx.zp = (int32_t)zp, ctx.x = x;
  const int32_t lo = (ctx.k == K_QUANT ? ctx.to : ctx.t) == QK_Q_UINT8 ? 0 : (ctx.k == K_QUANT ? ctx.to : ctx.t) == QK_Q_INT16 ? -32768 : -128;
  if (!(ctx.scale > 0.0f) || zp < lo || zp > lo + ((ctx.k == K_QUANT ? ctx.to : ctx.t) == QK_Q_INT16 ? 65535 : 255)) {
    vec_error(c, "unsupported parameters: scale or zero point outside the type%s%s", "", "");
    goto done;
  }
  run_all(c, ctx.k == K_QUANT ? QK_OP_QUANTIZE : QK_OP_DEQUANTIZE, &ctx, id);
done:
  free(x);
  vec_tensor_free(&in), vec_tensor_free(&out);
}
