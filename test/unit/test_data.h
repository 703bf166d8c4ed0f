// test_data.h: data sets and exact answers shared by the engine's unit tests.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "distance.h"

namespace lhv_test {

// n x dim vectors, row-major.
struct Dataset {
    std::size_t n = 0;
    std::size_t dim = 0;
    std::vector<float> values;
    const float* row(std::size_t i) const { return values.data() + i * dim; }
};

// Components uniform in [-1, 1).
inline Dataset uniform_dataset(std::size_t n, std::size_t dim, std::uint32_t seed) {
    Dataset d{n, dim, std::vector<float>(n * dim)};
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (float& v : d.values) v = u(rng);
    return d;
}

// `clusters` Gaussian blobs (sigma 0.1) around centres uniform in [-1, 1).
inline Dataset clustered_dataset(std::size_t n, std::size_t dim, std::size_t clusters,
                                 std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::normal_distribution<float> noise(0.0f, 0.1f);
    std::vector<float> centres(clusters * dim);
    for (float& c : centres) c = u(rng);
    Dataset d{n, dim, std::vector<float>(n * dim)};
    std::uniform_int_distribution<std::size_t> pick(0, clusters - 1);
    for (std::size_t i = 0; i < n; i++) {
        const float* c = centres.data() + pick(rng) * dim;
        for (std::size_t j = 0; j < dim; j++) d.values[i * dim + j] = c[j] + noise(rng);
    }
    return d;
}

// The metric's distance computed plainly, in double precision.
inline double exact_distance(lhv::Metric metric, const float* a, const float* b, std::size_t dim) {
    double dot = 0, aa = 0, bb = 0, l2 = 0;
    for (std::size_t j = 0; j < dim; j++) {
        dot += double(a[j]) * b[j];
        aa += double(a[j]) * a[j];
        bb += double(b[j]) * b[j];
        l2 += (double(a[j]) - b[j]) * (double(a[j]) - b[j]);
    }
    switch (metric) {
        case lhv::Metric::L2: return l2;
        case lhv::Metric::InnerProduct: return 1.0 - dot;
        case lhv::Metric::Cosine: return 1.0 - dot / std::sqrt(aa * bb);
    }
    return 0;
}

// Exact k nearest row indexes of `base` for `query`, nearest first.
// `skip(i)` excludes rows (deleted ones).
template <typename Skip>
std::vector<std::uint64_t> brute_force_knn(lhv::Metric metric, const Dataset& base,
                                           const float* query, std::size_t k, Skip skip) {
    std::vector<std::pair<double, std::uint64_t>> all;
    all.reserve(base.n);
    for (std::size_t i = 0; i < base.n; i++) {
        if (skip(i)) continue;
        all.emplace_back(exact_distance(metric, base.row(i), query, base.dim), i);
    }
    k = std::min(k, all.size());
    std::partial_sort(all.begin(), all.begin() + k, all.end());
    std::vector<std::uint64_t> out;
    for (std::size_t i = 0; i < k; i++) out.push_back(all[i].second);
    return out;
}

inline std::vector<std::uint64_t> brute_force_knn(lhv::Metric metric, const Dataset& base,
                                                  const float* query, std::size_t k) {
    return brute_force_knn(metric, base, query, k, [](std::size_t) { return false; });
}

// |found ∩ truth| / |truth|.
inline double recall(const std::vector<std::uint64_t>& found, const std::vector<std::uint64_t>& truth) {
    if (truth.empty()) return 1.0;
    std::size_t hits = 0;
    for (std::uint64_t t : truth)
        if (std::find(found.begin(), found.end(), t) != found.end()) hits++;
    return double(hits) / double(truth.size());
}

}  // namespace lhv_test
