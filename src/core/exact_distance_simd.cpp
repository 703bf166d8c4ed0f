// exact_distance_simd.cpp: the double-precision sums of exact_distance.h
// for AVX2 + FMA and for AVX-512F CPUs.
//
// Each float is widened to double before any arithmetic, as in the scalar
// reference; the lanes only change the order of the additions. Compiled with
// target attributes only; exact_distance.cpp calls a variant only after
// __builtin_cpu_supports said yes.
#include "distance_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include <cmath>

namespace lhv {
namespace kernels {

namespace {

// The components from `i` on, fewer than one step's worth, summed in order.
inline double tail_squared_l2(const float* a, const float* b, std::size_t i, std::size_t n) {
    double sum = 0;
    for (; i < n; i++) {
        double d = double(a[i]) - double(b[i]);
        sum += d * d;
    }
    return sum;
}

inline double tail_dot(const float* a, const float* b, std::size_t i, std::size_t n) {
    double sum = 0;
    for (; i < n; i++) sum += double(a[i]) * double(b[i]);
    return sum;
}

inline double tail_l1(const float* a, const float* b, std::size_t i, std::size_t n) {
    double sum = 0;
    for (; i < n; i++) sum += std::fabs(double(a[i]) - double(b[i]));
    return sum;
}

inline void tail_cosine(const float* a, const float* b, std::size_t i, std::size_t n, ExactCosineSums* s) {
    for (; i < n; i++) {
        double x = a[i], y = b[i];
        s->dot += x * y;
        s->norm_a += x * x;
        s->norm_b += y * y;
    }
}

// ---------------------------------------------------------------- AVX2 ---

__attribute__((target("avx2,fma"))) inline double sum_lanes(__m256d v) {
    alignas(32) double lanes[4];
    _mm256_store_pd(lanes, v);
    return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
}

// Four floats from p, as four doubles.
__attribute__((target("avx2,fma"))) inline __m256d load4(const float* p) {
    return _mm256_cvtps_pd(_mm_loadu_ps(p));
}

// ------------------------------------------------------------- AVX-512 ---

__attribute__((target("avx512f"))) inline double sum_lanes(__m512d v) {
    alignas(64) double lanes[8];
    _mm512_store_pd(lanes, v);
    return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
}

// Eight floats from p, as eight doubles. The zero-masked form: GCC 12's
// unmasked one trips -Wmaybe-uninitialized (as in distance_avx512.cpp).
__attribute__((target("avx512f"))) inline __m512d load8(const float* p) {
    return _mm512_maskz_cvtps_pd(0xFF, _mm256_loadu_ps(p));
}

}  // namespace

__attribute__((target("avx2,fma"))) double exact_squared_l2_avx2(const float* a, const float* b,
                                                                  std::size_t n) {
    __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256d d0 = _mm256_sub_pd(load4(a + i), load4(b + i));
        __m256d d1 = _mm256_sub_pd(load4(a + i + 4), load4(b + i + 4));
        acc0 = _mm256_fmadd_pd(d0, d0, acc0);
        acc1 = _mm256_fmadd_pd(d1, d1, acc1);
    }
    return sum_lanes(_mm256_add_pd(acc0, acc1)) + tail_squared_l2(a, b, i, n);
}

__attribute__((target("avx2,fma"))) double exact_dot_avx2(const float* a, const float* b, std::size_t n) {
    __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        acc0 = _mm256_fmadd_pd(load4(a + i), load4(b + i), acc0);
        acc1 = _mm256_fmadd_pd(load4(a + i + 4), load4(b + i + 4), acc1);
    }
    return sum_lanes(_mm256_add_pd(acc0, acc1)) + tail_dot(a, b, i, n);
}

__attribute__((target("avx2,fma"))) double exact_l1_avx2(const float* a, const float* b, std::size_t n) {
    const __m256d sign = _mm256_set1_pd(-0.0);
    __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        acc0 = _mm256_add_pd(acc0, _mm256_andnot_pd(sign, _mm256_sub_pd(load4(a + i), load4(b + i))));
        acc1 = _mm256_add_pd(acc1, _mm256_andnot_pd(sign, _mm256_sub_pd(load4(a + i + 4), load4(b + i + 4))));
    }
    return sum_lanes(_mm256_add_pd(acc0, acc1)) + tail_l1(a, b, i, n);
}

