/* f32 AveragePool NHWC, AVX-512F, 16 floats per zmm (no VNNI needed): the reference's sums in its
 * order, a true division by the tap count, its clamp (arch/x86/f32_avgpool.h). */
#define FP_NAME qk_f32_avgpool__avx512vnni_run
#define FP_DIV _mm512_div_ps
#include "f32_vec_avx512.h"
#include "../f32_avgpool.h"
