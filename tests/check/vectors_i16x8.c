/* Golden vectors of the 16x8 path: fully connected, conv2d, depthwise (int16 input, int8
 * weights, int64 bias, int16 output) and int16 add. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "vec.h"

bool vec_compare_int16(const int16_t *got, const tensor *exp, char *detail, size_t dlen) {
  for (size_t k = 0; k < exp->n; k++)
    if (got[k] != exp->i[k]) {
      snprintf(detail, dlen, "first difference at index %zu: expected %" PRId64 ", got %d", k, exp->i[k], got[k]);
      return false;
    }
  return true;
}

/* The tensors and per-channel integers every 16x8 weighted op shares. */
typedef struct wop {
  tensor in, f, b, out;
  bool no_bias;
  int16_t *x;
  int8_t *w;
  int64_t *bias;
  int32_t *mult, *shift;
  int64_t amin, amax;
  double s_in, s_out;
  json_object *fs;
} wop;

static void wop_free(wop *o) {
  free(o->x), free(o->w), free(o->bias), free(o->mult), free(o->shift);
  vec_tensor_free(&o->in), vec_tensor_free(&o->f), vec_tensor_free(&o->b), vec_tensor_free(&o->out);
}

static bool wop_read(file_ctx *c, json_object *params, json_object *tensors, wop *o, size_t out_ch_dim) {
  if (!vec_tensor(c, tensors, "input", &o->in, NULL) || !vec_tensor(c, tensors, "filter", &o->f, NULL) ||
      !vec_tensor(c, tensors, "bias", &o->b, &o->no_bias) || !vec_tensor(c, tensors, "output", &o->out, NULL))
    return false;
  if (strcmp(o->in.dtype, "int16") || strcmp(o->f.dtype, "int8") || strcmp(o->out.dtype, "int16") ||
      (!o->no_bias && strcmp(o->b.dtype, "int64")) || o->f.ndim < 2) {
    vec_error(c, "16x8 wants int16 input/output, int8 filter and int64 bias%s%s", "", "");
    return false;
  }
  const size_t O = (size_t)o->f.shape[out_ch_dim == 0 ? 0 : o->f.ndim - 1];
  int64_t zi, zo;
  if (!vec_int(c, params, "input_zero_point", 0, 0, &zi) || !vec_int(c, params, "output_zero_point", 0, 0, &zo) ||
      !vec_int(c, params, "activation_min", -32768, 32767, &o->amin) ||
      !vec_int(c, params, "activation_max", -32768, 32767, &o->amax) || !vec_double(c, params, "input_scale", &o->s_in) ||
      !vec_double(c, params, "output_scale", &o->s_out))
    return false;
  if (O == 0 || (!o->no_bias && o->b.n != O)) {
    vec_error(c, "filter and bias channels disagree%s%s", "", "");
    return false;
  }
  o->mult = malloc(O * sizeof *o->mult), o->shift = malloc(O * sizeof *o->shift);
  o->x = malloc(o->in.n * sizeof *o->x), o->w = malloc(o->f.n);
  if (!o->no_bias) o->bias = malloc(O * sizeof *o->bias);
  if (!o->mult || !o->shift || !o->x || !o->w || (!o->no_bias && !o->bias)) return false;
  if (!vec_int_array(c, params, "output_multiplier", O, o->mult) || !vec_int_array(c, params, "output_shift", O, o->shift))
    return false;
  for (size_t k = 0; k < o->in.n; k++) o->x[k] = (int16_t)o->in.i[k];
  for (size_t k = 0; k < o->f.n; k++) o->w[k] = (int8_t)o->f.i[k];
  for (size_t k = 0; !o->no_bias && k < O; k++) o->bias[k] = o->b.i[k];
  if (!json_object_object_get_ex(params, "filter_scales", &o->fs) || !json_object_is_type(o->fs, json_type_array) ||
      (json_object_array_length(o->fs) != O && json_object_array_length(o->fs) != 1)) {
    vec_error(c, "filter_scales is missing or has the wrong length%s%s", "", "");
    return false;
  }
  return true;
}

