/* Reference int8 fully connected: SPEC.md §4 line by line (TFLite
 * reference/integer_ops/fully_connected.h). Speed is not its job. The accumulator is kept in
 * uint32 so a wrapping sum stays defined; TFLite's int32 sum is exact for every valid model. */
#include <string.h>

#include "qk/fc.h"
#include "qk/quant.h"
#include "internal.h"
#include "variants.h"

void qk_ref_fc_int8(const qk_fc_int8_desc *d, const int8_t *w, const int32_t *bias, size_t batch,
                    const int8_t *x, int8_t *y) {
  const size_t K = d->in_ch, N = d->out_ch;
  for (size_t b = 0; b < batch; b++) {
    for (size_t o = 0; o < N; o++) {
      uint32_t acc = 0;
      for (size_t k = 0; k < K; k++)
        acc += (uint32_t)((int32_t)w[o * K + k] * ((int32_t)x[b * K + k] - d->input_zp));
      if (bias) acc += (uint32_t)bias[o];
      int32_t v = qk_mbqm32((int32_t)acc, d->multiplier[o], d->shift[o], d->rounding);
      v = qk_wrap_add32(v, d->output_zp);
      if (v < d->act_min) v = d->act_min;
      if (v > d->act_max) v = d->act_max;
      y[b * N + o] = (int8_t)v;
    }
  }
}

/* Packed form of the reference variant: the descriptor's arrays and the raw weights, so the
 * registered scalar variant obeys the same self-contained-buffer contract as the SIMD ones. */
typedef struct ref_packed {
  size_t n, k;
  int has_bias;
} ref_packed;

static size_t ref_offset_arrays(void) { return qk_round_up(sizeof(ref_packed), 64); }

size_t qk_int8_fc_1x1c1__scalar_packed_size(size_t n, size_t k) {
  return ref_offset_arrays() + 3 * n * sizeof(int32_t) + n * k;
}

void qk_int8_fc_1x1c1__scalar_pack(const qk_fc_int8_desc *d, const int8_t *w, const int32_t *bias,
                                   void *packed) {
  const size_t n = d->out_ch, k = d->in_ch;
  ref_packed *h = packed;
  h->n = n;
  h->k = k;
  h->has_bias = bias != NULL;
  int32_t *arr = (int32_t *)((char *)packed + ref_offset_arrays());
  if (bias) memcpy(arr, bias, n * sizeof(int32_t));
  else memset(arr, 0, n * sizeof(int32_t));
  memcpy(arr + n, d->multiplier, n * sizeof(int32_t));
  memcpy(arr + 2 * n, d->shift, n * sizeof(int32_t));
  memcpy(arr + 3 * n, w, n * k);
}

void qk_int8_fc_1x1c1__scalar_run(const qk_fc_int8_desc *d, const void *packed, size_t batch,
                                  const int8_t *x, int8_t *y) {
  const ref_packed *h = packed;
  const int32_t *arr = (const int32_t *)((const char *)packed + ref_offset_arrays());
  qk_fc_int8_desc local = *d;
  local.multiplier = arr + h->n;
  local.shift = arr + 2 * h->n;
  qk_ref_fc_int8(&local, (const int8_t *)(arr + 3 * h->n), h->has_bias ? arr : NULL, batch, x, y);
}
