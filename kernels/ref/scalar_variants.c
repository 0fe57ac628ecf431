/* The reference kernels registered as scalar variants: their "packing" keeps the descriptor's
 * arrays and the raw weights, so they obey the same self-contained-buffer contract as SIMD ones. */
#include <string.h>

#include "qk/registry.h"
#include "internal.h"
#include "variants.h"

static size_t conv_weights(const qk_conv2d_int8_desc *d, bool dw) {
  return dw ? d->k_h * d->k_w * d->out_ch : d->out_ch * d->k_h * d->k_w * (d->in_ch / d->groups);
}

static size_t ref_conv_packed_size(const qk_conv2d_int8_desc *d, bool dw) {
  return 64 + 3 * d->out_ch * sizeof(int32_t) + conv_weights(d, dw);
}

static void ref_conv_pack(const qk_conv2d_int8_desc *d, const int8_t *w, const int32_t *bias, void *packed, bool dw) {
  const size_t n = d->out_ch;
  int *has_bias = packed;
  *has_bias = bias != NULL;
  int32_t *arr = (int32_t *)((char *)packed + 64);
  if (bias) memcpy(arr, bias, n * sizeof *arr);
  else memset(arr, 0, n * sizeof *arr);
  memcpy(arr + n, d->multiplier, n * sizeof *arr);
  memcpy(arr + 2 * n, d->shift, n * sizeof *arr);
  memcpy(arr + 3 * n, w, conv_weights(d, dw));
}

static void ref_conv_run(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g, const void *packed, const int8_t *x,
                         int8_t *y, bool dw) {
  const size_t n = d->out_ch;
  const int32_t *arr = (const int32_t *)((const char *)packed + 64);
  qk_conv2d_int8_desc local = *d;
  local.multiplier = arr + n;
  local.shift = arr + 2 * n;
  const int32_t *bias = *(const int *)packed ? arr : NULL;
  if (dw) qk_ref_dwconv2d_int8(&local, g, x, (const int8_t *)(arr + 3 * n), bias, y);
  else qk_ref_conv2d_int8(&local, g, x, (const int8_t *)(arr + 3 * n), bias, y);
}

size_t qk_int8_conv2d__scalar_packed_size(const qk_conv2d_int8_desc *d) { return ref_conv_packed_size(d, false); }
void qk_int8_conv2d__scalar_pack(const qk_conv2d_int8_desc *d, const int8_t *w, const int32_t *bias, void *packed) {
  ref_conv_pack(d, w, bias, packed, false);
}
size_t qk_int8_conv2d__scalar_workspace_size(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g) {
  (void)d, (void)g;
  return 0;
}
void qk_int8_conv2d__scalar_run(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g, const void *packed,
                                const int8_t *x, int8_t *y, void *ws) {
  (void)ws;
  ref_conv_run(d, g, packed, x, y, false);
}

size_t qk_int8_dwconv2d__scalar_packed_size(const qk_conv2d_int8_desc *d) { return ref_conv_packed_size(d, true); }
void qk_int8_dwconv2d__scalar_pack(const qk_conv2d_int8_desc *d, const int8_t *w, const int32_t *bias, void *packed) {
  ref_conv_pack(d, w, bias, packed, true);
}
size_t qk_int8_dwconv2d__scalar_workspace_size(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g) {
  (void)d, (void)g;
  return 0;
}
void qk_int8_dwconv2d__scalar_run(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g, const void *packed,
                                  const int8_t *x, int8_t *y, void *ws) {
  (void)ws;
  ref_conv_run(d, g, packed, x, y, true);
}

void qk_int8_add__scalar_run(const qk_add_int8_params *p, const size_t s1[4], const int8_t *x1, const size_t s2[4],
                             const int8_t *x2, int8_t *y) {
  qk_ref_add_int8(p, s1, x1, s2, x2, y);
}
void qk_int8_mul__scalar_run(const qk_mul_int8_params *p, const size_t s1[4], const int8_t *x1, const size_t s2[4],
                             const int8_t *x2, int8_t *y) {
  qk_ref_mul_int8(p, s1, x1, s2, x2, y);
}
void qk_int8_avgpool__scalar_run(const qk_pool_int8_desc *d, const qk_conv2d_geom *g, const int8_t *x, int8_t *y) {
  qk_ref_avgpool_int8(d, g, x, y);
}
void qk_int8_maxpool__scalar_run(const qk_pool_int8_desc *d, const qk_conv2d_geom *g, const int8_t *x, int8_t *y) {
  qk_ref_maxpool_int8(d, g, x, y);
}
void qk_int8_quantize__scalar_run(const float *x, size_t n, float scale, int32_t zp, qk_qtype type, void *y) {
  qk_ref_quantize(x, n, scale, zp, type, y);
}
void qk_int8_dequantize__scalar_run(const void *x, size_t n, qk_qtype type, float scale, int32_t zp, float *y) {
  qk_ref_dequantize(x, n, type, scale, zp, y);
}
void qk_int8_requantize__scalar_run(const qk_requant_params *p, const void *x, size_t n, void *y) {
  qk_ref_requantize(p, x, n, y);
}

