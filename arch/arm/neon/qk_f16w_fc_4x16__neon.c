/* f16w fully connected: binary16 weights (half the bytes of f32, which is what an FC at batch 1 is
 * bound by) widened in registers by FCVTL, then exactly qk_f32_fc_4x16__neon's arithmetic, from the
 * same source (fc_f32_neon.h). Widening is exact, so this variant is bit-identical to the f32 twin
 * run on pre-widened weights (SPEC.md §14). */
#include "fc_f32_neon.h"
#include "variants.h"

QK_ARM_FC_F32_DEFINE(qk_f16w_fc_4x16__neon, true)
