/* int8 AveragePool and MaxPool, NHWC (SPEC.md §8): shared scale and zero point, raw codes,
 * windows clipped to the image, padding excluded from the average's divisor. */
#ifndef QK_POOL_H
#define QK_POOL_H

#include <stddef.h>
#include <stdint.h>
#include "qk/status.h"
#include "qk/conv.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qk_pool_int8_desc {
  size_t batch, in_h, in_w, channels;
  size_t filter_h, filter_w, stride_h, stride_w;
  qk_padding padding;
  int32_t act_min, act_max;
} qk_pool_int8_desc;

qk_status qk_pool_int8_check(const qk_pool_int8_desc *d, qk_conv2d_geom *g);
void qk_ref_avgpool_int8(const qk_pool_int8_desc *d, const qk_conv2d_geom *g, const int8_t *x, int8_t *y);
void qk_ref_maxpool_int8(const qk_pool_int8_desc *d, const qk_conv2d_geom *g, const int8_t *x, int8_t *y);

qk_status qk_avgpool_int8(const qk_pool_int8_desc *d, const int8_t *x, int8_t *y);
qk_status qk_maxpool_int8(const qk_pool_int8_desc *d, const int8_t *x, int8_t *y);

#ifdef __cplusplus
}
#endif
#endif
