/* The float references registered as scalar variants. The f16w ones widen the binary16 weights at
 * packing time and then run exactly the f32 reference, which is what makes them bit-identical to
 * the f32 scalar variant on pre-widened weights. */
#include <string.h>

#include "qk/registry.h"
#include "internal.h"
#include "variants.h"

typedef struct fpack {
  size_t n, nw;
  int has_bias;
} fpack;

static size_t fsize(size_t n, size_t nw) { return 64 + (n + nw) * sizeof(float); }

static void fpack_store(size_t n, size_t nw, const void *w, bool half, const float *bias, void *packed) {
  fpack *h = packed;
  h->n = n, h->nw = nw, h->has_bias = bias != NULL;
  float *b = (float *)((char *)packed + 64), *wf = b + n;
  if (bias) memcpy(b, bias, n * sizeof *b);
  else memset(b, 0, n * sizeof *b);
  if (half) qk_ref_f16_to_f32(w, nw, wf);
  else memcpy(wf, w, nw * sizeof *wf);
}

static const float *fbias(const void *p) { return ((const fpack *)p)->has_bias ? (const float *)((const char *)p + 64) : NULL; }
static const float *fweights(const void *p) { return (const float *)((const char *)p + 64) + ((const fpack *)p)->n; }

static size_t conv_nw(const qk_conv2d_f32_desc *d, bool dw) {
  return dw ? d->k_h * d->k_w * d->out_ch : d->out_ch * d->k_h * d->k_w * (d->in_ch / d->groups);
}

#define FC_FLOAT(name, half)                                                                         \
  size_t name##_packed_size(size_t n, size_t k) { return fsize(n, n * k); }                          \
  void name##_pack(const qk_fc_f32_desc *d, const void *w, const float *bias, void *packed) {        \
    fpack_store(d->out_ch, d->out_ch * d->in_ch, w, half, bias, packed);                             \
  }                                                                                                  \
  void name##_run(const qk_fc_f32_desc *d, const void *packed, size_t batch, const float *x, float *y) { \
    qk_ref_fc_f32(d, fweights(packed), fbias(packed), batch, x, y);                                  \
  }
FC_FLOAT(qk_f32_fc_1x1c1__scalar, false)
FC_FLOAT(qk_f16w_fc_1x1c1__scalar, true)

#define CONV_FLOAT(name, half, dw, ref)                                                                      \
  size_t name##_packed_size(const qk_conv2d_f32_desc *d) { return fsize(d->out_ch, conv_nw(d, dw)); }       \
  void name##_pack(const qk_conv2d_f32_desc *d, const void *w, const float *bias, void *packed) {           \
    fpack_store(d->out_ch, conv_nw(d, dw), w, half, bias, packed);                                          \
  }                                                                                                         \
  size_t name##_workspace_size(const qk_conv2d_f32_desc *d, const qk_conv2d_geom *g) {                      \
    (void)d, (void)g;                                                                                       \
    return 0;                                                                                               \
  }                                                                                                         \
  void name##_run(const qk_conv2d_f32_desc *d, const qk_conv2d_geom *g, const void *packed, const float *x, \
                  float *y, void *ws) {                                                                     \
    (void)ws;                                                                                               \
    ref(d, g, x, fweights(packed), fbias(packed), y);                                                       \
  }
CONV_FLOAT(qk_f32_conv2d__scalar, false, false, qk_ref_conv2d_f32)
CONV_FLOAT(qk_f16w_conv2d__scalar, true, false, qk_ref_conv2d_f32)
CONV_FLOAT(qk_f32_dwconv2d__scalar, false, true, qk_ref_dwconv2d_f32)
CONV_FLOAT(qk_f16w_dwconv2d__scalar, true, true, qk_ref_dwconv2d_f32)

void qk_f32_add__scalar_run(const qk_add_f32_params *p, const size_t s1[4], const float *x1, const size_t s2[4],
                            const float *x2, float *y) {
  qk_ref_add_f32(p, s1, x1, s2, x2, y);
}
void qk_f32_avgpool__scalar_run(const qk_pool_f32_desc *d, const qk_conv2d_geom *g, const float *x, float *y) {
  qk_ref_avgpool_f32(d, g, x, y);
}
void qk_f16w_quantize__scalar_run(const float *x, size_t n, uint16_t *y) { qk_ref_f32_to_f16(x, n, y); }
void qk_f16w_dequantize__scalar_run(const uint16_t *x, size_t n, float *y) { qk_ref_f16_to_f32(x, n, y); }

