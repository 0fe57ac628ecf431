/* XNNPACK f32 and f16 operators for the network's layers, the peers of the per-op float rows
 * (bench/bench_float.c), on the weights of bench/net_float.c: convolution for the stem and the 1x1
 * convs, depthwise convolution (groups = channels, XNN_FLAG_DEPTHWISE_CONVOLUTION on the 1HWO
 * filter), fully connected, add, global average pooling. The f16 operators take binary16 weights
 * and bias (the f16w path's weights) and binary16 activations, and compute in binary16: a
 * different numerical contract from our f16w kernels (float32 activations and arithmetic), kept as
 * their peer because the weights are the same. Debian 12's XNNPACK: create + setup(batch,
 * pointers) + run, NULL threadpool. Without XNNPACK only the names are built. */
#include <math.h>
#include <stdio.h>

#include "qkb_paths.h"

const char *qkb_xnnf_peer_name(qkb_lkind k, bool f16) {
  switch (k) {
    case QKB_L_CONV: return f16 ? "xnnpack_f16_conv" : "xnnpack_f32_conv";
    case QKB_L_PW: return f16 ? "xnnpack_f16_conv1x1" : "xnnpack_f32_conv1x1";
    case QKB_L_DW: return f16 ? "xnnpack_f16_dwconv" : "xnnpack_f32_dwconv";
    case QKB_L_ADD: return f16 ? "xnnpack_f16_add" : "xnnpack_f32_add";
    case QKB_L_GAP: return f16 ? "xnnpack_f16_gap" : "xnnpack_f32_gap";
    case QKB_L_FC: return f16 ? "xnnpack_f16_fc" : "xnnpack_f32_fc";
    case QKB_L_COUNT: break;
  }
  return "?";
}

#if QKB_HAVE_XNNPACK
#include <xnnpack.h>

static void *done(xnn_operator_t op, enum xnn_status st, const char *what, char *err, size_t errlen) {
  if (st == xnn_status_success) return op;
  snprintf(err, errlen, "%s: %s", what, qkb_xnn_status_name(st));
  if (op) xnn_delete_operator(op);
  return NULL;
}

static void *conv(const qkb_layer *L, const qkb_netf_layer *F, bool f16, const void *x, void *y, char *err,
                  size_t errlen) {
  const qk_conv2d_f32_desc *d = &F->conv;
  const size_t need_h = (F->g.out_h - 1) * d->stride_h + d->k_h, need_w = (F->g.out_w - 1) * d->stride_w + d->k_w;
  const uint32_t top = (uint32_t)F->g.pad_top, left = (uint32_t)F->g.pad_left;
  const uint32_t bottom = (uint32_t)(need_h > d->in_h ? need_h - d->in_h - F->g.pad_top : 0);
  const uint32_t right = (uint32_t)(need_w > d->in_w ? need_w - d->in_w - F->g.pad_left : 0);
  const bool dw = L->kind == QKB_L_DW;
  const uint32_t groups = dw ? (uint32_t)d->in_ch : 1;
  const size_t gin = dw ? 1 : d->in_ch, gout = dw ? 1 : d->out_ch;
  const uint32_t flags = dw ? XNN_FLAG_DEPTHWISE_CONVOLUTION : 0;
  xnn_operator_t op = NULL;
  enum xnn_status st;
  if (f16) {
    st = xnn_create_convolution2d_nhwc_f16(top, right, bottom, left, (uint32_t)d->k_h, (uint32_t)d->k_w,
                                           (uint32_t)d->stride_h, (uint32_t)d->stride_w, 1, 1, groups, gin, gout,
                                           d->in_ch, d->out_ch, F->w16, F->bias16, F->act_min, F->act_max, flags, &op);
    if (st != xnn_status_success) return done(op, st, "xnn_create_convolution2d_nhwc_f16", err, errlen);
    st = xnn_setup_convolution2d_nhwc_f16(op, 1, d->in_h, d->in_w, x, y, NULL);
    return done(op, st, "xnn_setup_convolution2d_nhwc_f16", err, errlen);
  }
  st = xnn_create_convolution2d_nhwc_f32(top, right, bottom, left, (uint32_t)d->k_h, (uint32_t)d->k_w,
                                         (uint32_t)d->stride_h, (uint32_t)d->stride_w, 1, 1, groups, gin, gout,
                                         d->in_ch, d->out_ch, F->w32, F->bias, F->act_min, F->act_max, flags, &op);
  if (st != xnn_status_success) return done(op, st, "xnn_create_convolution2d_nhwc_f32", err, errlen);
  st = xnn_setup_convolution2d_nhwc_f32(op, 1, d->in_h, d->in_w, x, y, NULL);
  return done(op, st, "xnn_setup_convolution2d_nhwc_f32", err, errlen);
}

