// distance_kernels.h: the SIMD distance kernels, one set per instruction set.
//
// Internal to src/core. Each kernel is compiled for its instruction set with
// a target attribute (no -march flag), and may only be called when the CPU
// supports it; distance.cpp does the run-time choice.
#pragma once

#include <cstddef>

namespace lhv {
namespace kernels {

float l2_squared_avx2(const float* a, const float* b, std::size_t dim) noexcept;
float inner_product_distance_avx2(const float* a, const float* b, std::size_t dim) noexcept;

float l2_squared_avx512(const float* a, const float* b, std::size_t dim) noexcept;
float inner_product_distance_avx512(const float* a, const float* b, std::size_t dim) noexcept;

}  // namespace kernels
}  // namespace lhv