__attribute__((target("avx2,fma"))) ExactCosineSums exact_cosine_sums_avx2(const float* a, const float* b,
                                                                            std::size_t n) {
    __m256d dot = _mm256_setzero_pd(), norm_a = _mm256_setzero_pd(), norm_b = _mm256_setzero_pd();
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m256d x = load4(a + i), y = load4(b + i);
        dot = _mm256_fmadd_pd(x, y, dot);
        norm_a = _mm256_fmadd_pd(x, x, norm_a);
        norm_b = _mm256_fmadd_pd(y, y, norm_b);
    }
    ExactCosineSums s{sum_lanes(dot), sum_lanes(norm_a), sum_lanes(norm_b)};
    tail_cosine(a, b, i, n, &s);
    return s;
}

__attribute__((target("avx512f"))) double exact_squared_l2_avx512(const float* a, const float* b,
                                                                   std::size_t n) {
    __m512d acc0 = _mm512_setzero_pd(), acc1 = _mm512_setzero_pd();
    std::size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512d d0 = _mm512_sub_pd(load8(a + i), load8(b + i));
        __m512d d1 = _mm512_sub_pd(load8(a + i + 8), load8(b + i + 8));
        acc0 = _mm512_fmadd_pd(d0, d0, acc0);
        acc1 = _mm512_fmadd_pd(d1, d1, acc1);
    }
    if (i + 8 <= n) {
        __m512d d0 = _mm512_sub_pd(load8(a + i), load8(b + i));
        acc0 = _mm512_fmadd_pd(d0, d0, acc0);
        i += 8;
    }
    return sum_lanes(_mm512_add_pd(acc0, acc1)) + tail_squared_l2(a, b, i, n);
}

__attribute__((target("avx512f"))) double exact_dot_avx512(const float* a, const float* b, std::size_t n) {
    __m512d acc0 = _mm512_setzero_pd(), acc1 = _mm512_setzero_pd();
    std::size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = _mm512_fmadd_pd(load8(a + i), load8(b + i), acc0);
        acc1 = _mm512_fmadd_pd(load8(a + i + 8), load8(b + i + 8), acc1);
    }
    if (i + 8 <= n) {
        acc0 = _mm512_fmadd_pd(load8(a + i), load8(b + i), acc0);
        i += 8;
    }
    return sum_lanes(_mm512_add_pd(acc0, acc1)) + tail_dot(a, b, i, n);
}

__attribute__((target("avx512f"))) double exact_l1_avx512(const float* a, const float* b, std::size_t n) {
    __m512d acc0 = _mm512_setzero_pd(), acc1 = _mm512_setzero_pd();
    std::size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = _mm512_add_pd(acc0, _mm512_abs_pd(_mm512_sub_pd(load8(a + i), load8(b + i))));
        acc1 = _mm512_add_pd(acc1, _mm512_abs_pd(_mm512_sub_pd(load8(a + i + 8), load8(b + i + 8))));
    }
    if (i + 8 <= n) {
        acc0 = _mm512_add_pd(acc0, _mm512_abs_pd(_mm512_sub_pd(load8(a + i), load8(b + i))));
        i += 8;
    }
    return sum_lanes(_mm512_add_pd(acc0, acc1)) + tail_l1(a, b, i, n);
}

__attribute__((target("avx512f"))) ExactCosineSums exact_cosine_sums_avx512(const float* a, const float* b,
                                                                             std::size_t n) {
    __m512d dot = _mm512_setzero_pd(), norm_a = _mm512_setzero_pd(), norm_b = _mm512_setzero_pd();
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m512d x = load8(a + i), y = load8(b + i);
        dot = _mm512_fmadd_pd(x, y, dot);
        norm_a = _mm512_fmadd_pd(x, x, norm_a);
        norm_b = _mm512_fmadd_pd(y, y, norm_b);
    }
    ExactCosineSums s{sum_lanes(dot), sum_lanes(norm_a), sum_lanes(norm_b)};
    tail_cosine(a, b, i, n, &s);
    return s;
}

}  // namespace kernels
}  // namespace lhv

#endif
