// distance_avx2.cpp: L2 and inner-product kernels for AVX2 + FMA CPUs.
//
// Compiled with a target attribute only; distance.cpp calls these only after
// __builtin_cpu_supports("avx2") and ("fma") said yes.
#include "distance_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

namespace lhv {
namespace kernels {

namespace {

// Adds the eight lanes of an AVX register.
__attribute__((target("avx2,fma"))) inline float horizontal_sum(__m256 v) {
    __m128 low = _mm256_castps256_ps128(v);
    __m128 high = _mm256_extractf128_ps(v, 1);
    __m128 sum = _mm_add_ps(low, high);
    sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
    sum = _mm_add_ss(sum, _mm_shuffle_ps(sum, sum, 1));
    return _mm_cvtss_f32(sum);
}

}  // namespace

// Squared Euclidean distance, 16 floats per step with two accumulators.
__attribute__((target("avx2,fma"))) float l2_squared_avx2(const float* a, const float* b,
                                                          std::size_t dim) noexcept {
    __m256 acc0 = _mm256_setzero_ps();
    __m256 acc1 = _mm256_setzero_ps();
    std::size_t i = 0;
    for (; i + 16 <= dim; i += 16) {
        __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
        acc0 = _mm256_fmadd_ps(d0, d0, acc0);
        acc1 = _mm256_fmadd_ps(d1, d1, acc1);
    }
    for (; i + 8 <= dim; i += 8) {
        __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        acc0 = _mm256_fmadd_ps(d0, d0, acc0);
    }
    float sum = horizontal_sum(_mm256_add_ps(acc0, acc1));
    for (; i < dim; i++) {
        float d = a[i] - b[i];
        sum += d * d;
    }
    return sum;
}

// 1 - dot(a, b), 16 floats per step with two accumulators.
__attribute__((target("avx2,fma"))) float inner_product_distance_avx2(const float* a,
                                                                     const float* b,
                                                                     std::size_t dim) noexcept {
    __m256 acc0 = _mm256_setzero_ps();
    __m256 acc1 = _mm256_setzero_ps();
    std::size_t i = 0;
    for (; i + 16 <= dim; i += 16) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
    }
    for (; i + 8 <= dim; i += 8)
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    float dot = horizontal_sum(_mm256_add_ps(acc0, acc1));
    for (; i < dim; i++) dot += a[i] * b[i];
    return 1.0f - dot;
}

}  // namespace kernels
}  // namespace lhv

#endif