/* Dynamic: int8 weights, float bias and scales, kept as given. */
typedef struct dpack {
  size_t n, nw;
  int has_bias;
} dpack;

static size_t dsize(size_t n, size_t nw) { return 64 + 2 * n * sizeof(float) + nw; }

static void dpack_store(size_t n, size_t nw, const int8_t *w, const float *scale, const float *bias, void *packed) {
  dpack *h = packed;
  h->n = n, h->nw = nw, h->has_bias = bias != NULL;
  float *b = (float *)((char *)packed + 64);
  if (bias) memcpy(b, bias, n * sizeof *b);
  else memset(b, 0, n * sizeof *b);
  memcpy(b + n, scale, n * sizeof *b);
  memcpy(b + 2 * n, w, nw);
}

static const float *dbias(const void *p) { return ((const dpack *)p)->has_bias ? (const float *)((const char *)p + 64) : NULL; }
static const float *dscale(const void *p) { return (const float *)((const char *)p + 64) + ((const dpack *)p)->n; }
static const int8_t *dweights(const void *p) { return (const int8_t *)(dscale(p) + ((const dpack *)p)->n); }

size_t qk_dynamic_fc_1x1c1__scalar_packed_size(size_t n, size_t k) { return dsize(n, n * k); }
void qk_dynamic_fc_1x1c1__scalar_pack(const qk_fc_dynamic_desc *d, const int8_t *w, const float *bias, void *packed) {
  dpack_store(d->out_ch, d->out_ch * d->in_ch, w, d->w_scale, bias, packed);
}
size_t qk_dynamic_fc_1x1c1__scalar_workspace_size(const qk_fc_dynamic_desc *d, size_t batch) {
  (void)d, (void)batch;
  return 0;
}
void qk_dynamic_fc_1x1c1__scalar_run(const qk_fc_dynamic_desc *d, const void *packed, size_t batch, const float *x,
                                     float *y, void *ws) {
  (void)ws;
  qk_fc_dynamic_desc local = *d;
  local.w_scale = dscale(packed);
  qk_ref_fc_dynamic(&local, dweights(packed), dbias(packed), batch, x, y);
}

size_t qk_dynamic_conv2d__scalar_packed_size(const qk_conv2d_dynamic_desc *d) {
  return dsize(d->conv.out_ch, conv_nw(&d->conv, false));
}
void qk_dynamic_conv2d__scalar_pack(const qk_conv2d_dynamic_desc *d, const int8_t *w, const float *bias, void *packed) {
  dpack_store(d->conv.out_ch, conv_nw(&d->conv, false), w, d->w_scale, bias, packed);
}
size_t qk_dynamic_conv2d__scalar_workspace_size(const qk_conv2d_dynamic_desc *d, const qk_conv2d_geom *g) {
  (void)d, (void)g;
  return 0;
}
void qk_dynamic_conv2d__scalar_run(const qk_conv2d_dynamic_desc *d, const qk_conv2d_geom *g, const void *packed,
                                   const float *x, float *y, void *ws) {
  (void)ws;
  qk_conv2d_dynamic_desc local = *d;
  local.w_scale = dscale(packed);
  qk_ref_conv2d_dynamic(&local, g, dweights(packed), dbias(packed), x, y);
}

size_t qk_dynamic_dwconv2d__scalar_packed_size(const qk_conv2d_dynamic_desc *d) {
  return dsize(d->conv.out_ch, conv_nw(&d->conv, true));
}
void qk_dynamic_dwconv2d__scalar_pack(const qk_conv2d_dynamic_desc *d, const int8_t *w, const float *bias,
                                      void *packed) {
  dpack_store(d->conv.out_ch, conv_nw(&d->conv, true), w, d->w_scale, bias, packed);
}
size_t qk_dynamic_dwconv2d__scalar_workspace_size(const qk_conv2d_dynamic_desc *d, const qk_conv2d_geom *g) {
  (void)d, (void)g;
  return 0;
}
void qk_dynamic_dwconv2d__scalar_run(const qk_conv2d_dynamic_desc *d, const qk_conv2d_geom *g, const void *packed,
                                     const float *x, float *y, void *ws) {
  (void)ws;
  qk_conv2d_dynamic_desc local = *d;
  local.w_scale = dscale(packed);
  qk_ref_dwconv2d_dynamic(&local, g, dweights(packed), dbias(packed), x, y);
}
