/* Golden vectors: int8 Conv2D (including grouped) and DepthwiseConv2D. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "vec.h"

typedef struct conv_ctx {
  const qk_conv2d_int8_desc *d;
  const qk_conv2d_geom *g;
  const int8_t *w, *x;
  const int32_t *bias;
  size_t nx, ny;
  const tensor *out;
} conv_ctx;

static bool run_variant(const qk_variant *v, void *p, char *detail, size_t dlen) {
  const conv_ctx *c = p;
  const qk_conv2d_int8_impl *impl = v->impl;
  const size_t wsize = impl->workspace_size(c->d, c->g);
  void *packed = qkc_guard_alloc((impl->packed_size(c->d) + 63) & ~(size_t)63, 64);
  void *ws = wsize ? qkc_guard_alloc((wsize + 63) & ~(size_t)63, 64) : NULL;
  int8_t *gx = qkc_guard_alloc(c->nx, 1), *gy = qkc_guard_alloc(c->ny, 1);
  bool ok = false;
  if (!packed || !gx || !gy || (wsize && !ws)) {
    snprintf(detail, dlen, "out of memory");
  } else {
    memcpy(gx, c->x, c->nx);
    impl->pack(c->d, c->w, c->bias, packed);
    impl->run(c->d, c->g, packed, gx, gy, ws);
    ok = vec_compare_int8(gy, c->out, detail, dlen);
    if (ok && (!qkc_guard_intact(gy) || !qkc_guard_intact(packed))) {
      ok = false;
      snprintf(detail, dlen, "wrote before the start of a buffer");
    }
  }
  qkc_guard_free(packed), qkc_guard_free(ws), qkc_guard_free(gx), qkc_guard_free(gy);
  return ok;
}

static bool padding_of(json_object *params, qk_padding *p) {
  json_object *o;
  const char *s = json_object_object_get_ex(params, "padding", &o) ? json_object_get_string(o) : "";
  if (strcmp(s, "SAME") == 0) *p = QK_PAD_SAME;
  else if (strcmp(s, "VALID") == 0) *p = QK_PAD_VALID;
  else return false;
  return true;
}

void vec_run_conv_int8(file_ctx *c, json_object *line, json_object *params, json_object *tensors, const char *id,
                       bool depthwise) {
  const int modes = vec_rounding_modes(c, line);
  tensor in = {0}, f = {0}, b = {0}, out = {0};
  bool no_bias = false;
  int32_t *mult = NULL, *shift = NULL, *bias = NULL;
  int8_t *w = NULL, *x = NULL, *yref = NULL;
  if (!modes || !vec_tensor(c, tensors, "input", &in, NULL) || !vec_tensor(c, tensors, "filter", &f, NULL) ||
      !vec_tensor(c, tensors, "bias", &b, &no_bias) || !vec_tensor(c, tensors, "output", &out, NULL))
    goto done;
  if (strcmp(in.dtype, "int8") || strcmp(f.dtype, "int8") || strcmp(out.dtype, "int8") ||
      (!no_bias && strcmp(b.dtype, "int32")) || in.ndim != 4 || f.ndim != 4 || out.ndim != 4) {
    vec_error(c, "int8 conv wants 4-D int8 input/filter/output and int32 bias%s%s", "", "");
    goto done;
  }
  int64_t sh_, sw_, dh, dw, zp_in, zp_out, amin, amax, pt, pl, groups = 1, dm = 1;
  double s_in, s_out;
  qk_padding pad;
  if (!vec_int(c, params, "stride_h", 1, 1 << 20, &sh_) || !vec_int(c, params, "stride_w", 1, 1 << 20, &sw_) ||
      !vec_int(c, params, "dilation_h", 1, 1 << 20, &dh) || !vec_int(c, params, "dilation_w", 1, 1 << 20, &dw) ||
      !vec_int(c, params, "input_zero_point", -128, 127, &zp_in) ||
      !vec_int(c, params, "output_zero_point", -128, 127, &zp_out) ||
      !vec_int(c, params, "activation_min", -128, 127, &amin) || !vec_int(c, params, "activation_max", -128, 127, &amax) ||
      !vec_int(c, params, "pad_top", 0, 1 << 20, &pt) || !vec_int(c, params, "pad_left", 0, 1 << 20, &pl) ||
      !vec_double(c, params, "input_scale", &s_in) || !vec_double(c, params, "output_scale", &s_out))
    goto done;
  if (!padding_of(params, &pad)) {
    vec_error(c, "padding must be SAME or VALID%s%s", "", "");
    goto done;
  }
  json_object *o;
  if (depthwise && !vec_int(c, params, "depth_multiplier", 1, 1 << 20, &dm)) goto done;
  const size_t C = (size_t)in.shape[3], O = (size_t)out.shape[3];
  if (!depthwise) {
    if (f.shape[3] <= 0 || C % (size_t)f.shape[3]) {
      vec_error(c, "filter input channels do not divide the input channels%s%s", "", "");
      goto done;
    }
    groups = (int64_t)(C / (size_t)f.shape[3]);
    if (json_object_object_get_ex(params, "groups", &o) && json_object_get_int64(o) != groups) {
      vec_error(c, "groups param disagrees with the filter shape%s%s", "", "");
      goto done;
    }
  }
  const size_t fo = depthwise ? (size_t)f.shape[3] : (size_t)f.shape[0];
  if (fo != O || (!no_bias && b.n != O) || (depthwise && f.shape[0] != 1)) {
    vec_error(c, "conv filter, bias and output channels disagree%s%s", "", "");
    goto done;
  }
  mult = malloc(O * sizeof *mult), shift = malloc(O * sizeof *shift);
  w = malloc(f.n), x = malloc(in.n), yref = malloc(out.n);
  if (!no_bias) bias = malloc(O * sizeof *bias);
  if (!mult || !shift || !w || !x || !yref || (!no_bias && !bias)) goto done;
  if (!vec_int_array(c, params, "output_multiplier", O, mult) || !vec_int_array(c, params, "output_shift", O, shift))
    goto done;
  for (size_t k = 0; k < f.n; k++) w[k] = (int8_t)f.i[k];
  for (size_t k = 0; k < in.n; k++) x[k] = (int8_t)in.i[k];
  for (size_t k = 0; !no_bias && k < O; k++) bias[k] = (int32_t)b.i[k];
  json_object *fs;
  if (!json_object_object_get_ex(params, "filter_scales", &fs) || !json_object_is_type(fs, json_type_array) ||
      (json_object_array_length(fs) != O && json_object_array_length(fs) != 1)) {
    vec_error(c, "filter_scales is missing or has the wrong length%s%s", "", "");
    goto done;
  }
  for (int mode = 0; mode < 2; mode++) {
    if (!(modes & (1 << mode))) continue;
    const qk_conv2d_int8_desc d = {
        .batch = (size_t)in.shape[0], .in_h = (size_t)in.shape[1], .in_w = (size_t)in.shape[2], .in_ch = C,
        .out_ch = O, .k_h = (size_t)f.shape[1], .k_w = (size_t)f.shape[2], .stride_h = (size_t)sh_,
        .stride_w = (size_t)sw_, .dilation_h = (size_t)dh, .dilation_w = (size_t)dw, .padding = pad,
        .groups = (size_t)groups, .depth_multiplier = (size_t)dm, .input_zp = (int32_t)zp_in,
        .output_zp = (int32_t)zp_out, .act_min = (int32_t)amin, .act_max = (int32_t)amax,
        .rounding = (qk_rounding)mode, .multiplier = mult, .shift = shift};
    qk_conv2d_geom g;
    if ((depthwise ? qk_dwconv2d_int8_check(&d, &g) : qk_conv2d_int8_check(&d, &g)) != QK_OK) {
      vec_error(c, "unsupported parameters: %s%s", qk_last_error(), "");
      goto done;
    }
    char detail[300] = "";
    bool ok = true;
    if (g.out_h != (size_t)out.shape[1] || g.out_w != (size_t)out.shape[2] || g.pad_top != (size_t)pt ||
        g.pad_left != (size_t)pl || (size_t)out.shape[0] != d.batch) {
      ok = false;
      snprintf(detail, sizeof detail, "geometry: derived out %zux%zu pad (%zu, %zu), file has %" PRId64 "x%" PRId64
               " pad (%" PRId64 ", %" PRId64 ")", g.out_h, g.out_w, g.pad_top, g.pad_left, out.shape[1], out.shape[2], pt, pl);
    }
    for (size_t oc = 0; oc < O && ok; oc++) {
      int32_t gm, gs;
      const float sw = (float)json_object_get_double(json_object_array_get_idx(fs, json_object_array_length(fs) == 1 ? 0 : oc));
      if (qk_multipliers_per_channel((float)s_in, &sw, 1, (float)s_out, (qk_rounding)mode, &gm, &gs) != QK_OK ||
          gm != mult[oc] || gs != shift[oc]) {
        ok = false;
        snprintf(detail, sizeof detail, "channel %zu: derived (%d, %d), file has (%d, %d)", oc, gm, gs, mult[oc], shift[oc]);
      }
    }
    if (ok) ok = vec_activation_matches(params, (float)s_out, (int32_t)zp_out, amin, amax, detail, sizeof detail);
    vec_result(vec_row(c, "params (geometry, multipliers, clamp)"), ok, id, detail);
    if (!ok) continue;
    if (depthwise) qk_ref_dwconv2d_int8(&d, &g, x, w, bias, yref);
    else qk_ref_conv2d_int8(&d, &g, x, w, bias, yref);
    ok = vec_compare_int8(yref, &out, detail, sizeof detail);
    vec_result(vec_row(c, "reference"), ok, id, detail);
    conv_ctx ctx = {&d, &g, w, x, bias, in.n, out.n, &out};
    vec_each_variant(c, depthwise ? QK_OP_DWCONV2D : QK_OP_CONV2D, QK_PATH_INT8, id, run_variant, &ctx);
  }
done:
  free(mult), free(shift), free(bias), free(w), free(x), free(yref);
  vec_tensor_free(&in), vec_tensor_free(&f), vec_tensor_free(&b), vec_tensor_free(&out);
}
