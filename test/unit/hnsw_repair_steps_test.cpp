// hnsw_repair_steps_test.cpp: repair in bounded steps (repair_range, as
// VACUUM runs it): stepwise repair gives the same lists as one repair(),
// each step respects its element and distance budgets, a pass stopped
// half-way leaves a graph that searches well and takes inserts, and inserts
// between steps are repaired by the steps that follow.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "test_data.h"

namespace {

// Marks every third element deleted, the entry point included.
void delete_every_third(lhv::HnswGraph& graph) {
    graph.mark_deleted(static_cast<std::uint32_t>(graph.entry_point()));
    for (std::uint32_t id = 0; id < graph.size(); id += 3)
        if (!graph.is_deleted(id)) graph.mark_deleted(id);
}

// Level-0 and upper lists of every element, as bytes.
std::vector<char> all_lists(const lhv::HnswGraph& graph) {
    std::vector<char> bytes;
    for (std::uint32_t id = 0; id < graph.size(); id++) {
        const char* record = graph.record(id);
        bytes.insert(bytes.end(), record, record + sizeof(std::uint32_t) * (1 + graph.max_m0()));
        if (const char* upper = graph.upper_links(id))
            bytes.insert(bytes.end(), upper, upper + graph.level(id) * graph.upper_level_bytes());
    }
    return bytes;
}

// True if some live element's level-0 list names a deleted element.
bool live_links_to_deleted(const lhv::HnswGraph& graph, std::uint32_t below) {
    for (std::uint32_t id = 0; id < below; id++) {
        if (graph.is_deleted(id)) continue;
        std::uint32_t words[1 + 2 * lhv::kMaxM];
        std::memcpy(words, graph.record(id), sizeof(std::uint32_t) * (1 + graph.max_m0()));
        for (std::uint32_t j = 0; j < (words[0] & 0xFFFF); j++)
            if (words[1 + j] < graph.size() && graph.is_deleted(words[1 + j])) return true;
    }
    return false;
}

TEST(HnswRepairSteps, StepsGiveTheSameListsAsOneRepair) {
    constexpr std::size_t kBase = 4000, kDim = 16;
    lhv_test::Dataset d = lhv_test::uniform_dataset(kBase, kDim, 21);
    lhv::GraphParams params;
    params.dimension = kDim;
    lhv_test::HeapGraph whole(params), stepwise(params);
    whole.add_all(d);
    stepwise.add_all(d);
    delete_every_third(*whole.graph);
    delete_every_third(*stepwise.graph);

    std::size_t rewritten_whole = whole.graph->repair();
    std::size_t rewritten_steps = 0, steps = 0;
    for (std::uint32_t next = 0; next < stepwise.graph->size(); steps++) {
        lhv::HnswGraph::RepairStep step = stepwise.graph->repair_range(next, 97);
        ASSERT_GT(step.next_id, next) << "a step always advances";
        ASSERT_LE(step.next_id - next, 97u) << "at most max_elements per step";
        rewritten_steps += step.rewritten;
        next = step.next_id;
    }
    EXPECT_TRUE(stepwise.graph->repair_entry_point());
    EXPECT_FALSE(stepwise.graph->repair_entry_point()) << "already on a live element";
    EXPECT_GT(steps, 40u);
    EXPECT_EQ(rewritten_steps, rewritten_whole);
    EXPECT_EQ(stepwise.graph->entry_point(), whole.graph->entry_point());
    EXPECT_TRUE(all_lists(*stepwise.graph) == all_lists(*whole.graph));
    EXPECT_FALSE(live_links_to_deleted(*stepwise.graph, kBase));
}

TEST(HnswRepairSteps, DistanceBudgetStopsAStepEarly) {
    constexpr std::size_t kBase = 3000, kDim = 8;
    lhv_test::Dataset d = lhv_test::uniform_dataset(kBase, kDim, 22);
    lhv::GraphParams params;
    params.dimension = kDim;
    lhv_test::HeapGraph g(params);
    g.add_all(d);
    delete_every_third(*g.graph);
    // A budget smaller than one element's work: each step ends after the
    // first element whose lists it rewrote.
    std::uint32_t next = 1;  // id 0 is deleted
    lhv::HnswGraph::RepairStep step = g.graph->repair_range(next, 1000, 1);
    EXPECT_GT(step.next_id, next);
    EXPECT_GE(step.rewritten, 1u);
    EXPECT_LE(step.rewritten, 1u + std::size_t(g.graph->level(step.next_id - 1)));
    std::size_t steps = 0;
    for (next = step.next_id; next < kBase; steps++) next = g.graph->repair_range(next, 1000, 1).next_id;
    EXPECT_GT(steps, kBase / 2) << "a tiny budget means about one element per step";
    EXPECT_FALSE(live_links_to_deleted(*g.graph, kBase));
    // Past the end: nothing to do.
    step = g.graph->repair_range(kBase + 5, 10);
    EXPECT_EQ(step.next_id, kBase + 5);
    EXPECT_EQ(step.rewritten, 0u);
}

TEST(HnswRepairSteps, StoppedHalfWayThenInsertsThenResumed) {
    constexpr std::size_t kBase = 6000, kQueries = 100, kDim = 16, kK = 10, kEf = 64;
    lhv_test::Workload w = lhv_test::make_workload(lhv_test::DataKind::Uniform, kBase, kQueries, kDim, 23);
    lhv::GraphParams params;
    params.dimension = kDim;
    lhv_test::HeapGraph g(params);
    g.add_all(w.base);
    lhv::HnswGraph& graph = *g.graph;
    delete_every_third(graph);
    std::vector<bool> deleted(kBase + 200, false);
    for (std::uint32_t id = 0; id < kBase; id++) deleted[id] = graph.is_deleted(id);

    // Half a pass, as a cancelled VACUUM leaves it.
    std::uint32_t next = 0;
    while (next < kBase / 2) next = graph.repair_range(next, 100).next_id;
    auto skip = [&](std::size_t i) { return i < kBase && bool(deleted[i]); };
    auto search = [&](const float* q) {
        std::vector<std::uint64_t> labels = lhv_test::search_labels(graph, q, kK, kEf);
        for (std::uint64_t label : labels) EXPECT_FALSE(skip(label));
        return labels;
    };
    double half = lhv_test::mean_recall(lhv::Metric::L2, w, kK, search, skip);
    EXPECT_GE(half, 0.85) << "a half-repaired graph still answers";

    // Inserts between steps, then the rest of the pass over the grown graph.
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> u(0, 1);
    std::vector<float> v(kDim);
    for (int i = 0; i < 200; i++) {
        for (float& x : v) x = u(rng);
        graph.add(v.data(), kBase + i);
    }
    while (next < graph.size()) next = graph.repair_range(next, 100).next_id;
    graph.repair_entry_point();
    EXPECT_FALSE(live_links_to_deleted(graph, graph.size()));
    EXPECT_FALSE(graph.is_deleted(static_cast<std::uint32_t>(graph.entry_point())));
    double full = lhv_test::mean_recall(lhv::Metric::L2, w, kK, search, skip);
    EXPECT_GE(full, 0.9);
    std::printf("recall@10 half-repaired %.4f, fully repaired %.4f\n", half, full);
}

}  // namespace