void *qkb_xnnf_layer_create(const qkb_net *net, int i, bool f16, const void *x, const void *x2, void *y, char *err,
                            size_t errlen) {
  if (!qkb_peers_init(err, errlen)) return NULL;
  const qkb_layer *L = &net->m->v[i];
  const qkb_netf_layer *F = qkb_netf_layer_get(net, i, err, errlen);
  if (!F) return NULL;
  xnn_operator_t op = NULL;
  enum xnn_status st;
  switch (L->kind) {
    case QKB_L_CONV:
    case QKB_L_PW:
    case QKB_L_DW:
      return conv(L, F, f16, x, y, err, errlen);
    case QKB_L_ADD: {
      const size_t shape[4] = {1, L->in_h, L->in_w, L->in_c};
      if (f16) {
        st = xnn_create_add_nd_f16(F->act_min, F->act_max, 0, &op);
        if (st != xnn_status_success) return done(op, st, "xnn_create_add_nd_f16", err, errlen);
        st = xnn_setup_add_nd_f16(op, 4, shape, 4, shape, x, x2, y, NULL);
        return done(op, st, "xnn_setup_add_nd_f16", err, errlen);
      }
      st = xnn_create_add_nd_f32(F->act_min, F->act_max, 0, &op);
      if (st != xnn_status_success) return done(op, st, "xnn_create_add_nd_f32", err, errlen);
      st = xnn_setup_add_nd_f32(op, 4, shape, 4, shape, x, x2, y, NULL);
      return done(op, st, "xnn_setup_add_nd_f32", err, errlen);
    }
    case QKB_L_GAP:
      if (f16) {
        st = xnn_create_global_average_pooling_nwc_f16(L->in_c, L->in_c, L->in_c, F->act_min, F->act_max, 0, &op);
        if (st != xnn_status_success) return done(op, st, "xnn_create_global_average_pooling_nwc_f16", err, errlen);
        st = xnn_setup_global_average_pooling_nwc_f16(op, 1, L->in_h * L->in_w, x, y, NULL);
        return done(op, st, "xnn_setup_global_average_pooling_nwc_f16", err, errlen);
      }
      st = xnn_create_global_average_pooling_nwc_f32(L->in_c, L->in_c, L->in_c, F->act_min, F->act_max, 0, &op);
      if (st != xnn_status_success) return done(op, st, "xnn_create_global_average_pooling_nwc_f32", err, errlen);
      st = xnn_setup_global_average_pooling_nwc_f32(op, 1, L->in_h * L->in_w, x, y, NULL);
      return done(op, st, "xnn_setup_global_average_pooling_nwc_f32", err, errlen);
    case QKB_L_FC:
      return qkb_xnnf_fc_create(net, i, f16, x, y, err, errlen);
    case QKB_L_COUNT:
      break;
  }
  snprintf(err, errlen, "%s: no XNNPACK operator for this layer kind", L->name);
  return NULL;
}

void *qkb_xnnf_fc_create(const qkb_net *net, int i, bool f16, const void *x, void *y, char *err, size_t errlen) {
  if (!qkb_peers_init(err, errlen)) return NULL;
  const qkb_layer *L = &net->m->v[i];
  const qkb_netf_layer *F = qkb_netf_layer_get(net, i, err, errlen);
  if (!F) return NULL;
  const size_t K = L->in_c, N = L->out_c, M = L->kind == QKB_L_FC ? L->in_h : L->out_h * L->out_w;
  xnn_operator_t op = NULL;
  enum xnn_status st;
  if (f16) {
    st = xnn_create_fully_connected_nc_f16(K, N, K, N, F->w16, F->bias16, F->act_min, F->act_max, 0, &op);
    if (st != xnn_status_success) return done(op, st, "xnn_create_fully_connected_nc_f16", err, errlen);
    st = xnn_setup_fully_connected_nc_f16(op, M, x, y, NULL);
    return done(op, st, "xnn_setup_fully_connected_nc_f16", err, errlen);
  }
  st = xnn_create_fully_connected_nc_f32(K, N, K, N, F->w32, F->bias, F->act_min, F->act_max, 0, &op);
  if (st != xnn_status_success) return done(op, st, "xnn_create_fully_connected_nc_f32", err, errlen);
  st = xnn_setup_fully_connected_nc_f32(op, M, x, y, NULL);
  return done(op, st, "xnn_setup_fully_connected_nc_f32", err, errlen);
}

const char *qkb_xnnf_f16_unsupported(char *buf, size_t n) {
  char err[256];
  if (!qkb_peers_init(err, sizeof err)) {
    snprintf(buf, n, "skipped: %s", err);
    return buf;
  }
  /* XNNPACK decides f16 support once at initialization (XNN_INIT_FLAG_F16); a 1x1 operator asks. */
  const uint16_t w = 0x3C00, b = 0;
  xnn_operator_t op = NULL;
  const enum xnn_status st = xnn_create_fully_connected_nc_f16(1, 1, 1, 1, &w, &b, -INFINITY, INFINITY, 0, &op);
  if (op) xnn_delete_operator(op);
  if (st == xnn_status_success) return NULL;
  snprintf(buf, n, "skipped: XNNPACK f16 operators: xnn_create_fully_connected_nc_f16: %s", qkb_xnn_status_name(st));
  return buf;
}
#endif
