/* f16-weight fully connected, AVX-512: qk_f32_fc_14x32__avx512vnni's code with the binary16
 * weights widened in registers (vcvtph2ps zmm), so half the bytes stream from memory and every
 * output is bit-identical to the f32 variant on widened weights (arch/x86/f32_gemm.h). */
#define FG_NAME(s) qk_f16w_fc_14x32__avx512vnni##s
#define FG_HALF 1
#include "f32_vec_avx512.h"
#include "../f32_gemm.h"
