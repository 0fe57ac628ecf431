/* f32 DepthwiseConv2D, NHWC, armv8-a NEON: 16 channels per output pixel in general, and a 3x3
 * (dilation 1, horizontal stride 1 or 2) interior loop of 4 pixels x 8 channels. Source shared
 * with the f16w twin in dw_f32_neon.h; checked against the double reference with the summation
 * bound (SPEC.md §14). */
#include "dw_f32_neon.h"
#include "variants.h"

QK_ARM_DW_F32_DEFINE(qk_f32_dwconv2d_16c__neon, false)
