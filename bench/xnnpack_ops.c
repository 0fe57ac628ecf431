/* XNNPACK operators for the network's layers, on the layer's own weights and quantization: qc8
 * convolution (stem, 1x1; depthwise as groups = channels, one input channel per group, filter in
 * TFLite's 1HWO order via XNN_FLAG_DEPTHWISE_CONVOLUTION), qs8 add, qs8 global average pooling,
 * qs8 fully connected (per-tensor weight scale, as the network's classifier), and the f32 <-> qs8
 * converts. Debian 12's XNNPACK: create + setup(batch, pointers) + run, NULL threadpool. */
#include <stdarg.h>
#include <stdio.h>

#include <xnnpack.h>

#include "qkb_model.h"

static void say(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

static int8_t i8(int32_t v) { return (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v); }

static void *done(xnn_operator_t op, enum xnn_status st, const char *what, char *err, size_t errlen) {
  if (st == xnn_status_success) return op;
  say(err, errlen, "%s: %s", what, qkb_xnn_status_name(st));
  if (op) xnn_delete_operator(op);
  return NULL;
}

void *qkb_xnn_layer_create(const qkb_net *net, int i, const int8_t *x, const int8_t *x2, int8_t *y, char *err,
                           size_t errlen) {
  if (!qkb_peers_init(err, errlen)) return NULL;
  const qkb_layer *L = &net->m->v[i];
  const qkb_net_layer *N = &net->l[i];
  xnn_operator_t op = NULL;
  enum xnn_status st = xnn_status_success;
  switch (L->kind) {
    case QKB_L_CONV:
    case QKB_L_PW:
    case QKB_L_DW: {
      const qk_conv2d_int8_desc *d = &N->conv;
      qk_conv2d_geom g;
      if ((L->kind == QKB_L_DW ? qk_dwconv2d_int8_check : qk_conv2d_int8_check)(d, &g) != QK_OK) {
        say(err, errlen, "%s: %s", L->name, qk_last_error());
        return NULL;
      }
      const size_t need_h = (g.out_h - 1) * d->stride_h + d->k_h, need_w = (g.out_w - 1) * d->stride_w + d->k_w;
      const uint32_t top = (uint32_t)g.pad_top, left = (uint32_t)g.pad_left;
      const uint32_t bottom = (uint32_t)(need_h > d->in_h ? need_h - d->in_h - g.pad_top : 0);
      const uint32_t right = (uint32_t)(need_w > d->in_w ? need_w - d->in_w - g.pad_left : 0);
      const bool dw = L->kind == QKB_L_DW;
      st = xnn_create_convolution2d_nhwc_qc8(
          top, right, bottom, left, (uint32_t)d->k_h, (uint32_t)d->k_w, (uint32_t)d->stride_h, (uint32_t)d->stride_w,
          1, 1, dw ? (uint32_t)d->in_ch : 1, dw ? 1 : d->in_ch, dw ? 1 : d->out_ch, d->in_ch, d->out_ch,
          i8(d->input_zp), N->s_in, N->s_w, N->w, N->bias, i8(d->output_zp), N->s_out, i8(d->act_min),
          i8(d->act_max), dw ? XNN_FLAG_DEPTHWISE_CONVOLUTION : 0, &op);
      if (st != xnn_status_success) return done(op, st, "xnn_create_convolution2d_nhwc_qc8", err, errlen);
      st = xnn_setup_convolution2d_nhwc_qc8(op, 1, d->in_h, d->in_w, x, y, NULL);
      return done(op, st, "xnn_setup_convolution2d_nhwc_qc8", err, errlen);
    }
    case QKB_L_ADD: {
      const qk_add_int8_params *p = &N->add;
      st = xnn_create_add_nd_qs8(i8(p->input1_zp), N->s_in, i8(p->input2_zp), N->s_in2, i8(p->output_zp), N->s_out,
                                 i8(p->act_min), i8(p->act_max), 0, &op);
      if (st != xnn_status_success) return done(op, st, "xnn_create_add_nd_qs8", err, errlen);
      const size_t shape[4] = {1, L->in_h, L->in_w, L->in_c};
      st = xnn_setup_add_nd_qs8(op, 4, shape, 4, shape, x, x2, y, NULL);
      return done(op, st, "xnn_setup_add_nd_qs8", err, errlen);
    }
    case QKB_L_GAP:
      st = xnn_create_global_average_pooling_nwc_qs8(L->in_c, L->in_c, L->in_c, i8(N->zp_in), N->s_in,
                                                     i8(N->zp_out), N->s_out, i8(N->pool.act_min),
                                                     i8(N->pool.act_max), 0, &op);
      if (st != xnn_status_success) return done(op, st, "xnn_create_global_average_pooling_nwc_qs8", err, errlen);
      st = xnn_setup_global_average_pooling_nwc_qs8(op, 1, L->in_h * L->in_w, x, y, NULL);
      return done(op, st, "xnn_setup_global_average_pooling_nwc_qs8", err, errlen);
    case QKB_L_FC: {
      const qk_fc_int8_desc *d = &N->fc;
      st = xnn_create_fully_connected_nc_qs8(d->in_ch, d->out_ch, d->in_ch, d->out_ch, i8(d->input_zp), N->s_in,
                                             N->s_w[0], N->w, N->bias, i8(d->output_zp), N->s_out, i8(d->act_min),
                                             i8(d->act_max), 0, &op);
      if (st != xnn_status_success) return done(op, st, "xnn_create_fully_connected_nc_qs8", err, errlen);
      st = xnn_setup_fully_connected_nc_qs8(op, 1, x, y, NULL);
      return done(op, st, "xnn_setup_fully_connected_nc_qs8", err, errlen);
    }
    case QKB_L_COUNT: break;
  }
  say(err, errlen, "%s: no XNNPACK operator for this layer kind", L->name);
  return NULL;
}

void *qkb_xnn_quantize_create(size_t n, float scale, int32_t zp, const float *x, int8_t *y, char *err,
                              size_t errlen) {
  if (!qkb_peers_init(err, errlen)) return NULL;
  xnn_operator_t op = NULL;
  enum xnn_status st = xnn_create_convert_nc_f32_qs8(n, n, n, scale, i8(zp), -128, 127, 0, &op);
  if (st != xnn_status_success) return done(op, st, "xnn_create_convert_nc_f32_qs8", err, errlen);
  st = xnn_setup_convert_nc_f32_qs8(op, 1, x, y, NULL);
  return done(op, st, "xnn_setup_convert_nc_f32_qs8", err, errlen);
}

void *qkb_xnn_dequantize_create(size_t n, float scale, int32_t zp, const int8_t *x, float *y, char *err,
                                size_t errlen) {
  if (!qkb_peers_init(err, errlen)) return NULL;
  xnn_operator_t op = NULL;
  enum xnn_status st = xnn_create_convert_nc_qs8_f32(n, n, n, scale, i8(zp), 0, &op);
  if (st != xnn_status_success) return done(op, st, "xnn_create_convert_nc_qs8_f32", err, errlen);
  st = xnn_setup_convert_nc_qs8_f32(op, 1, x, y, NULL);
  return done(op, st, "xnn_setup_convert_nc_qs8_f32", err, errlen);
}
