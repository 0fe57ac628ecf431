/* f32 Add with 4-D broadcasting, AVX2, 8 floats per ymm: one add in the reference's operand
 * order, then its clamp; bit for bit qk_ref_add_f32 (arch/x86/f32_add.h). */
#define FA_NAME qk_f32_add__avx2_run
#include "f32_vec_avx2.h"
#include "../f32_add.h"
