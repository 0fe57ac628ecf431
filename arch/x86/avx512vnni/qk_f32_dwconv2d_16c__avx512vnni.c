/* f32 DepthwiseConv2D, avx512vnni: channels in vectors of 16, 3x3 taps held in registers across a row
 * (arch/x86/f32_dwconv.h). */
#define FD_NAME(s) qk_f32_dwconv2d_16c__avx512vnni##s
#define FD_HALF 0
#include "f32_vec_avx512.h"
#include "../f32_dwconv.h"