/* Our derivation of the per-channel multipliers and of the clamp must match the file. */
static bool derived_match(const wop *o, json_object *params, size_t O, bool per_tensor_fc, char *detail, size_t dlen) {
  for (size_t oc = 0; oc < O; oc++) {
    int32_t gm, gs;
    const float sw = (float)json_object_get_double(
        json_object_array_get_idx(o->fs, json_object_array_length(o->fs) == 1 ? 0 : oc));
    const qk_status st = per_tensor_fc
                             ? qk_multiplier_per_tensor_fc((float)o->s_in, sw, (float)o->s_out, QK_ROUND_DOUBLE, &gm, &gs)
                             : qk_multipliers_per_channel((float)o->s_in, &sw, 1, (float)o->s_out, QK_ROUND_DOUBLE, &gm, &gs);
    if (st != QK_OK || gm != o->mult[oc] || gs != o->shift[oc]) {
      snprintf(detail, dlen, "channel %zu: derived (%d, %d), file has (%d, %d)", oc, gm, gs, o->mult[oc], o->shift[oc]);
      return false;
    }
  }
  json_object *ovr, *act;
  if (json_object_object_get_ex(params, "activation_override", &ovr) && ovr) return true;
  if (json_object_object_get_ex(params, "fused_activation", &act) && strcmp(json_object_get_string(act), "NONE") == 0 &&
      (o->amin != -32768 || o->amax != 32767)) {
    snprintf(detail, dlen, "activation NONE with a narrowed clamp");
    return false;
  }
  return true;
}

typedef struct fc_ctx {
  const qk_fc_i16x8_desc *d;
  const wop *o;
  size_t batch;
} fc_ctx;

static bool fc_variant(const qk_variant *v, void *p, char *detail, size_t dlen) {
  const fc_ctx *c = p;
  const qk_fc_i16x8_impl *impl = v->impl;
  void *packed = qkc_guard_alloc((impl->packed_size(c->d->out_ch, c->d->in_ch) + 63) & ~(size_t)63, 64);
  int16_t *x = qkc_guard_alloc(c->o->in.n * 2, 2), *y = qkc_guard_alloc(c->o->out.n * 2, 2);
  bool ok = false;
  if (packed && x && y) {
    memcpy(x, c->o->x, c->o->in.n * 2);
    impl->pack(c->d, c->o->w, c->o->bias, packed);
    impl->run(c->d, packed, c->batch, x, y);
    ok = vec_compare_int16(y, &c->o->out, detail, dlen) && qkc_guard_intact(y);
  } else {
    snprintf(detail, dlen, "out of memory");
  }
  qkc_guard_free(packed), qkc_guard_free(x), qkc_guard_free(y);
  return ok;
}

void vec_run_fc_i16x8(file_ctx *c, json_object *params, json_object *tensors, const char *id) {
  wop o = {0};
  int16_t *y = NULL;
  if (!wop_read(c, params, tensors, &o, 0)) goto done;
  if (o.f.ndim != 2) {
    vec_error(c, "fully_connected wants a 2-D filter%s%s", "", "");
    goto done;
  }
  const size_t O = (size_t)o.f.shape[0], D = (size_t)o.f.shape[1];
  if (o.out.n % O || o.in.n != o.out.n / O * D) {
    vec_error(c, "fully_connected tensor shapes disagree%s%s", "", "");
    goto done;
  }
  const qk_fc_i16x8_desc d = {.in_ch = D, .out_ch = O, .act_min = (int32_t)o.amin, .act_max = (int32_t)o.amax,
                              .multiplier = o.mult, .shift = o.shift};
  if (qk_fc_i16x8_check(&d, o.bias) != QK_OK) {
    vec_error(c, "unsupported parameters: %s%s", qk_last_error(), "");
    goto done;
  }
  json_object *pc;
  const bool per_channel = json_object_object_get_ex(params, "per_channel", &pc) && json_object_get_boolean(pc);
  char detail[300] = "";
  /* TFLite takes the per-tensor rule (product rounded to float32 first) whenever the filter has
   * one scale, whatever the per_channel flag says; vector int16x8_fully_connected_005 shows it. */
  bool ok = derived_match(&o, params, O, !per_channel || json_object_array_length(o.fs) == 1, detail, sizeof detail);
  vec_result(vec_row(c, "params (multipliers, clamp)"), ok, id, detail);
  if (!(y = malloc(o.out.n * sizeof *y))) goto done;
  qk_ref_fc_i16x8(&d, o.w, o.bias, o.out.n / O, o.x, y);
  ok = vec_compare_int16(y, &o.out, detail, sizeof detail);
  vec_result(vec_row(c, "reference"), ok, id, detail);
  fc_ctx ctx = {&d, &o, o.out.n / O};
  vec_each_variant(c, QK_OP_FC, QK_PATH_I16X8, id, fc_variant, &ctx);
done:
  free(y);
  wop_free(&o);
}

