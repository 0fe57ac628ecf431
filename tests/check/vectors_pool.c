/* Golden vectors: int8 AveragePool and MaxPool. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "vec.h"

typedef struct pool_ctx {
  const qk_pool_int8_desc *d;
  const qk_conv2d_geom *g;
  const int8_t *x;
  size_t nx;
  const tensor *out;
} pool_ctx;

static bool run_variant(const qk_variant *v, void *p, char *detail, size_t dlen) {
  const pool_ctx *c = p;
  int8_t *x = qkc_guard_alloc(c->nx, 1), *y = qkc_guard_alloc(c->out->n, 1);
  bool ok = false;
  if (!x || !y) {
    snprintf(detail, dlen, "out of memory");
  } else {
    memcpy(x, c->x, c->nx);
    ((const qk_pool_int8_impl *)v->impl)->run(c->d, c->g, x, y);
    ok = vec_compare_int8(y, c->out, detail, dlen) && qkc_guard_intact(y);
  }
  qkc_guard_free(x), qkc_guard_free(y);
  return ok;
}

void vec_run_pool_int8(file_ctx *c, json_object *params, json_object *tensors, const char *id, bool max) {
  tensor in = {0}, out = {0};
  int8_t *x = NULL, *y = NULL;
  if (!vec_tensor(c, tensors, "input", &in, NULL) || !vec_tensor(c, tensors, "output", &out, NULL)) goto done;
  if (strcmp(in.dtype, "int8") || strcmp(out.dtype, "int8") || in.ndim != 4 || out.ndim != 4) {
    vec_error(c, "int8 pooling wants 4-D int8 input and output%s%s", "", "");
    goto done;
  }
  int64_t fh, fw, sh, sw, pt, pl, zp, amin, amax;
  double scale;
  json_object *po;
  const char *ps = json_object_object_get_ex(params, "padding", &po) ? json_object_get_string(po) : "";
  if (!vec_int(c, params, "filter_h", 1, 1 << 20, &fh) || !vec_int(c, params, "filter_w", 1, 1 << 20, &fw) ||
      !vec_int(c, params, "stride_h", 1, 1 << 20, &sh) || !vec_int(c, params, "stride_w", 1, 1 << 20, &sw) ||
      !vec_int(c, params, "pad_top", 0, 1 << 20, &pt) || !vec_int(c, params, "pad_left", 0, 1 << 20, &pl) ||
      !vec_int(c, params, "zero_point", -128, 127, &zp) || !vec_int(c, params, "activation_min", -128, 127, &amin) ||
      !vec_int(c, params, "activation_max", -128, 127, &amax) || !vec_double(c, params, "scale", &scale))
    goto done;
  if (strcmp(ps, "SAME") && strcmp(ps, "VALID")) {
    vec_error(c, "padding must be SAME or VALID%s%s", "", "");
    goto done;
  }
  const qk_pool_int8_desc d = {.batch = (size_t)in.shape[0], .in_h = (size_t)in.shape[1], .in_w = (size_t)in.shape[2],
                               .channels = (size_t)in.shape[3], .filter_h = (size_t)fh, .filter_w = (size_t)fw,
                               .stride_h = (size_t)sh, .stride_w = (size_t)sw,
                               .padding = strcmp(ps, "SAME") == 0 ? QK_PAD_SAME : QK_PAD_VALID,
                               .act_min = (int32_t)amin, .act_max = (int32_t)amax};
  qk_conv2d_geom g;
  if (qk_pool_int8_check(&d, &g) != QK_OK) {
    vec_error(c, "unsupported parameters: %s%s", qk_last_error(), "");
    goto done;
  }
  char detail[300] = "";
  bool ok = g.out_h == (size_t)out.shape[1] && g.out_w == (size_t)out.shape[2] && g.pad_top == (size_t)pt &&
            g.pad_left == (size_t)pl && out.shape[3] == in.shape[3] && out.shape[0] == in.shape[0];
  if (!ok) snprintf(detail, sizeof detail, "geometry: derived %zux%zu pad (%zu, %zu)", g.out_h, g.out_w, g.pad_top, g.pad_left);
  if (ok) ok = vec_activation_matches(params, (float)scale, (int32_t)zp, amin, amax, detail, sizeof detail);
  vec_result(vec_row(c, "params (geometry, clamp)"), ok, id, detail);
  if (!ok) goto done;
  x = malloc(in.n), y = malloc(out.n);
  if (!x || !y) goto done;
  for (size_t k = 0; k < in.n; k++) x[k] = (int8_t)in.i[k];
  if (max) qk_ref_maxpool_int8(&d, &g, x, y);
  else qk_ref_avgpool_int8(&d, &g, x, y);
  ok = vec_compare_int8(y, &out, detail, sizeof detail);
  vec_result(vec_row(c, "reference"), ok, id, detail);
  pool_ctx ctx = {&d, &g, x, in.n, &out};
  vec_each_variant(c, max ? QK_OP_MAXPOOL : QK_OP_AVGPOOL, QK_PATH_INT8, id, run_variant, &ctx);
done:
  free(x), free(y);
  vec_tensor_free(&in), vec_tensor_free(&out);
}
