/* f16-weight fully connected, AVX2 + FMA + F16C: qk_f32_fc_6x16__avx2's code with the binary16
 * weights widened in registers (vcvtph2ps ymm), so half the bytes stream from memory and every
 * output is bit-identical to the f32 variant on widened weights (arch/x86/f32_gemm.h). */
#define FG_NAME(s) qk_f16w_fc_6x16__avx2##s
#define FG_HALF 1
#include "f32_vec_avx2.h"
#include "../f32_gemm.h"
