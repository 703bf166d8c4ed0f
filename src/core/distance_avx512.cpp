// distance_avx512.cpp: L2 and inner-product kernels for AVX-512F CPUs.
//
// Compiled with a target attribute only; distance.cpp calls these only after
// __builtin_cpu_supports("avx512f") said yes.
#include "distance_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

namespace lhv {
namespace kernels {

namespace {

// Adds the sixteen lanes. Only zero-masked AVX-512F intrinsics are used:
// GCC 12's unmasked forms (and _mm512_reduce_add_ps) trip -Wuninitialized.
__attribute__((target("avx512f"))) inline float horizontal_sum(__m512 v) {
    const __mmask16 all = 0xFFFF;
    v = _mm512_add_ps(v, _mm512_maskz_shuffle_f32x4(all, v, v, _MM_SHUFFLE(1, 0, 3, 2)));
    v = _mm512_add_ps(v, _mm512_maskz_shuffle_f32x4(all, v, v, _MM_SHUFFLE(2, 3, 0, 1)));
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, v);
    return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
}

}  // namespace

// Squared Euclidean distance, 32 floats per step; the tail uses a masked load.
__attribute__((target("avx512f"))) float l2_squared_avx512(const float* a, const float* b,
                                                          std::size_t dim) noexcept {
    __m512 acc0 = _mm512_setzero_ps();
    __m512 acc1 = _mm512_setzero_ps();
    std::size_t i = 0;
    for (; i + 32 <= dim; i += 32) {
        __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
        __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
        acc0 = _mm512_fmadd_ps(d0, d0, acc0);
        acc1 = _mm512_fmadd_ps(d1, d1, acc1);
    }
    for (; i + 16 <= dim; i += 16) {
        __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
        acc0 = _mm512_fmadd_ps(d0, d0, acc0);
    }
    if (i < dim) {
        __mmask16 mask = static_cast<__mmask16>((1u << (dim - i)) - 1u);
        __m512 d0 = _mm512_sub_ps(_mm512_maskz_loadu_ps(mask, a + i), _mm512_maskz_loadu_ps(mask, b + i));
        acc1 = _mm512_fmadd_ps(d0, d0, acc1);
    }
    return horizontal_sum(_mm512_add_ps(acc0, acc1));
}

// 1 - dot(a, b), 32 floats per step; the tail uses a masked load.
__attribute__((target("avx512f"))) float inner_product_distance_avx512(const float* a,
                                                                      const float* b,
                                                                      std::size_t dim) noexcept {
    __m512 acc0 = _mm512_setzero_ps();
    __m512 acc1 = _mm512_setzero_ps();
    std::size_t i = 0;
    for (; i + 32 <= dim; i += 32) {
        acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
        acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), acc1);
    }
    for (; i + 16 <= dim; i += 16)
        acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
    if (i < dim) {
        __mmask16 mask = static_cast<__mmask16>((1u << (dim - i)) - 1u);
        acc1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, a + i), _mm512_maskz_loadu_ps(mask, b + i), acc1);
    }
    return 1.0f - horizontal_sum(_mm512_add_ps(acc0, acc1));
}

}  // namespace kernels
}  // namespace lhv

#endif
