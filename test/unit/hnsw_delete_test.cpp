// hnsw_delete_test.cpp: deletion marks and repair(): deleted labels are
// never returned, recall over the live elements stays high after 30% are
// deleted and the graph repaired, and the entry point moves off a deleted
// element.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "test_data.h"

namespace {

using lhv::Metric;

TEST(HnswDelete, ThirtyPercentDeletedThenRepaired) {
    constexpr std::size_t kBase = 10000, kQueries = 200, kDim = 24, kK = 10, kEf = 64;
    lhv_test::Workload w = lhv_test::make_workload(lhv_test::DataKind::Uniform, kBase, kQueries, kDim, 9);
    lhv::GraphParams params;
    params.dimension = kDim;
    lhv_test::HeapGraph g(params);
    g.add_all(w.base);
    lhv::HnswGraph& graph = *g.graph;

    // Delete 30%, always including the entry point.
    std::vector<bool> deleted(kBase, false);
    std::uint32_t old_entry = static_cast<std::uint32_t>(graph.entry_point());
    std::mt19937 rng(5);
    std::vector<std::uint32_t> order(kBase);
    for (std::uint32_t i = 0; i < kBase; i++) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    std::size_t target = kBase * 3 / 10;
    graph.mark_deleted(old_entry);
    deleted[old_entry] = true;
    for (std::size_t i = 0, marked = 1; marked < target; i++) {
        if (deleted[order[i]]) continue;
        graph.mark_deleted(order[i]);
        deleted[order[i]] = true;
        marked++;
    }
    graph.mark_deleted(old_entry);  // marking twice is harmless
    EXPECT_EQ(graph.deleted_count(), target);
    EXPECT_TRUE(graph.is_deleted(old_entry));

    auto skip = [&](std::size_t i) { return bool(deleted[i]); };
    auto search = [&](const float* q) {
        std::vector<std::uint64_t> labels = lhv_test::search_labels(graph, q, kK, kEf);
        for (std::uint64_t label : labels) EXPECT_FALSE(deleted[label]) << "deleted label " << label << " returned";
        return labels;
    };
    double before = lhv_test::mean_recall(Metric::L2, w, kK, search, skip);

    std::size_t rewritten = graph.repair();
    EXPECT_GT(rewritten, 0u);
    double after = lhv_test::mean_recall(Metric::L2, w, kK, search, skip);
    ASSERT_GE(graph.entry_point(), 0);
    std::uint32_t new_entry = static_cast<std::uint32_t>(graph.entry_point());
    EXPECT_NE(new_entry, old_entry);
    EXPECT_FALSE(graph.is_deleted(new_entry));
    EXPECT_EQ(graph.max_level(), graph.level(new_entry));

    // No live element still links to a deleted one.
    for (std::uint32_t id = 0; id < kBase; id++) {
        if (deleted[id]) continue;
        const std::uint32_t* words = reinterpret_cast<const std::uint32_t*>(graph.record(id));
        for (std::uint32_t j = 0; j < (words[0] & 0xFFFF); j++) ASSERT_FALSE(deleted[words[1 + j]]);
    }

    ::testing::Test::RecordProperty("recall_before_repair", std::to_string(before));
    ::testing::Test::RecordProperty("recall_after_repair", std::to_string(after));
    std::printf("30%% deleted: recall@10 before repair %.4f, after repair %.4f (%zu lists rewritten)\n", before,
                after, rewritten);
    EXPECT_GE(after, 0.9);

    // The repaired graph still takes inserts.
    std::vector<float> extra(w.queries.row(0), w.queries.row(0) + kDim);
    std::uint32_t id = graph.add(extra.data(), 999999);
    std::vector<lhv::SearchResult> hit = graph.search(extra.data(), 1, kEf);
    ASSERT_EQ(hit.size(), 1u);
    EXPECT_EQ(hit[0].id, id);
    EXPECT_EQ(hit[0].label, 999999u);
}

TEST(HnswDelete, EverythingDeletedReturnsNothing) {
    lhv::GraphParams params;
    params.dimension = 4;
    lhv_test::HeapGraph g(params);
    lhv_test::Dataset d = lhv_test::uniform_dataset(100, 4, 1);
    g.add_all(d);
    for (std::uint32_t i = 0; i < 100; i++) g.graph->mark_deleted(i);
    EXPECT_TRUE(g.graph->search(d.row(0), 5, 20).empty());
    g.graph->repair();
    EXPECT_TRUE(g.graph->search(d.row(0), 5, 20).empty());
    EXPECT_THROW(g.graph->mark_deleted(100), lhv::Error);
}

}  // namespace
