// hnsw_recall_test.cpp: recall@10 of the engine against exact brute force,
// for each metric on uniform and clustered data (20k x 128, m=16,
// ef_construction=64, ef_search=64, 200 queries not in the base set).
//
// Uniform random 128-d data has a very high intrinsic dimension: at
// ef_search=64 stock hnswlib itself reaches only ~0.5-0.6 recall@10 on it
// (hnsw_parity_test shows the engine matches hnswlib there). So for uniform
// data the 0.95 floor is checked at ef_search=800, and the ef_search=64 number
// is printed and held to a regression floor.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "test_data.h"

namespace {

using lhv::Metric;
using lhv_test::DataKind;

using namespace lhv_test::recall_spec;
constexpr std::size_t kEfUniform = 800;       // where uniform 128-d data reaches 0.95
constexpr double kUniformFloorAtEf64 = 0.45;  // hnswlib measures 0.48-0.59 here

// Builds the graph, measures recall, prints and records it, and checks the floor.
void expect_recall(Metric metric, DataKind kind) {
    lhv_test::Workload w = lhv_test::make_workload(kind, kBase, kQueries, kDim, 42);
    lhv::GraphParams params;
    params.dimension = kDim;
    params.m = 16;
    params.ef_construction = 64;
    params.metric = metric;
    lhv_test::HeapGraph g(params);
    g.add_all(w.base);
    ASSERT_EQ(g.graph->size(), kBase);

    auto measure = [&](std::size_t ef) {
        double measured = lhv_test::mean_recall(metric, w, kK, [&](const float* q) {
            return lhv_test::search_labels(*g.graph, q, kK, ef);
        });
        std::string name = std::string("recall_") + lhv::metric_name(metric) + "_" +
                           lhv_test::data_kind_name(kind) + "_ef" + std::to_string(ef);
        ::testing::Test::RecordProperty(name, std::to_string(measured));
        std::printf("%s = %.4f (simd %s)\n", name.c_str(), measured, lhv::simd_level());
        return measured;
    };
    double at_ef64 = measure(kEf);
    if (kind == DataKind::Clustered) {
        EXPECT_GE(at_ef64, 0.95);
    } else {
        EXPECT_GE(at_ef64, kUniformFloorAtEf64);
        EXPECT_GE(measure(kEfUniform), 0.95);
    }
}

TEST(HnswRecall, L2Uniform) { expect_recall(Metric::L2, DataKind::Uniform); }
TEST(HnswRecall, L2Clustered) { expect_recall(Metric::L2, DataKind::Clustered); }
TEST(HnswRecall, InnerProductUniform) { expect_recall(Metric::InnerProduct, DataKind::Uniform); }
TEST(HnswRecall, InnerProductClustered) { expect_recall(Metric::InnerProduct, DataKind::Clustered); }
TEST(HnswRecall, CosineUniform) { expect_recall(Metric::Cosine, DataKind::Uniform); }
TEST(HnswRecall, CosineClustered) { expect_recall(Metric::Cosine, DataKind::Clustered); }

}  // namespace
