// distance.h: the three metrics and their SIMD kernels.
//
// Kernels are chosen once at run time for the CPU (AVX-512, AVX2+FMA, or
// scalar); nothing depends on -march. Conventions follow hnswlib so graphs
// are interchangeable with it:
//   L2            squared Euclidean distance
//   InnerProduct  1 - dot(a, b)
//   Cosine        1 - dot(a, b) on unit vectors: vectors are normalised when
//                 they enter the graph and queries before they search it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace lhv {

enum class Metric : std::uint8_t { L2 = 0, InnerProduct = 1, Cosine = 2 };

const char* metric_name(Metric metric) noexcept;      // "l2", "ip", "cosine"
bool metric_from_name(const std::string& name, Metric* out) noexcept;

using DistanceFn = float (*)(const float* a, const float* b, std::size_t dim);

// The fastest kernel for this CPU.
DistanceFn distance_function(Metric metric) noexcept;

// The kernel names picked at run time, e.g. "avx512", "avx2", "scalar".
const char* simd_level() noexcept;

// Reference implementations, used by tests and as the fallback.
float l2_squared_scalar(const float* a, const float* b, std::size_t dim) noexcept;
float inner_product_distance_scalar(const float* a, const float* b, std::size_t dim) noexcept;

// Every kernel this CPU can run, for the tests that compare them with the
// scalar reference.
struct KernelSet {
    const char* name;
    DistanceFn l2;
    DistanceFn inner_product;
};
std::size_t available_kernels(KernelSet* out, std::size_t capacity) noexcept;

// Throws lhv::Error(InvalidVector) for a NaN or infinite component, or, under
// Cosine, a zero vector.
void validate_vector(const float* v, std::size_t dim, Metric metric);

// Writes v / |v| into out (out may equal v). Requires a non-zero vector.
void normalize(const float* v, float* out, std::size_t dim) noexcept;

}  // namespace lhv