typedef struct conv_ctx {
  const qk_conv2d_int8_desc *d;
  const qk_conv2d_geom *g;
  const wop *o;
} conv_ctx;

static bool conv_variant(const qk_variant *v, void *p, char *detail, size_t dlen) {
  const conv_ctx *c = p;
  const qk_conv2d_i16x8_impl *impl = v->impl;
  const size_t wsize = impl->workspace_size(c->d, c->g);
  void *packed = qkc_guard_alloc((impl->packed_size(c->d) + 63) & ~(size_t)63, 64);
  void *ws = wsize ? qkc_guard_alloc((wsize + 63) & ~(size_t)63, 64) : NULL;
  int16_t *x = qkc_guard_alloc(c->o->in.n * 2, 2), *y = qkc_guard_alloc(c->o->out.n * 2, 2);
  bool ok = false;
  if (packed && x && y && (!wsize || ws)) {
    memcpy(x, c->o->x, c->o->in.n * 2);
    impl->pack(c->d, c->o->w, c->o->bias, packed);
    impl->run(c->d, c->g, packed, x, y, ws);
    ok = vec_compare_int16(y, &c->o->out, detail, dlen) && qkc_guard_intact(y);
  } else {
    snprintf(detail, dlen, "out of memory");
  }
  qkc_guard_free(packed), qkc_guard_free(ws), qkc_guard_free(x), qkc_guard_free(y);
  return ok;
}

