/* f32 fully connected, 4 rows x 16 channels, armv8-a NEON (FMLA by element). The microkernel and
 * its packed layout are in fc_f32_neon.h, shared with the f16w twin qk_f16w_fc_4x16__neon, which
 * must match this variant bit for bit on the widened weights. Checked against the double-precision
 * reference with the gamma_{K+1} bound (SPEC.md §14). */
#include "fc_f32_neon.h"
#include "variants.h"

QK_ARM_FC_F32_DEFINE(qk_f32_fc_4x16__neon, false)
