/* f32 AveragePool NHWC, SSE4.1, 4 floats per xmm: the reference's sums in its
 * order, a true division by the tap count, its clamp (arch/x86/f32_avgpool.h). */
#define FP_NAME qk_f32_avgpool__sse41_run
#define FP_DIV _mm_div_ps
#include "f32_vec_sse41.h"
#include "../f32_avgpool.h"
