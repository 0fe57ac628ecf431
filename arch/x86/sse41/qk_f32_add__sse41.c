/* f32 Add with 4-D broadcasting, SSE4.1, 4 floats per xmm: one add in the reference's operand
 * order, then its clamp; bit for bit qk_ref_add_f32 (arch/x86/f32_add.h). */
#define FA_NAME qk_f32_add__sse41_run
#include "f32_vec_sse41.h"
#include "../f32_add.h"
