// hnsw_parity_test.cpp: the engine against stock hnswlib (Debian's
// libhnswlib-dev) on the same data with the same parameters: their recall@10
// must agree within 0.01 for each metric and data set.
//
// Cosine in hnswlib: vectors and queries normalised, InnerProductSpace.
#include <gtest/gtest.h>
#include <hnswlib/hnswlib.h>

#include <cmath>
#include <cstring>
#include <cstdio>
#include <memory>
#include <string>

#include "test_data.h"

namespace {

using lhv::Metric;
using lhv_test::DataKind;

using namespace lhv_test::recall_spec;
constexpr std::size_t kM = 16;
constexpr std::size_t kEfConstruction = 64;

// Rows scaled to unit length, for hnswlib's cosine.
lhv_test::Dataset normalised(const lhv_test::Dataset& d) {
    lhv_test::Dataset out = d;
    for (std::size_t i = 0; i < d.n; i++) lhv::normalize(d.row(i), out.values.data() + i * d.dim, d.dim);
    return out;
}

// Recall@10 of stock hnswlib, built single-threaded in id order like the engine.
double hnswlib_recall(Metric metric, const lhv_test::Workload& w) {
    std::unique_ptr<hnswlib::SpaceInterface<float>> space;
    if (metric == Metric::L2)
        space = std::make_unique<hnswlib::L2Space>(kDim);
    else
        space = std::make_unique<hnswlib::InnerProductSpace>(kDim);
    const lhv_test::Dataset base = metric == Metric::Cosine ? normalised(w.base) : w.base;
    const lhv_test::Dataset queries = metric == Metric::Cosine ? normalised(w.queries) : w.queries;
    hnswlib::HierarchicalNSW<float> index(space.get(), kBase, kM, kEfConstruction, 100);
    for (std::size_t i = 0; i < base.n; i++) index.addPoint(base.row(i), i);
    index.setEf(kEf);
    lhv_test::Workload normalised_queries{w.base, queries};
    return lhv_test::mean_recall(metric, normalised_queries, kK, [&](const float* q) {
        auto heap = index.searchKnn(q, kK);
        std::vector<std::uint64_t> labels(heap.size());
        for (std::size_t i = heap.size(); i-- > 0;) {
            labels[i] = heap.top().second;
            heap.pop();
        }
        return labels;
    });
}

// Recall@10 of the engine with the same parameters.
double lhv_recall(Metric metric, const lhv_test::Workload& w) {
    lhv::GraphParams params;
    params.dimension = kDim;
    params.m = kM;
    params.ef_construction = kEfConstruction;
    params.metric = metric;
    params.random_seed = 100;
    lhv_test::HeapGraph g(params);
    g.add_all(w.base);
    return lhv_test::mean_recall(metric, w, kK, [&](const float* q) {
        return lhv_test::search_labels(*g.graph, q, kK, kEf);
    });
}

void expect_parity(Metric metric, DataKind kind) {
    lhv_test::Workload w = lhv_test::make_workload(kind, kBase, kQueries, kDim, 42);
    double ours = lhv_recall(metric, w);
    double theirs = hnswlib_recall(metric, w);
    std::string name = std::string(lhv::metric_name(metric)) + "_" + lhv_test::data_kind_name(kind);
    ::testing::Test::RecordProperty("lhv_recall_" + name, std::to_string(ours));
    ::testing::Test::RecordProperty("hnswlib_recall_" + name, std::to_string(theirs));
    std::printf("%s: lhv recall %.4f, hnswlib recall %.4f, difference %+.4f\n", name.c_str(), ours, theirs,
                ours - theirs);
    EXPECT_LE(std::fabs(ours - theirs), 0.01);
}

// Same seed and insertion order: every element gets the same level as in
// hnswlib, the same entry point, and (distance rounding aside) the same
// neighbour lists.
TEST(HnswParity, SameLevelsAndLinksAsHnswlib) {
    constexpr std::size_t kCount = 3000, kSmallDim = 16;
    lhv_test::Dataset d = lhv_test::clustered_dataset(kCount, kSmallDim, 10, 21);
    hnswlib::L2Space space(kSmallDim);
    hnswlib::HierarchicalNSW<float> index(&space, kCount, 8, 40, 100);
    lhv::GraphParams params;
    params.dimension = kSmallDim;
    params.m = 8;
    params.ef_construction = 40;
    params.random_seed = 100;
    lhv_test::HeapGraph g(params);
    for (std::size_t i = 0; i < kCount; i++) {
        index.addPoint(d.row(i), i);
        g.graph->add(d.row(i), i);
    }
    std::size_t same_lists = 0;
    for (std::uint32_t id = 0; id < kCount; id++) {
        ASSERT_EQ(g.graph->level(id), index.element_levels_[id]) << "element " << id;
        const char* theirs = reinterpret_cast<const char*>(index.get_linklist0(id));
        if (std::memcmp(g.graph->record(id), theirs, 4 + 4 * 16) == 0) same_lists++;
    }
    EXPECT_EQ(g.graph->entry_point(), std::int64_t(index.enterpoint_node_));
    EXPECT_EQ(g.graph->max_level(), index.maxlevel_);
    double fraction = double(same_lists) / double(kCount);
    std::printf("level-0 lists byte-identical to hnswlib: %.4f\n", fraction);
    ::testing::Test::RecordProperty("identical_level0_lists", std::to_string(fraction));
    EXPECT_GE(fraction, 0.9);
}

TEST(HnswParity, L2Uniform) { expect_parity(Metric::L2, DataKind::Uniform); }
TEST(HnswParity, L2Clustered) { expect_parity(Metric::L2, DataKind::Clustered); }
TEST(HnswParity, InnerProductUniform) { expect_parity(Metric::InnerProduct, DataKind::Uniform); }
TEST(HnswParity, InnerProductClustered) { expect_parity(Metric::InnerProduct, DataKind::Clustered); }
TEST(HnswParity, CosineUniform) { expect_parity(Metric::Cosine, DataKind::Uniform); }
TEST(HnswParity, CosineClustered) { expect_parity(Metric::Cosine, DataKind::Clustered); }

}  // namespace
