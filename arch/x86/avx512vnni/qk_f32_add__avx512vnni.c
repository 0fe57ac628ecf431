/* f32 Add with 4-D broadcasting, AVX-512F, 16 floats per zmm (no VNNI needed): one add in the
 * reference's operand order, then its clamp; bit for bit qk_ref_add_f32 (arch/x86/f32_add.h). */
#define FA_NAME qk_f32_add__avx512vnni_run
#include "f32_vec_avx512.h"
#include "../f32_add.h"
