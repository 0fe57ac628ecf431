/* f32 fully connected, SSE4.1: 6 x 8 xmm tiles, k-major packed panels (arch/x86/f32_gemm.h). */
#define FG_NAME(s) qk_f32_fc_6x8__sse41##s
#define FG_HALF 0
#include "f32_vec_sse41.h"
#include "../f32_gemm.h"
