// exact_distance.cpp: the scalar reference of the double-precision sums and
// the run-time choice among their variants.
#include "exact_distance.h"

#include <cmath>

#include "distance_kernels.h"

namespace lhv {

namespace {

// Two independent accumulators (even and odd components) per sum, so that
// even the scalar loop is not bound by one chain of dependent additions.

double squared_l2_scalar(const float* a, const float* b, std::size_t n) {
    double even = 0, odd = 0;
    std::size_t i = 0;
    for (; i + 1 < n; i += 2) {
        double d0 = double(a[i]) - double(b[i]);
        double d1 = double(a[i + 1]) - double(b[i + 1]);
        even += d0 * d0;
        odd += d1 * d1;
    }
    if (i < n) {
        double d = double(a[i]) - double(b[i]);
        even += d * d;
    }
    return even + odd;
}

double dot_scalar(const float* a, const float* b, std::size_t n) {
    double even = 0, odd = 0;
    std::size_t i = 0;
    for (; i + 1 < n; i += 2) {
        even += double(a[i]) * double(b[i]);
        odd += double(a[i + 1]) * double(b[i + 1]);
    }
    if (i < n) even += double(a[i]) * double(b[i]);
    return even + odd;
}

double l1_scalar(const float* a, const float* b, std::size_t n) {
    double even = 0, odd = 0;
    std::size_t i = 0;
    for (; i + 1 < n; i += 2) {
        even += std::fabs(double(a[i]) - double(b[i]));
        odd += std::fabs(double(a[i + 1]) - double(b[i + 1]));
    }
    if (i < n) even += std::fabs(double(a[i]) - double(b[i]));
    return even + odd;
}

ExactCosineSums cosine_sums_scalar(const float* a, const float* b, std::size_t n) {
    ExactCosineSums even{0, 0, 0}, odd{0, 0, 0};
    std::size_t i = 0;
    for (; i + 1 < n; i += 2) {
        double x0 = a[i], y0 = b[i];
        double x1 = a[i + 1], y1 = b[i + 1];
        even.dot += x0 * y0;
        odd.dot += x1 * y1;
        even.norm_a += x0 * x0;
        odd.norm_a += x1 * x1;
        even.norm_b += y0 * y0;
        odd.norm_b += y1 * y1;
    }
    if (i < n) {
        double x = a[i], y = b[i];
        even.dot += x * y;
        even.norm_a += x * x;
        even.norm_b += y * y;
    }
    return ExactCosineSums{even.dot + odd.dot, even.norm_a + odd.norm_a, even.norm_b + odd.norm_b};
}

constexpr ExactKernels kScalar{"scalar", squared_l2_scalar, dot_scalar, l1_scalar, cosine_sums_scalar};

#if defined(__x86_64__) || defined(__i386__)
constexpr ExactKernels kAvx2{"avx2", kernels::exact_squared_l2_avx2, kernels::exact_dot_avx2,
                             kernels::exact_l1_avx2, kernels::exact_cosine_sums_avx2};
constexpr ExactKernels kAvx512{"avx512", kernels::exact_squared_l2_avx512, kernels::exact_dot_avx512,
                               kernels::exact_l1_avx512, kernels::exact_cosine_sums_avx512};
#endif

ExactKernels choose() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return kAvx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return kAvx2;
#endif
    return kScalar;
}

}  // namespace

const ExactKernels& exact_kernels() noexcept {
    static const ExactKernels chosen = choose();
    return chosen;
}

std::size_t available_exact_kernels(ExactKernels* out, std::size_t capacity) noexcept {
    std::size_t count = 0;
    auto offer = [&](const ExactKernels& k) {
        if (count < capacity) out[count++] = k;
    };
    offer(kScalar);
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) offer(kAvx2);
    if (__builtin_cpu_supports("avx512f")) offer(kAvx512);
#endif
    return count;
}

}  // namespace lhv
