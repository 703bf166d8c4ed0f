// test_data.h: data sets and exact answers shared by the engine's unit tests.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <utility>
#include <vector>

#include "distance.h"
#include "errors.h"
#include "hnsw_graph.h"
#include "memory.h"

namespace lhv_test {

// The recall check the foundation issue specifies, shared by the recall test
// and the parity test with stock hnswlib (which must measure the same thing).
namespace recall_spec {
constexpr std::size_t kBase = 20000;
constexpr std::size_t kQueries = 200;
constexpr std::size_t kDim = 128;
constexpr std::size_t kK = 10;
constexpr std::size_t kEf = 64;
}  // namespace recall_spec

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

// A base set and queries drawn from the same distribution (but not in the base).
struct Workload {
    Dataset base;
    Dataset queries;
};

// Splits the last `queries` rows of `all` off as the queries.
inline Workload split_off_queries(const Dataset& all, std::size_t queries) {
    Workload w;
    std::size_t n = all.n - queries;
    w.base = Dataset{n, all.dim, std::vector<float>(all.values.begin(), all.values.begin() + n * all.dim)};
    w.queries = Dataset{queries, all.dim, std::vector<float>(all.values.begin() + n * all.dim, all.values.end())};
    return w;
}

enum class DataKind { Uniform, Clustered };

inline const char* data_kind_name(DataKind kind) { return kind == DataKind::Uniform ? "uniform" : "clustered"; }

// The recall workloads: n base vectors + `queries` queries, uniform or in 50 clusters.
inline Workload make_workload(DataKind kind, std::size_t n, std::size_t queries, std::size_t dim,
                              std::uint32_t seed) {
    Dataset all = kind == DataKind::Uniform ? uniform_dataset(n + queries, dim, seed)
                                            : clustered_dataset(n + queries, dim, 50, seed);
    return split_off_queries(all, queries);
}

// A graph on process heap with std::mutex locks, destroyed with the object.
struct HeapGraph {
    explicit HeapGraph(const lhv::GraphParams& params)
        : locks(lhv::HnswGraph::kLockSlots),
          header(lhv::HnswGraph::create(memory, params)),
          graph(std::make_unique<lhv::HnswGraph>(memory, locks, header)) {}
    ~HeapGraph() { graph->destroy(); }

    // Adds every row of `data` with its row number as label.
    void add_all(const Dataset& data) {
        for (std::size_t i = 0; i < data.n; i++) graph->add(data.row(i), i);
    }

    // Another view of the same graph, as another process would open it.
    struct View {
        explicit View(HeapGraph& g) : graph(std::make_unique<lhv::HnswGraph>(g.memory, g.locks, g.header)) {}
        std::unique_ptr<lhv::HnswGraph> graph;
    };

    lhv::HeapChunkMemory memory;
    lhv::StdGraphLocks locks;
    lhv::ChunkHandle header;
    std::unique_ptr<lhv::HnswGraph> graph;
};

// Mean recall@k of `search(query) -> labels` against exact answers (skipping `skip(i)` rows).
template <typename Search, typename Skip>
double mean_recall(lhv::Metric metric, const Workload& w, std::size_t k, Search search, Skip skip) {
    double total = 0;
    for (std::size_t q = 0; q < w.queries.n; q++) {
        std::vector<std::uint64_t> truth = brute_force_knn(metric, w.base, w.queries.row(q), k, skip);
        total += recall(search(w.queries.row(q)), truth);
    }
    return total / double(w.queries.n);
}

template <typename Search>
double mean_recall(lhv::Metric metric, const Workload& w, std::size_t k, Search search) {
    return mean_recall(metric, w, k, search, [](std::size_t) { return false; });
}

// Labels of an lhv search, nearest first.
inline std::vector<std::uint64_t> search_labels(const lhv::HnswGraph& graph, const float* query, std::size_t k,
                                               std::size_t ef) {
    std::vector<std::uint64_t> labels;
    for (const lhv::SearchResult& r : graph.search(query, k, ef)) labels.push_back(r.label);
    return labels;
}

}  // namespace lhv_test
