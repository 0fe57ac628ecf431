/* XNNPACK peers, timed on the same shapes and data as our variants. Debian 12's XNNPACK
 * (git 2022-02-16) has the operator API of that time: xnn_create_* packs the weights,
 * xnn_setup_*(op, batch, input, output, threadpool) binds shapes and buffers, xnn_run_operator runs
 * (the later reshape/setup split does not exist yet). A NULL threadpool runs on the calling thread:
 * single-threaded, like our variants.
 *
 * qs8 fully connected takes one weight scale per tensor (the mean of the per-channel scales);
 * qc8 convolution takes one per output channel, so its requantization matches our per-channel
 * variants. The data, zero points and clamps are the workload's. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <xnnpack.h>

#include "qkb_build.h"
#include "qkb_internal.h"

_Static_assert(XNN_EXTRA_BYTES <= 64, "the workload's input slack must cover XNN_EXTRA_BYTES");

static const char *status_name(enum xnn_status s) {
  switch (s) {
    case xnn_status_success: return "success";
    case xnn_status_uninitialized: return "uninitialized";
    case xnn_status_invalid_parameter: return "invalid parameter";
    case xnn_status_invalid_state: return "invalid state";
    case xnn_status_unsupported_parameter: return "unsupported parameter";
    case xnn_status_unsupported_hardware: return "unsupported hardware";
    case xnn_status_out_of_memory: return "out of memory";
  }
  return "unknown status";
}

const char *qkb_xnn_status_name(int s) { return status_name((enum xnn_status)s); }

static void say(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

static enum xnn_status init_status = xnn_status_uninitialized;
static bool init_done;

bool qkb_peers_init(char *err, size_t errlen) {
  if (!init_done) {
    init_status = xnn_initialize(NULL);
    init_done = true;
  }
  if (init_status != xnn_status_success) {
    say(err, errlen, "xnn_initialize failed: %s", status_name(init_status));
    return false;
  }
  return true;
}

const char *qkb_peers_describe(void) {
  return "XNNPACK " QKB_XNNPACK_VERSION ", operator API create + setup(batch) + run, NULL threadpool "
         "(1 thread); qs8 FC per-tensor scale, qc8 1x1 conv per-channel scales";
}

static int8_t clamp_i8(int32_t v) { return (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v); }

void *qkb_peer_create(qkb_peer p, const qkb_workload *wl, char *err, size_t errlen) {
  if (!qkb_peers_init(err, errlen)) return NULL;
  const qkb_shape *s = wl->shape;
  const qk_fc_int8_desc *d = &wl->desc;
  xnn_operator_t op = NULL;
  enum xnn_status st;
  const char *what;
  if (p == QKB_PEER_XNN_QS8_FC) {
    what = "xnn_create_fully_connected_nc_qs8";
    st = xnn_create_fully_connected_nc_qs8(s->k, s->n, s->k, s->n, (int8_t)d->input_zp, wl->s_in,
                                           wl->s_w_tensor, wl->w, wl->bias, (int8_t)d->output_zp,
                                           wl->s_out, clamp_i8(d->act_min), clamp_i8(d->act_max), 0, &op);
    if (st == xnn_status_success) {
      what = "xnn_setup_fully_connected_nc_qs8";
      st = xnn_setup_fully_connected_nc_qs8(op, s->m, wl->x, wl->y, NULL);
    }
  } else if (p == QKB_PEER_XNN_QC8_CONV1X1) {
    what = "xnn_create_convolution2d_nhwc_qc8";
    /* 1x1 kernel, stride 1, no padding or dilation, one group: the GEMM M = H*W. Filter layout
     * [out_ch][kh][kw][in_ch] is our [N][K]. */
    st = xnn_create_convolution2d_nhwc_qc8(0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, s->k, s->n, s->k, s->n,
                                           (int8_t)d->input_zp, wl->s_in, wl->s_w, wl->w, wl->bias,
                                           (int8_t)d->output_zp, wl->s_out, clamp_i8(d->act_min),
                                           clamp_i8(d->act_max), 0, &op);
    if (st == xnn_status_success) {
      what = "xnn_setup_convolution2d_nhwc_qc8";
      st = xnn_setup_convolution2d_nhwc_qc8(op, 1, s->h, s->w, wl->x, wl->y, NULL);
    }
  } else {
    say(err, errlen, "unknown peer %d", (int)p);
    return NULL;
  }
  if (st != xnn_status_success) {
    say(err, errlen, "%s: %s", what, status_name(st));
    if (op) xnn_delete_operator(op);
    return NULL;
  }
  return op;
}

bool qkb_peer_run(void *op, char *err, size_t errlen) {
  const enum xnn_status st = xnn_run_operator((xnn_operator_t)op, NULL);
  if (st != xnn_status_success) {
    say(err, errlen, "xnn_run_operator: %s", status_name(st));
    return false;
  }
  return true;
}

void qkb_peer_destroy(void *op) {
  if (op) xnn_delete_operator((xnn_operator_t)op);
}