void vec_run_conv_i16x8(file_ctx *c, json_object *params, json_object *tensors, const char *id, bool dw) {
  wop o = {0};
  int16_t *y = NULL;
  if (!wop_read(c, params, tensors, &o, dw ? 3 : 0)) goto done;
  if (o.in.ndim != 4 || o.f.ndim != 4 || o.out.ndim != 4) {
    vec_error(c, "conv wants 4-D tensors%s%s", "", "");
    goto done;
  }
  int64_t sh, sw, dh, dwl, pt, pl, dm = 1;
  json_object *po;
  const char *ps = json_object_object_get_ex(params, "padding", &po) ? json_object_get_string(po) : "";
  if (!vec_int(c, params, "stride_h", 1, 1 << 20, &sh) || !vec_int(c, params, "stride_w", 1, 1 << 20, &sw) ||
      !vec_int(c, params, "dilation_h", 1, 1 << 20, &dh) || !vec_int(c, params, "dilation_w", 1, 1 << 20, &dwl) ||
      !vec_int(c, params, "pad_top", 0, 1 << 20, &pt) || !vec_int(c, params, "pad_left", 0, 1 << 20, &pl) ||
      (dw && !vec_int(c, params, "depth_multiplier", 1, 1 << 20, &dm)))
    goto done;
  if (strcmp(ps, "SAME") && strcmp(ps, "VALID")) {
    vec_error(c, "padding must be SAME or VALID%s%s", "", "");
    goto done;
  }
  const size_t C = (size_t)o.in.shape[3], O = (size_t)o.out.shape[3];
  const size_t fin = dw ? 1 : (size_t)o.f.shape[3];
  if (fin == 0 || (!dw && C % fin)) {
    vec_error(c, "filter input channels do not divide the input channels%s%s", "", "");
    goto done;
  }
  const qk_conv2d_int8_desc d = {
      .batch = (size_t)o.in.shape[0], .in_h = (size_t)o.in.shape[1], .in_w = (size_t)o.in.shape[2], .in_ch = C,
      .out_ch = O, .k_h = (size_t)o.f.shape[1], .k_w = (size_t)o.f.shape[2], .stride_h = (size_t)sh,
      .stride_w = (size_t)sw, .dilation_h = (size_t)dh, .dilation_w = (size_t)dwl,
      .padding = strcmp(ps, "SAME") == 0 ? QK_PAD_SAME : QK_PAD_VALID, .groups = dw ? 1 : C / fin,
      .depth_multiplier = (size_t)dm, .act_min = (int32_t)o.amin, .act_max = (int32_t)o.amax,
      .multiplier = o.mult, .shift = o.shift};
  qk_conv2d_geom g;
  if ((dw ? qk_dwconv2d_i16x8_check(&d, &g, o.bias) : qk_conv2d_i16x8_check(&d, &g, o.bias)) != QK_OK) {
    vec_error(c, "unsupported parameters: %s%s", qk_last_error(), "");
    goto done;
  }
  char detail[300] = "";
  bool ok = g.out_h == (size_t)o.out.shape[1] && g.out_w == (size_t)o.out.shape[2] && g.pad_top == (size_t)pt &&
            g.pad_left == (size_t)pl;
  if (!ok) snprintf(detail, sizeof detail, "geometry: derived %zux%zu pad (%zu, %zu)", g.out_h, g.out_w, g.pad_top, g.pad_left);
  if (ok) ok = derived_match(&o, params, O, false, detail, sizeof detail);
  vec_result(vec_row(c, "params (geometry, multipliers, clamp)"), ok, id, detail);
  if (!ok || !(y = malloc(o.out.n * sizeof *y))) goto done;
  if (dw) qk_ref_dwconv2d_i16x8(&d, &g, o.x, o.w, o.bias, y);
  else qk_ref_conv2d_i16x8(&d, &g, o.x, o.w, o.bias, y);
  ok = vec_compare_int16(y, &o.out, detail, sizeof detail);
  vec_result(vec_row(c, "reference"), ok, id, detail);
  conv_ctx ctx = {&d, &g, &o};
  vec_each_variant(c, dw ? QK_OP_DWCONV2D : QK_OP_CONV2D, QK_PATH_I16X8, id, conv_variant, &ctx);
done:
  free(y);
  wop_free(&o);
}

typedef struct add_ctx {
  const qk_add_int8_params *p;
  const size_t *s1, *s2;
  const int16_t *x1, *x2;
  size_t n1, n2;
  const tensor *out;
} add_ctx;

static bool add_variant(const qk_variant *v, void *p, char *detail, size_t dlen) {
  const add_ctx *c = p;
  int16_t *a = qkc_guard_alloc(c->n1 * 2, 2), *b = qkc_guard_alloc(c->n2 * 2, 2), *y = qkc_guard_alloc(c->out->n * 2, 2);
  bool ok = false;
  if (a && b && y) {
    memcpy(a, c->x1, c->n1 * 2), memcpy(b, c->x2, c->n2 * 2);
    ((const qk_add_i16_impl *)v->impl)->run(c->p, c->s1, a, c->s2, b, y);
    ok = vec_compare_int16(y, c->out, detail, dlen) && qkc_guard_intact(y);
  } else {
    snprintf(detail, dlen, "out of memory");
  }
  qkc_guard_free(a), qkc_guard_free(b), qkc_guard_free(y);
  return ok;
}

