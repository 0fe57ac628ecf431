/* Golden vectors: int8 Add and Mul with broadcasting. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "vec.h"

typedef struct elt_ctx {
  const void *params;
  const size_t *s1, *s2;
  const int8_t *x1, *x2;
  size_t n1, n2;
  const tensor *out;
  bool mul;
} elt_ctx;

static bool run_variant(const qk_variant *v, void *p, char *detail, size_t dlen) {
  const elt_ctx *c = p;
  int8_t *a = qkc_guard_alloc(c->n1, 1), *b = qkc_guard_alloc(c->n2, 1), *y = qkc_guard_alloc(c->out->n, 1);
  bool ok = false;
  if (!a || !b || !y) {
    snprintf(detail, dlen, "out of memory");
  } else {
    memcpy(a, c->x1, c->n1);
    memcpy(b, c->x2, c->n2);
    if (c->mul) ((const qk_mul_int8_impl *)v->impl)->run(c->params, c->s1, a, c->s2, b, y);
    else ((const qk_add_int8_impl *)v->impl)->run(c->params, c->s1, a, c->s2, b, y);
    ok = vec_compare_int8(y, c->out, detail, dlen) && qkc_guard_intact(y);
  }
  qkc_guard_free(a), qkc_guard_free(b), qkc_guard_free(y);
  return ok;
}

void vec_run_eltwise_int8(file_ctx *c, json_object *line, json_object *params, json_object *tensors, const char *id,
                          bool mul) {
  const int modes = vec_rounding_modes(c, line);
  tensor a = {0}, b = {0}, out = {0};
  int8_t *x1 = NULL, *x2 = NULL, *y = NULL;
  if (!modes || !vec_tensor(c, tensors, "input1", &a, NULL) || !vec_tensor(c, tensors, "input2", &b, NULL) ||
      !vec_tensor(c, tensors, "output", &out, NULL))
    goto done;
  size_t s1[4], s2[4], so[4], sf[4];
  if (strcmp(a.dtype, "int8") || strcmp(b.dtype, "int8") || strcmp(out.dtype, "int8") || !vec_shape4(&a, s1) ||
      !vec_shape4(&b, s2) || !vec_shape4(&out, sf) || qk_broadcast_shape(s1, s2, so) != QK_OK ||
      memcmp(so, sf, sizeof so) != 0) {
    vec_error(c, "int8 %s wants int8 tensors of broadcast-compatible shapes up to 4-D", mul ? "mul" : "add", "");
    goto done;
  }
  int64_t z1, z2, zo, amin, amax, m, sh;
  double sc1, sc2, sco;
  if (!vec_int(c, params, "input1_zero_point", -128, 127, &z1) || !vec_int(c, params, "input2_zero_point", -128, 127, &z2) ||
      !vec_int(c, params, "output_zero_point", -128, 127, &zo) || !vec_int(c, params, "activation_min", -128, 127, &amin) ||
      !vec_int(c, params, "activation_max", -128, 127, &amax) || !vec_double(c, params, "input1_scale", &sc1) ||
      !vec_double(c, params, "input2_scale", &sc2) || !vec_double(c, params, "output_scale", &sco) ||
      !vec_int(c, params, "output_multiplier", 0, INT32_MAX, &m) || !vec_int(c, params, "output_shift", -31, 30, &sh))
    goto done;
  x1 = malloc(a.n), x2 = malloc(b.n), y = malloc(out.n);
  if (!x1 || !x2 || !y) goto done;
  for (size_t k = 0; k < a.n; k++) x1[k] = (int8_t)a.i[k];
  for (size_t k = 0; k < b.n; k++) x2[k] = (int8_t)b.i[k];
  for (int mode = 0; mode < 2; mode++) {
    if (!(modes & (1 << mode))) continue;
    char detail[300] = "";
    bool ok = true;
    if (mul) {
      qk_mul_int8_params p = {.input1_zp = (int32_t)z1, .input2_zp = (int32_t)z2, .output_zp = (int32_t)zo,
                              .output_multiplier = (int32_t)m, .output_shift = (int32_t)sh, .act_min = (int32_t)amin,
                              .act_max = (int32_t)amax, .rounding = (qk_rounding)mode};
      qk_mul_int8_params dp = p;
      if (qk_mul_int8_check(&p) != QK_OK) {
        vec_error(c, "unsupported parameters: %s%s", qk_last_error(), "");
        goto done;
      }
      if (qk_mul_derive((float)sc1, (float)sc2, (float)sco, (qk_rounding)mode, &dp) != QK_OK ||
          dp.output_multiplier != p.output_multiplier || dp.output_shift != p.output_shift) {
        ok = false;
        snprintf(detail, sizeof detail, "derived (%d, %d), file has (%d, %d)", dp.output_multiplier, dp.output_shift,
                 p.output_multiplier, p.output_shift);
      }
      if (ok) ok = vec_activation_matches(params, (float)sco, (int32_t)zo, amin, amax, detail, sizeof detail);
      vec_result(vec_row(c, "params (multipliers, clamp)"), ok, id, detail);
      qk_ref_mul_int8(&p, s1, x1, s2, x2, y);
      ok = vec_compare_int8(y, &out, detail, sizeof detail);
      vec_result(vec_row(c, "reference"), ok, id, detail);
      elt_ctx ctx = {&p, s1, s2, x1, x2, a.n, b.n, &out, true};
      vec_each_variant(c, QK_OP_MUL, QK_PATH_INT8, id, run_variant, &ctx);
    } else {
      int64_t ls, m1, sh1, m2, sh2;
      if (!vec_int(c, params, "left_shift", 0, 20, &ls) || !vec_int(c, params, "input1_multiplier", 0, INT32_MAX, &m1) ||
          !vec_int(c, params, "input1_shift", -31, 0, &sh1) || !vec_int(c, params, "input2_multiplier", 0, INT32_MAX, &m2) ||
          !vec_int(c, params, "input2_shift", -31, 0, &sh2))
        goto done;
      qk_add_int8_params p = {.input1_zp = (int32_t)z1, .input2_zp = (int32_t)z2, .output_zp = (int32_t)zo,
                              .left_shift = (int)ls, .input1_multiplier = (int32_t)m1, .input1_shift = (int32_t)sh1,
                              .input2_multiplier = (int32_t)m2, .input2_shift = (int32_t)sh2,
                              .output_multiplier = (int32_t)m, .output_shift = (int32_t)sh, .act_min = (int32_t)amin,
                              .act_max = (int32_t)amax, .rounding = (qk_rounding)mode};
      if (qk_add_int8_check(&p) != QK_OK) {
        vec_error(c, "unsupported parameters: %s%s", qk_last_error(), "");
        goto done;
      }
      qk_add_int8_params dp = p;
      if (qk_add_derive((float)sc1, (float)sc2, (float)sco, (int)ls, (qk_rounding)mode, &dp) != QK_OK ||
          dp.input1_multiplier != p.input1_multiplier || dp.input1_shift != p.input1_shift ||
          dp.input2_multiplier != p.input2_multiplier || dp.input2_shift != p.input2_shift ||
          dp.output_multiplier != p.output_multiplier || dp.output_shift != p.output_shift) {
        ok = false;
        snprintf(detail, sizeof detail, "derived multipliers differ: (%d,%d) (%d,%d) (%d,%d)", dp.input1_multiplier,
                 dp.input1_shift, dp.input2_multiplier, dp.input2_shift, dp.output_multiplier, dp.output_shift);
      }
      if (ok) ok = vec_activation_matches(params, (float)sco, (int32_t)zo, amin, amax, detail, sizeof detail);
      vec_result(vec_row(c, "params (multipliers, clamp)"), ok, id, detail);
      qk_ref_add_int8(&p, s1, x1, s2, x2, y);
      ok = vec_compare_int8(y, &out, detail, sizeof detail);
      vec_result(vec_row(c, "reference"), ok, id, detail);
      elt_ctx ctx = {&p, s1, s2, x1, x2, a.n, b.n, &out, false};
      vec_each_variant(c, QK_OP_ADD, QK_PATH_INT8, id, run_variant, &ctx);
    }
  }
done:
  free(x1), free(x2), free(y);
  vec_tensor_free(&a), vec_tensor_free(&b), vec_tensor_free(&out);
}
