/* f16w DepthwiseConv2D: binary16 filter widened in registers (FCVTL, exact), then exactly
 * qk_f32_dwconv2d_16c__neon's arithmetic from the same source (dw_f32_neon.h), hence bit-identical
 * to it on pre-widened weights (SPEC.md §14). */
#include "dw_f32_neon.h"
#include "variants.h"

QK_ARM_DW_F32_DEFINE(qk_f16w_dwconv2d_16c__neon, true)
