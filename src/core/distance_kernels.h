// distance_kernels.h: the SIMD distance kernels, one set per instruction set.
//
// Internal to src/core. Each kernel is compiled for its instruction set with
// a target attribute (no -march flag), and may only be called when the CPU
// supports it; distance.cpp does the run-time choice.
#pragma once

#include <cstddef>

#include "exact_distance.h"

namespace lhv {
namespace kernels {

float l2_squared_avx2(const float* a, const float* b, std::size_t dim) noexcept;
float inner_product_distance_avx2(const float* a, const float* b, std::size_t dim) noexcept;

float l2_squared_avx512(const float* a, const float* b, std::size_t dim) noexcept;
float inner_product_distance_avx512(const float* a, const float* b, std::size_t dim) noexcept;

// The double-precision sums of exact_distance.h (exact_distance_simd.cpp).
double exact_squared_l2_avx2(const float* a, const float* b, std::size_t dim);
double exact_dot_avx2(const float* a, const float* b, std::size_t dim);
double exact_l1_avx2(const float* a, const float* b, std::size_t dim);
ExactCosineSums exact_cosine_sums_avx2(const float* a, const float* b, std::size_t dim);

double exact_squared_l2_avx512(const float* a, const float* b, std::size_t dim);
double exact_dot_avx512(const float* a, const float* b, std::size_t dim);
double exact_l1_avx512(const float* a, const float* b, std::size_t dim);
ExactCosineSums exact_cosine_sums_avx512(const float* a, const float* b, std::size_t dim);

}  // namespace kernels
}  // namespace lhv
