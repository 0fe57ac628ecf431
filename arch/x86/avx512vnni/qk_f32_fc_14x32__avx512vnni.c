/* f32 fully connected, AVX-512: 14 x 32 zmm tiles, k-major packed panels (arch/x86/f32_gemm.h). */
#define FG_NAME(s) qk_f32_fc_14x32__avx512vnni##s
#define FG_HALF 0
#include "f32_vec_avx512.h"
#include "../f32_gemm.h"
