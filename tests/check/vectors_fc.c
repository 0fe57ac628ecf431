/* Golden vectors: int8 fully connected (per-channel and per-tensor). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "vec.h"

typedef struct fc_ctx {
  const qk_fc_int8_desc *d;
  const int8_t *w, *x;
  const int32_t *bias;
  size_t batch, nx, ny;
  const tensor *out;
} fc_ctx;

static bool run_variant(const qk_variant *v, void *p, char *detail, size_t dlen) {
  const fc_ctx *c = p;
  const qk_fc_int8_impl *impl = v->impl;
  const size_t psize = (impl->packed_size(c->d->out_ch, c->d->in_ch) + 63) & ~(size_t)63;
  void *packed = qkc_guard_alloc(psize, 64);
  int8_t *gx = qkc_guard_alloc(c->nx, 1), *gy = qkc_guard_alloc(c->ny, 1);
  bool ok = false;
  if (!packed || !gx || !gy) {
    snprintf(detail, dlen, "out of memory");
  } else {
    memcpy(gx, c->x, c->nx);
    impl->pack(c->d, c->w, c->bias, packed);
    impl->run(c->d, packed, c->batch, gx, gy);
    ok = vec_compare_int8(gy, c->out, detail, dlen);
    if (ok && (!qkc_guard_intact(gy) || !qkc_guard_intact(packed))) {
      ok = false;
      snprintf(detail, dlen, "wrote before the start of a buffer");
    }
  }
  qkc_guard_free(packed), qkc_guard_free(gx), qkc_guard_free(gy);
  return ok;
}

void vec_run_fc_int8(file_ctx *c, json_object *line, json_object *params, json_object *tensors, const char *id) {
  const int modes = vec_rounding_modes(c, line);
  tensor in = {0}, f = {0}, b = {0}, out = {0};
  bool no_bias = false;
  int32_t *mult = NULL, *shift = NULL, *bias = NULL;
  int8_t *w = NULL, *x = NULL, *yref = NULL;
  if (!modes || !vec_tensor(c, tensors, "input", &in, NULL) || !vec_tensor(c, tensors, "filter", &f, NULL) ||
      !vec_tensor(c, tensors, "bias", &b, &no_bias) || !vec_tensor(c, tensors, "output", &out, NULL))
    goto done;
  if (strcmp(in.dtype, "int8") || strcmp(f.dtype, "int8") || strcmp(out.dtype, "int8") ||
      (!no_bias && strcmp(b.dtype, "int32")) || f.ndim != 2) {
    vec_error(c, "int8 fully_connected wants int8 input/filter/output, int32 bias and a 2-D filter%s%s", "", "");
    goto done;
  }
  const size_t O = (size_t)f.shape[0], D = (size_t)f.shape[1];
  if (O == 0 || D == 0 || out.n % O || in.n != out.n / O * D || (!no_bias && b.n != O)) {
    vec_error(c, "fully_connected tensor shapes disagree%s%s", "", "");
    goto done;
  }
  const size_t B = out.n / O;
  int64_t zp_in, zp_out, amin, amax;
  double s_in, s_out;
  if (!vec_int(c, params, "input_zero_point", -128, 127, &zp_in) ||
      !vec_int(c, params, "output_zero_point", -128, 127, &zp_out) ||
      !vec_int(c, params, "activation_min", -128, 127, &amin) ||
      !vec_int(c, params, "activation_max", -128, 127, &amax) || !vec_double(c, params, "input_scale", &s_in) ||
      !vec_double(c, params, "output_scale", &s_out))
    goto done;
  mult = malloc(O * sizeof *mult), shift = malloc(O * sizeof *shift);
  w = malloc(O * D), x = malloc(in.n), yref = malloc(out.n);
  if (!no_bias) bias = malloc(O * sizeof *bias);
  if (!mult || !shift || !w || !x || !yref || (!no_bias && !bias)) goto done;
  if (!vec_int_array(c, params, "output_multiplier", O, mult) || !vec_int_array(c, params, "output_shift", O, shift))
    goto done;
  for (size_t k = 0; k < O * D; k++) w[k] = (int8_t)f.i[k];
  for (size_t k = 0; k < in.n; k++) x[k] = (int8_t)in.i[k];
  for (size_t k = 0; !no_bias && k < O; k++) bias[k] = (int32_t)b.i[k];
  json_object *pc, *fs, *fz;
  const bool per_channel = json_object_object_get_ex(params, "per_channel", &pc) && json_object_get_boolean(pc);
  if (json_object_object_get_ex(params, "filter_zero_point", &fz) && json_object_get_int64(fz) != 0) {
    vec_error(c, "filter_zero_point must be 0 (symmetric weights)%s%s", "", "");
    goto done;
  }
  if (!json_object_object_get_ex(params, "filter_scales", &fs) || !json_object_is_type(fs, json_type_array) ||
      json_object_array_length(fs) == 0 || (per_channel && json_object_array_length(fs) != O)) {
    vec_error(c, "filter_scales is missing or has the wrong length%s%s", "", "");
    goto done;
  }

  for (int mode = 0; mode < 2; mode++) {
    if (!(modes & (1 << mode))) continue;
    const qk_fc_int8_desc d = {.in_ch = D, .out_ch = O, .input_zp = (int32_t)zp_in, .output_zp = (int32_t)zp_out,
                               .act_min = (int32_t)amin, .act_max = (int32_t)amax, .rounding = (qk_rounding)mode,
                               .multiplier = mult, .shift = shift};
    if (qk_fc_int8_check(&d) != QK_OK) {
      vec_error(c, "unsupported parameters: %s%s", qk_last_error(), "");
      goto done;
    }
    /* Our own derivation from the float scales must reproduce TFLite's integers. */
    char detail[300] = "";
    bool ok = true;
    for (size_t o = 0; o < O && ok; o++) {
      int32_t gm, gs;
      const bool one_scale = json_object_array_length(fs) == 1; /* per-tensor rule, as for 16x8 */
      const float sw = (float)json_object_get_double(json_object_array_get_idx(fs, one_scale ? 0 : o));
      const qk_status st = per_channel && !one_scale
                               ? qk_multipliers_per_channel((float)s_in, &sw, 1, (float)s_out, (qk_rounding)mode, &gm, &gs)
                               : qk_multiplier_per_tensor_fc((float)s_in, sw, (float)s_out, (qk_rounding)mode, &gm, &gs);
      if (st != QK_OK || gm != mult[o] || gs != shift[o]) {
        ok = false;
        snprintf(detail, sizeof detail, "channel %zu: derived (%d, %d), file has (%d, %d)", o, gm, gs, mult[o], shift[o]);
      }
    }
    if (ok) ok = vec_activation_matches(params, (float)s_out, (int32_t)zp_out, amin, amax, detail, sizeof detail);
    vec_result(vec_row(c, "params (multipliers, clamp)"), ok, id, detail);

    qk_ref_fc_int8(&d, w, bias, B, x, yref);
    ok = vec_compare_int8(yref, &out, detail, sizeof detail);
    vec_result(vec_row(c, "reference"), ok, id, detail);

    fc_ctx ctx = {&d, w, x, bias, B, in.n, out.n, &out};
    vec_each_variant(c, QK_OP_FC, QK_PATH_INT8, id, run_variant, &ctx);
  }
done:
  free(mult), free(shift), free(bias), free(w), free(x), free(yref);
  vec_tensor_free(&in), vec_tensor_free(&f), vec_tensor_free(&b), vec_tensor_free(&out);
}
