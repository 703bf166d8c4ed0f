// hnsw_reuse_test.cpp: add() reusing deleted elements (hnswlib's
// replace_deleted, under lhv's rules): only once a repair pass unlinked them,
// never in a sealed view, and safely while other threads search, insert and
// delete (the suite name makes it run under ThreadSanitizer too).
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <memory>
#include <mutex>
#include <random>
#include <shared_mutex>
#include <thread>
#include <vector>

#include "test_data.h"

namespace {

// The vector of label `label`: a fixed function of it, so a checker can
// recompute the distance of any result from its label alone.
std::vector<float> vector_of(std::uint64_t label, std::size_t dim) {
    std::mt19937 rng(static_cast<std::uint32_t>(label * 2654435761u + 1));
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::vector<float> v(dim);
    for (float& x : v) x = u(rng);
    return v;
}

double l2_squared(const std::vector<float>& a, const std::vector<float>& b) {
    double sum = 0;
    for (std::size_t i = 0; i < a.size(); i++) sum += double(a[i] - b[i]) * double(a[i] - b[i]);
    return sum;
}

TEST(HnswReuse, DeletedElementsAreReusedOnlyAfterARepairPass) {
    constexpr std::size_t kDim = 8;
    lhv::GraphParams params;
    params.dimension = kDim;
    lhv_test::HeapGraph g(params);
    lhv::HnswGraph& graph = *g.graph;
    for (std::uint64_t label = 0; label < 500; label++) graph.add(vector_of(label, kDim).data(), label);

    for (std::uint32_t id = 0; id < 100; id++) graph.mark_deleted(id);
    EXPECT_EQ(graph.deleted_count(), 100u);
    EXPECT_EQ(graph.free_count(), 0u);
    // Not repaired yet: lists still name them, so an add takes a new id.
    EXPECT_EQ(graph.add(vector_of(1000, kDim).data(), 1000), 500u);

    lhv::HnswGraph::RepairPass pass = graph.begin_repair();
    EXPECT_EQ(pass.deleted, 100u);
    EXPECT_EQ(pass.end, 501u);
    for (std::uint32_t next = 0; next < pass.end;) next = graph.repair_range(next, 64).next_id;
    EXPECT_EQ(graph.free_count(), 0u) << "reusable only when the pass is finished";
    graph.finish_repair();
    EXPECT_EQ(graph.free_count(), 100u);

    // No live list names a reusable element.
    for (std::uint32_t id = 0; id < graph.size(); id++) {
        if (graph.is_deleted(id)) continue;
        const std::uint32_t* words = reinterpret_cast<const std::uint32_t*>(graph.record(id));
        for (std::uint32_t j = 0; j < (words[0] & 0xFFFF); j++) ASSERT_GE(words[1 + j], 100u);
    }

    // The next 100 adds reuse them, then new ids follow.
    for (std::uint64_t label = 2000; label < 2100; label++) {
        std::uint32_t id = graph.add(vector_of(label, kDim).data(), label);
        EXPECT_LT(id, 100u);
        EXPECT_EQ(graph.label(id), label);
        EXPECT_FALSE(graph.is_deleted(id));
    }
    EXPECT_EQ(graph.free_count(), 0u);
    EXPECT_EQ(graph.deleted_count(), 0u);
    EXPECT_EQ(graph.add(vector_of(3000, kDim).data(), 3000), 501u);
    EXPECT_EQ(graph.size(), 502u);

    // Every live label is found by its own vector at distance 0, and the old
    // labels of the reused elements are gone.
    for (std::uint32_t id = 0; id < graph.size(); id++) {
        std::uint64_t label = graph.label(id);
        std::vector<lhv::SearchResult> hit = graph.search(vector_of(label, kDim).data(), 1, 64);
        ASSERT_EQ(hit.size(), 1u);
        EXPECT_EQ(hit[0].label, label);
        EXPECT_EQ(hit[0].distance, 0.0f);
    }
    for (std::uint64_t label = 0; label < 100; label++) {
        std::vector<lhv::SearchResult> hit = graph.search(vector_of(label, kDim).data(), 5, 64);
        for (const lhv::SearchResult& r : hit) EXPECT_GE(r.label, 100u) << "deleted label " << r.label << " returned";
    }
}

TEST(HnswReuse, SealedViewsNeverReuse) {
    constexpr std::size_t kDim = 4;
    lhv::GraphParams params;
    params.dimension = kDim;
    lhv_test::HeapGraph g(params);
    for (std::uint64_t label = 0; label < 100; label++) g.graph->add(vector_of(label, kDim).data(), label);
    for (std::uint32_t id = 0; id < 10; id++) g.graph->mark_deleted(id);
    g.graph->repair();
    ASSERT_EQ(g.graph->free_count(), 10u);
    g.graph->reserve(120);
    g.graph->seal();
    EXPECT_EQ(g.graph->add(vector_of(500, kDim).data(), 500), 100u);
    EXPECT_EQ(g.graph->free_count(), 10u);
}

// Inserters (reusing what the deleter frees), a deleter that marks and
// repairs as VACUUM does (excluding writers, as the slot lock does in
// PostgreSQL), and searchers that take no lock. Every result must pair a
// label with that label's own distance: a reuse rewriting an element under
// a search must never make it return one row's label with another's distance.
TEST(HnswReuseConcurrency, SearchesStayConsistentWhileElementsAreReused) {
    constexpr std::size_t kDim = 16;
    constexpr int kInserters = 2;
    constexpr int kSearchers = 2;
    constexpr std::uint64_t kInitial = 1500;
    constexpr std::uint64_t kPerInserter = 1200;
    lhv::HeapChunkMemory memory;
    lhv::GraphParams params;
    params.dimension = kDim;
    params.m = 8;
    params.ef_construction = 40;
    lhv::ChunkHandle header = lhv::HnswGraph::create(memory, params);
    lhv::AtomicGraphLocks locks(lhv::HnswGraph::lock_words(memory, header));
    lhv::HnswGraph owner(memory, locks, header);
    for (std::uint64_t label = 0; label < kInitial; label++) owner.add(vector_of(label, kDim).data(), label);
    // Some elements free from the start, so that reuse happens however the
    // threads are scheduled.
    for (std::uint32_t id = 0; id < kInitial; id += 10) owner.mark_deleted(id);
    owner.repair();
    ASSERT_EQ(owner.free_count(), kInitial / 10);

    std::shared_mutex writers;  // the slot lock: shared for inserts and marks, exclusive for repair steps
    std::atomic<int> inserters_running{kInserters};
    std::atomic<std::size_t> searches{0}, bad{0}, reused{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kInserters; t++) {
        threads.emplace_back([&, t] {
            lhv::HnswGraph view(memory, locks, header);
            for (std::uint64_t i = 0; i < kPerInserter; i++) {
                std::uint64_t label = kInitial + std::uint64_t(t) * kPerInserter + i;
                std::shared_lock<std::shared_mutex> lock(writers);
                std::uint32_t before = view.free_count();
                view.add(vector_of(label, kDim).data(), label);
                if (before > 0 && view.free_count() < before) reused++;
            }
            inserters_running--;
        });
    }
    threads.emplace_back([&] {
        lhv::HnswGraph view(memory, locks, header);
        std::mt19937 rng(3);
        while (inserters_running.load() > 0) {
            {
                std::shared_lock<std::shared_mutex> lock(writers);
                std::uint32_t size = view.size();
                std::uniform_int_distribution<std::uint32_t> pick(0, size - 1);
                for (int i = 0; i < 100; i++) {
                    std::uint32_t id = pick(rng);
                    if (!view.is_deleted(id)) view.mark_deleted(id);
                }
            }
            std::unique_lock<std::shared_mutex> lock(writers);
            view.repair();
        }
    });
    for (int t = 0; t < kSearchers; t++) {
        threads.emplace_back([&, t] {
            lhv::HnswGraph view(memory, locks, header);
            std::mt19937 rng(100 + t);
            std::uniform_int_distribution<std::uint64_t> pick(0, kInitial + kInserters * kPerInserter);
            while (inserters_running.load() > 0) {
                std::vector<float> query = vector_of(pick(rng), kDim);
                std::vector<lhv::SearchResult> found = view.search(query.data(), 5, 32);
                for (std::size_t j = 0; j < found.size(); j++) {
                    double expected = l2_squared(query, vector_of(found[j].label, kDim));
                    if (std::fabs(expected - double(found[j].distance)) > 1e-3 * (1 + expected) ||
                        (j > 0 && found[j].distance < found[j - 1].distance)) {
                        bad++;
                        std::printf("bad result: label %llu distance %g, expected %g\n",
                                    (unsigned long long)found[j].label, double(found[j].distance), expected);
                    }
                }
                searches++;
            }
        });
    }
    for (std::thread& thread : threads) thread.join();

    std::printf("%zu searches during %zu reuses; %u elements, %u deleted\n", searches.load(), reused.load(),
                owner.size(), owner.deleted_count());
    EXPECT_EQ(bad.load(), 0u);
    EXPECT_GT(reused.load(), 0u);
    // Labels of live elements are unique and each finds itself.
    std::vector<std::uint64_t> labels;
    std::size_t found_self = 0, live = 0;
    for (std::uint32_t id = 0; id < owner.size(); id++) {
        if (owner.is_deleted(id)) continue;
        live++;
        std::uint64_t label = owner.label(id);
        labels.push_back(label);
        std::vector<lhv::SearchResult> hit = owner.search(vector_of(label, kDim).data(), 1, 64);
        if (!hit.empty() && hit[0].label == label) found_self++;
    }
    std::sort(labels.begin(), labels.end());
    EXPECT_EQ(std::adjacent_find(labels.begin(), labels.end()), labels.end());
    EXPECT_GE(double(found_self) / double(live), 0.99) << found_self << " of " << live << " live elements";
    owner.destroy();
    EXPECT_EQ(memory.allocated_bytes(), 0u);
}

}  // namespace
