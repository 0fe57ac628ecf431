/* Library-private helpers shared by kernels/ and arch/. */
#ifndef QK_INTERNAL_H
#define QK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "qk/status.h"

#if defined(__GNUC__)
#define QK_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define QK_PRINTF(a, b)
/* Geometry shared by every path's Conv2D / DepthwiseConv2D descriptors. */
typedef struct qk_conv_shape {
  size_t batch, in_h, in_w, in_ch, out_ch, k_h, k_w, stride_h, stride_w, dilation_h, dilation_w;
  int padding;
  size_t groups, depth_multiplier;
} qk_conv_shape;

struct qk_conv2d_geom;
/* Shapes, padding, groups / depth multiplier and size overflow; fills the output geometry. */
qk_status qk_conv_shape_check(const qk_conv_shape *s, bool depthwise, struct qk_conv2d_geom *g, const char *op);

#endif

/* Records a message for qk_last_error() and returns s. */
qk_status qk_fail(qk_status s, const char *fmt, ...) QK_PRINTF(2, 3);
void qk_clear_error(void);

/* a*b and a+b with overflow detection. */
static inline bool qk_mul_size(size_t a, size_t b, size_t *r) { return !__builtin_mul_overflow(a, b, r); }
static inline bool qk_add_size(size_t a, size_t b, size_t *r) { return !__builtin_add_overflow(a, b, r); }

static inline size_t qk_round_up(size_t x, size_t m) { return (x + m - 1) / m * m; }

/* Element (n, h, w, c) of a 4-D tensor of shape s under numpy broadcasting: size-1 dims repeat. */
static inline size_t qk_bcast_index(const size_t s[4], size_t n, size_t h, size_t w, size_t c) {
  return (((s[0] == 1 ? 0 : n) * s[1] + (s[1] == 1 ? 0 : h)) * s[2] + (s[2] == 1 ? 0 : w)) * s[3] +
         (s[3] == 1 ? 0 : c);
}

/* Geometry shared by every path's Conv2D / DepthwiseConv2D descriptors. */
typedef struct qk_conv_shape {
  size_t batch, in_h, in_w, in_ch, out_ch, k_h, k_w, stride_h, stride_w, dilation_h, dilation_w;
  int padding;
  size_t groups, depth_multiplier;
} qk_conv_shape;

struct qk_conv2d_geom;
/* Shapes, padding, groups / depth multiplier and size overflow; fills the output geometry. */
qk_status qk_conv_shape_check(const qk_conv_shape *s, bool depthwise, struct qk_conv2d_geom *g, const char *op);

#endif
