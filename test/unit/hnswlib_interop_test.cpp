// hnswlib_interop_test.cpp: graph bytes written by lhv load in stock hnswlib
// 0.6.2 and give the same neighbours, and an index saved by stock hnswlib
// loads in lhv and gives the same neighbours, for each metric.
#include <gtest/gtest.h>

// hnswlib 0.6.2's headers define non-inline functions and globals (cpuid,
// AVXCapable, the SIMD function pointers), so two test files that include it
// collide at link time. Here every hnswlib name gets a prefix of its own.
#include <cpuid.h>
#include <x86intrin.h>
#define hnswlib lhv_interop_hnswlib
#define cpuid lhv_interop_cpuid
#define xgetbv lhv_interop_xgetbv
#define AVXCapable lhv_interop_AVXCapable
#define AVX512Capable lhv_interop_AVX512Capable
#include <hnswlib/hnswlib.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "errors.h"
#include "hnsw_graph.h"
#include "lhv1_codec.h"
#include "test_data.h"

namespace {

using lhv::ChunkHandle;
using lhv::GraphParams;
using lhv::HeapChunkMemory;
using lhv::HnswGraph;
using lhv::Metric;
using lhv::StdGraphLocks;

constexpr std::size_t kDim = 32, kBase = 3000, kQueries = 400, kK = 10, kEf = 64;
constexpr std::uint32_t kM = 16, kEfConstruction = 100;

// A file path under the temp directory, removed when the object goes.
class TempFile {
public:
    explicit TempFile(const std::string& tag)
        : path_((std::filesystem::temp_directory_path() /
                 ("lhv_interop_" + std::to_string(getpid()) + "_" + tag + ".bin"))
                    .string()) {}
    ~TempFile() { std::remove(path_.c_str()); }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_file(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// The hnswlib space with lhv's convention for `metric` (cosine = IP on unit vectors).
std::unique_ptr<hnswlib::SpaceInterface<float>> make_space(Metric metric) {
    if (metric == Metric::L2) return std::make_unique<hnswlib::L2Space>(kDim);
    return std::make_unique<hnswlib::InnerProductSpace>(kDim);
}

// The data as hnswlib must see it: unit rows under Cosine.
lhv_test::Dataset as_stored(lhv_test::Dataset data, Metric metric) {
    if (metric == Metric::Cosine)
        for (std::size_t i = 0; i < data.n; i++)
            lhv::normalize(data.row(i), data.values.data() + i * data.dim, data.dim);
    return data;
}

struct Neighbours {
    std::vector<std::uint64_t> labels;  // nearest first
    std::vector<float> distances;
};

Neighbours search_hnswlib(const hnswlib::HierarchicalNSW<float>& index, const float* q) {
    auto heap = index.searchKnn(q, kK);  // farthest on top
    Neighbours out;
    while (!heap.empty()) {
        out.labels.push_back(heap.top().second);
        out.distances.push_back(heap.top().first);
        heap.pop();
    }
    std::reverse(out.labels.begin(), out.labels.end());
    std::reverse(out.distances.begin(), out.distances.end());
    return out;
}

Neighbours search_lhv(const HnswGraph& graph, const float* q) {
    Neighbours out;
    for (const auto& r : graph.search(q, kK, kEf)) {
        out.labels.push_back(r.label);
        out.distances.push_back(r.distance);
    }
    return out;
}

// True when a and b differ only where distances tie (within float noise of
// differently ordered SIMD sums): same length and, position by position,
// the distances agree.
bool differ_only_by_ties(const Neighbours& a, const Neighbours& b) {
    if (a.labels.size() != b.labels.size()) return false;
    for (std::size_t i = 0; i < a.labels.size(); i++) {
        const float tolerance = 1e-5f * std::max(1.0f, std::fabs(a.distances[i]));
        if (std::fabs(a.distances[i] - b.distances[i]) > tolerance) return false;
    }
    return true;
}

// Compares both indexes on the same queries; returns the fraction of
// identical label lists and checks that every other query differs only by ties.
double compare_searches(const hnswlib::HierarchicalNSW<float>& stock, const HnswGraph& ours,
                        const lhv_test::Dataset& queries, Metric metric) {
    std::size_t identical = 0, tie_only = 0;
    for (std::size_t q = 0; q < queries.n; q++) {
        std::vector<float> unit(queries.row(q), queries.row(q) + kDim);
        if (metric == Metric::Cosine) lhv::normalize(unit.data(), unit.data(), kDim);
        const Neighbours a = search_hnswlib(stock, unit.data());
        const Neighbours b = search_lhv(ours, queries.row(q));  // lhv normalises under cosine
        EXPECT_EQ(a.labels.size(), kK);
        EXPECT_EQ(b.labels.size(), kK);
        if (a.labels == b.labels) {
            identical++;
            continue;
        }
        EXPECT_TRUE(differ_only_by_ties(a, b)) << "query " << q << ": neighbour lists differ beyond ties";
        tie_only++;
    }
    const double fraction = double(identical) / double(queries.n);
    ::testing::Test::RecordProperty("identical_fraction_" + std::string(lhv::metric_name(metric)), std::to_string(fraction));
    std::printf("[ interop  ] %s: %zu/%zu identical neighbour lists, %zu differ only by ties\n",
                lhv::metric_name(metric), identical, queries.n, tie_only);
    return fraction;
}

// Gives a graph's blocks back at the end of a scope (HeapChunkMemory does
// not free blocks still in use).
class DestroyAtEnd {
public:
    explicit DestroyAtEnd(HnswGraph& graph) : graph_(graph) {}
    ~DestroyAtEnd() { graph_.destroy(); }
    DestroyAtEnd(const DestroyAtEnd&) = delete;
    DestroyAtEnd& operator=(const DestroyAtEnd&) = delete;

private:
    HnswGraph& graph_;
};

// Stock hnswlib 0.6.2 prefetches one id past the end of a neighbour list
// (hnswalg.h:214, `*(datal + j + 1)`), reading past its malloc'd upper-level
// lists: AddressSanitizer stops at that read inside hnswlib. The tests that
// run hnswlib's addPoint or searchKnn are skipped in ASan builds; our side of
// the format is covered under ASan by lhv1_codec_test and the fuzzer.
#if defined(__SANITIZE_ADDRESS__)
#define SKIP_IF_STOCK_HNSWLIB_UNDER_ASAN() GTEST_SKIP() << "stock hnswlib overreads its lists (hnswalg.h:214)"
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SKIP_IF_STOCK_HNSWLIB_UNDER_ASAN() GTEST_SKIP() << "stock hnswlib overreads its lists (hnswalg.h:214)"
#endif
#endif
#ifndef SKIP_IF_STOCK_HNSWLIB_UNDER_ASAN
#define SKIP_IF_STOCK_HNSWLIB_UNDER_ASAN() (void)0
#endif

GraphParams make_params(Metric metric) {
    GraphParams p;
    p.dimension = kDim;
    p.m = kM;
    p.ef_construction = kEfConstruction;
    p.metric = metric;
    return p;
}

class Interop : public ::testing::TestWithParam<Metric> {};

TEST_P(Interop, LhvGraphLoadsInStockHnswlib) {
    SKIP_IF_STOCK_HNSWLIB_UNDER_ASAN();
    const Metric metric = GetParam();
    const auto data = lhv_test::clustered_dataset(kBase, kDim, 30, 21);
    const auto queries = lhv_test::clustered_dataset(kQueries, kDim, 30, 22);

    HeapChunkMemory memory;
    StdGraphLocks locks(HnswGraph::kLockSlots);
    HnswGraph graph(memory, locks, HnswGraph::create(memory, make_params(metric)));
    DestroyAtEnd destroy_graph(graph);
    for (std::size_t i = 0; i < data.n; i++) graph.add(data.row(i), 1000 + i);

    lhv::StringSink sink;
    lhv::write_hnswlib_graph(graph, sink);
    TempFile file("lhv_to_stock");
    write_file(file.path(), sink.bytes);

    auto space = make_space(metric);
    hnswlib::HierarchicalNSW<float> stock(space.get(), file.path());
    stock.setEf(kEf);
    ASSERT_EQ(stock.cur_element_count, kBase);
    // Stock hnswlib sees our labels and vectors.
    const auto stored = as_stored(data, metric);
    for (std::size_t i : {std::size_t{0}, kBase / 2, kBase - 1}) {
        const auto v = stock.getDataByLabel<float>(1000 + i);
        for (std::size_t j = 0; j < kDim; j++) ASSERT_NEAR(v[j], stored.row(i)[j], 1e-6f);
    }
    EXPECT_GE(compare_searches(stock, graph, queries, metric), 0.99);
}

TEST_P(Interop, StockHnswlibIndexLoadsInLhv) {
    SKIP_IF_STOCK_HNSWLIB_UNDER_ASAN();
    const Metric metric = GetParam();
    const auto data = as_stored(lhv_test::clustered_dataset(kBase, kDim, 30, 31), metric);
    const auto queries = lhv_test::clustered_dataset(kQueries, kDim, 30, 32);

    auto space = make_space(metric);
    hnswlib::HierarchicalNSW<float> stock(space.get(), kBase, kM, kEfConstruction, 100);
    for (std::size_t i = 0; i < data.n; i++) stock.addPoint(data.row(i), 7 * i);
    stock.markDelete(7 * 11);
    stock.setEf(kEf);
    TempFile file("stock_to_lhv");
    stock.saveIndex(file.path());
    const std::string bytes = read_file(file.path());

    HeapChunkMemory memory;
    StdGraphLocks locks(HnswGraph::kLockSlots);
    const ChunkHandle handle = lhv::read_hnswlib_graph(bytes.data(), bytes.size(), make_params(metric), memory);
    HnswGraph graph(memory, locks, handle);
    DestroyAtEnd destroy_graph(graph);
    ASSERT_EQ(graph.size(), kBase);
    EXPECT_EQ(graph.deleted_count(), 1u);
    EXPECT_TRUE(graph.is_deleted(11));
    EXPECT_EQ(graph.label(20), 140u);
    EXPECT_EQ(graph.max_level(), stock.maxlevel_);
    EXPECT_EQ(graph.entry_point(), static_cast<std::int64_t>(stock.enterpoint_node_));

    EXPECT_GE(compare_searches(stock, graph, queries, metric), 0.99);

    // Writing the loaded graph back gives stock hnswlib's file byte for byte
    // (its max_elements equals the element count here).
    lhv::StringSink again;
    lhv::write_hnswlib_graph(graph, again);
    EXPECT_TRUE(again.bytes == bytes) << "re-encoded graph differs from hnswlib's saveIndex output";

    // lhv keeps working on the imported graph: a new element is linked in
    // and (under a metric where a vector is its own nearest) found.
    std::vector<float> extra(data.row(5), data.row(5) + kDim);
    extra[0] += 1e-3f;
    EXPECT_EQ(graph.add(extra.data(), 999999), kBase);
    if (metric != Metric::InnerProduct) {
        const auto found = graph.search(extra.data(), 2, kEf);
        EXPECT_TRUE(found[0].label == 999999u || found[1].label == 999999u);
    }
}

TEST_P(Interop, EmptyGraphBytesMatchStockHnswlib) {
    const Metric metric = GetParam();
    auto space = make_space(metric);
    hnswlib::HierarchicalNSW<float> stock(space.get(), 0, kM, kEfConstruction, 100);
    TempFile file("empty");
    stock.saveIndex(file.path());

    HeapChunkMemory memory;
    StdGraphLocks locks(HnswGraph::kLockSlots);
    HnswGraph graph(memory, locks, HnswGraph::create(memory, make_params(metric)));
    DestroyAtEnd destroy_graph(graph);
    lhv::StringSink sink;
    lhv::write_hnswlib_graph(graph, sink);
    EXPECT_TRUE(sink.bytes == read_file(file.path()));

    const std::string bytes = read_file(file.path());
    HeapChunkMemory other;
    HnswGraph loaded(other, locks, lhv::read_hnswlib_graph(bytes.data(), bytes.size(), make_params(metric), other));
    DestroyAtEnd destroy_loaded(loaded);
    EXPECT_EQ(loaded.size(), 0u);
    EXPECT_EQ(loaded.entry_point(), -1);
}

TEST(InteropErrors, WrongParamsForStockFileAreRejected) {
    SKIP_IF_STOCK_HNSWLIB_UNDER_ASAN();
    const auto data = lhv_test::uniform_dataset(200, kDim, 41);
    hnswlib::L2Space space(kDim);
    hnswlib::HierarchicalNSW<float> stock(&space, data.n, kM, kEfConstruction, 100);
    for (std::size_t i = 0; i < data.n; i++) stock.addPoint(data.row(i), i);
    TempFile file("wrong_params");
    stock.saveIndex(file.path());
    const std::string bytes = read_file(file.path());

    GraphParams wrong_dim = make_params(Metric::L2);
    wrong_dim.dimension = kDim + 1;
    GraphParams wrong_m = make_params(Metric::L2);
    wrong_m.m = kM / 2;
    GraphParams cosine = make_params(Metric::Cosine);  // vectors are not unit length
    for (const GraphParams& params : {wrong_dim, wrong_m, cosine}) {
        HeapChunkMemory memory;
        try {
            lhv::read_hnswlib_graph(bytes.data(), bytes.size(), params, memory);
            ADD_FAILURE() << "accepted with dimension " << params.dimension << ", m " << params.m;
        } catch (const lhv::Error& e) {
            EXPECT_EQ(e.kind(), lhv::ErrorKind::CorruptSnapshot) << e.what();
        }
        EXPECT_EQ(memory.allocated_bytes(), 0u);
    }
}

INSTANTIATE_TEST_SUITE_P(Metrics, Interop,
                         ::testing::Values(Metric::L2, Metric::InnerProduct, Metric::Cosine),
                         [](const ::testing::TestParamInfo<Metric>& param_info) {
                             return std::string(param_info.param == Metric::L2             ? "L2"
                                                : param_info.param == Metric::InnerProduct ? "InnerProduct"
                                                                                     : "Cosine");
                         });

}  // namespace
