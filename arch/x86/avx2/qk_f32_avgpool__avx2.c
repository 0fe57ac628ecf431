/* f32 AveragePool NHWC, AVX2, 8 floats per ymm: the reference's sums in its
 * order, a true division by the tap count, its clamp (arch/x86/f32_avgpool.h). */
#define FP_NAME qk_f32_avgpool__avx2_run
#define FP_DIV _mm256_div_ps
#include "f32_vec_avx2.h"
#include "../f32_avgpool.h"
