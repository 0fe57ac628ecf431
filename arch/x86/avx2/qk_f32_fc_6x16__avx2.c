/* f32 fully connected, AVX2 + FMA: 6 x 16 ymm tiles, k-major packed panels (arch/x86/f32_gemm.h). */
#define FG_NAME(s) qk_f32_fc_6x16__avx2##s
#define FG_HALF 0
#include "f32_vec_avx2.h"
#include "../f32_gemm.h"
