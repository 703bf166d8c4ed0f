// exact_distance.h: distances between float vectors summed in double
// precision, for the SQL distance operators.
//
// The graph compares in single precision (distance.h), as hnswlib does; the
// operators that ORDER BY and brute-force queries use must give the exact
// truth the index is measured against, and the same result for the same
// vectors whatever their SQL type. The executor calls them for every row an
// ORDER BY returns, so they have SIMD variants too, chosen at run time.
// Every variant converts each component to double first, so they differ
// from one another only in the order of their additions (a relative
// difference near 1e-16), and integer-valued inputs give identical sums.
#pragma once

#include <cstddef>

namespace lhv {

struct ExactCosineSums {
    double dot, norm_a, norm_b;
};

struct ExactKernels {
    const char* name;  // "avx512", "avx2" or "scalar"
    double (*squared_l2)(const float* a, const float* b, std::size_t dim);
    double (*dot)(const float* a, const float* b, std::size_t dim);
    double (*l1)(const float* a, const float* b, std::size_t dim);
    ExactCosineSums (*cosine_sums)(const float* a, const float* b, std::size_t dim);
};

// The fastest variant for this CPU.
const ExactKernels& exact_kernels() noexcept;

// Every variant this CPU can run (the scalar reference first), for tests.
std::size_t available_exact_kernels(ExactKernels* out, std::size_t capacity) noexcept;

}  // namespace lhv