/* 16x8 reference variants. */
typedef struct i16_packed {
  size_t n, k, nw;
  int has_bias;
} i16_packed;

static size_t i16_size(size_t n, size_t nw) { return 64 + n * sizeof(int64_t) + 2 * n * sizeof(int32_t) + nw; }

static void i16_pack(size_t n, size_t nw, const int32_t *m, const int32_t *s, const int8_t *w, const int64_t *bias,
                     void *packed) {
  i16_packed *h = packed;
  h->n = n, h->nw = nw, h->has_bias = bias != NULL;
  int64_t *b = (int64_t *)((char *)packed + 64);
  if (bias) memcpy(b, bias, n * sizeof *b);
  else memset(b, 0, n * sizeof *b);
  int32_t *ms = (int32_t *)(b + n);
  memcpy(ms, m, n * sizeof *ms);
  memcpy(ms + n, s, n * sizeof *ms);
  memcpy(ms + 2 * n, w, nw);
}

static const int64_t *i16_bias(const void *packed) {
  return ((const i16_packed *)packed)->has_bias ? (const int64_t *)((const char *)packed + 64) : NULL;
}
static const int32_t *i16_arrays(const void *packed) {
  return (const int32_t *)((const int64_t *)((const char *)packed + 64) + ((const i16_packed *)packed)->n);
}

size_t qk_i16x8_fc_1x1c1__scalar_packed_size(size_t n, size_t k) { return i16_size(n, n * k); }
void qk_i16x8_fc_1x1c1__scalar_pack(const qk_fc_i16x8_desc *d, const int8_t *w, const int64_t *bias, void *packed) {
  i16_pack(d->out_ch, d->out_ch * d->in_ch, d->multiplier, d->shift, w, bias, packed);
}
void qk_i16x8_fc_1x1c1__scalar_run(const qk_fc_i16x8_desc *d, const void *packed, size_t batch, const int16_t *x,
                                   int16_t *y) {
  const int32_t *a = i16_arrays(packed);
  qk_fc_i16x8_desc local = *d;
  local.multiplier = a, local.shift = a + d->out_ch;
  qk_ref_fc_i16x8(&local, (const int8_t *)(a + 2 * d->out_ch), i16_bias(packed), batch, x, y);
}

#define QK_I16_CONV_SCALAR(name, dw, ref)                                                                     \
  size_t name##_packed_size(const qk_conv2d_int8_desc *d) { return i16_size(d->out_ch, conv_weights(d, dw)); } \
  void name##_pack(const qk_conv2d_int8_desc *d, const int8_t *w, const int64_t *bias, void *packed) {         \
    i16_pack(d->out_ch, conv_weights(d, dw), d->multiplier, d->shift, w, bias, packed);                        \
  }                                                                                                            \
  size_t name##_workspace_size(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g) {                        \
    (void)d, (void)g;                                                                                          \
    return 0;                                                                                                  \
  }                                                                                                            \
  void name##_run(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g, const void *packed, const int16_t *x, \
                  int16_t *y, void *ws) {                                                                      \
    (void)ws;                                                                                                  \
    const int32_t *a = i16_arrays(packed);                                                                     \
    qk_conv2d_int8_desc local = *d;                                                                            \
    local.multiplier = a, local.shift = a + d->out_ch;                                                         \
    ref(&local, g, x, (const int8_t *)(a + 2 * d->out_ch), i16_bias(packed), y);                              \
  }
QK_I16_CONV_SCALAR(qk_i16x8_conv2d__scalar, false, qk_ref_conv2d_i16x8)
QK_I16_CONV_SCALAR(qk_i16x8_dwconv2d__scalar, true, qk_ref_dwconv2d_i16x8)

void qk_i16x8_add__scalar_run(const qk_add_int8_params *p, const size_t s1[4], const int16_t *x1, const size_t s2[4],
                              const int16_t *x2, int16_t *y) {
  qk_ref_add_i16(p, s1, x1, s2, x2, y);
}
void qk_i16x8_add_pot__scalar_run(const qk_add_i16_pot_params *p, size_t n, const int16_t *x1, const int16_t *x2,
                                  int16_t *y) {
  qk_ref_add_i16_pot(p, n, x1, x2, y);
}
void qk_i16x8_quantize__scalar_run(const float *x, size_t n, float scale, int32_t zp, qk_qtype type, void *y) {
  qk_ref_quantize(x, n, scale, zp, type, y);
}
void qk_i16x8_dequantize__scalar_run(const void *x, size_t n, qk_qtype type, float scale, int32_t zp, float *y) {
  qk_ref_dequantize(x, n, type, scale, zp, y);
}
void qk_i16x8_requantize__scalar_run(const qk_requant_params *p, const void *x, size_t n, void *y) {
  qk_ref_requantize(p, x, n, y);
}