void vec_run_add_i16(file_ctx *c, json_object *line, json_object *params, json_object *tensors, const char *id) {
  const int modes = vec_rounding_modes(c, line);
  tensor a = {0}, b = {0}, out = {0};
  int16_t *x1 = NULL, *x2 = NULL, *y = NULL;
  size_t s1[4], s2[4], so[4], sf[4];
  if (!modes || !vec_tensor(c, tensors, "input1", &a, NULL) || !vec_tensor(c, tensors, "input2", &b, NULL) ||
      !vec_tensor(c, tensors, "output", &out, NULL))
    goto done;
  if (strcmp(a.dtype, "int16") || strcmp(b.dtype, "int16") || strcmp(out.dtype, "int16") || !vec_shape4(&a, s1) ||
      !vec_shape4(&b, s2) || !vec_shape4(&out, sf) || qk_broadcast_shape(s1, s2, so) != QK_OK || memcmp(so, sf, sizeof so)) {
    vec_error(c, "int16 add wants int16 tensors of broadcast-compatible shapes up to 4-D%s%s", "", "");
    goto done;
  }
  int64_t z1, z2, zo, amin, amax, ls, m1, sh1, m2, sh2, mo, sho;
  double sc1, sc2, sco;
  if (!vec_int(c, params, "input1_zero_point", -32768, 32767, &z1) ||
      !vec_int(c, params, "input2_zero_point", -32768, 32767, &z2) ||
      !vec_int(c, params, "output_zero_point", -32768, 32767, &zo) ||
      !vec_int(c, params, "activation_min", -32768, 32767, &amin) ||
      !vec_int(c, params, "activation_max", -32768, 32767, &amax) || !vec_int(c, params, "left_shift", 0, 15, &ls) ||
      !vec_int(c, params, "input1_multiplier", 0, INT32_MAX, &m1) || !vec_int(c, params, "input1_shift", -31, 0, &sh1) ||
      !vec_int(c, params, "input2_multiplier", 0, INT32_MAX, &m2) || !vec_int(c, params, "input2_shift", -31, 0, &sh2) ||
      !vec_int(c, params, "output_multiplier", 0, INT32_MAX, &mo) || !vec_int(c, params, "output_shift", -31, 0, &sho) ||
      !vec_double(c, params, "input1_scale", &sc1) || !vec_double(c, params, "input2_scale", &sc2) ||
      !vec_double(c, params, "output_scale", &sco))
    goto done;
  x1 = malloc(a.n * 2), x2 = malloc(b.n * 2), y = malloc(out.n * 2);
  if (!x1 || !x2 || !y) goto done;
  for (size_t k = 0; k < a.n; k++) x1[k] = (int16_t)a.i[k];
  for (size_t k = 0; k < b.n; k++) x2[k] = (int16_t)b.i[k];
  for (int mode = 0; mode < 2; mode++) {
    if (!(modes & (1 << mode))) continue;
    qk_add_int8_params p = {.input1_zp = (int32_t)z1, .input2_zp = (int32_t)z2, .output_zp = (int32_t)zo,
                            .left_shift = (int)ls, .input1_multiplier = (int32_t)m1, .input1_shift = (int32_t)sh1,
                            .input2_multiplier = (int32_t)m2, .input2_shift = (int32_t)sh2,
                            .output_multiplier = (int32_t)mo, .output_shift = (int32_t)sho, .act_min = (int32_t)amin,
                            .act_max = (int32_t)amax, .rounding = (qk_rounding)mode};
    if (qk_add_i16_check(&p) != QK_OK) {
      vec_error(c, "unsupported parameters: %s%s", qk_last_error(), "");
      goto done;
    }
    qk_add_int8_params dp = p;
    char detail[300] = "";
    bool ok = qk_add_derive((float)sc1, (float)sc2, (float)sco, (int)ls, (qk_rounding)mode, &dp) == QK_OK &&
              dp.input1_multiplier == p.input1_multiplier && dp.input1_shift == p.input1_shift &&
              dp.input2_multiplier == p.input2_multiplier && dp.input2_shift == p.input2_shift &&
              dp.output_multiplier == p.output_multiplier && dp.output_shift == p.output_shift;
    if (!ok) snprintf(detail, sizeof detail, "derived multipliers differ from the file's");
    vec_result(vec_row(c, "params (multipliers)"), ok, id, detail);
    qk_ref_add_i16(&p, s1, x1, s2, x2, y);
    ok = vec_compare_int16(y, &out, detail, sizeof detail);
    vec_result(vec_row(c, "reference"), ok, id, detail);
    add_ctx ctx = {&p, s1, s2, x1, x2, a.n, b.n, &out};
    vec_each_variant(c, QK_OP_ADD, QK_PATH_I16X8, id, add_variant, &ctx);
  }
done:
  free(x1), free(x2), free(y);
  vec_tensor_free(&a), vec_tensor_free(&b), vec_tensor_free(&out);
}
