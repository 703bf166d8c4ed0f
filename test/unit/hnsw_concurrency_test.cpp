// hnsw_concurrency_test.cpp: inserters and searchers running at once, each
// thread with its own HnswGraph view of one shared header, with std::mutex
// locks and with the spin locks over the header's lock words; once with all
// room reserved up front and once growing chunk by chunk during the inserts.
// Small enough for ThreadSanitizer.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "test_data.h"

namespace {

constexpr int kInserters = 4;
constexpr int kSearchers = 2;

enum class LockKind { Std, Atomic };

struct Scenario {
    LockKind locks;
    bool reserve;
    std::size_t elements;
    std::size_t dim;  // large dims make small chunks, so growth crosses many chunks
};

void run_scenario(const Scenario& s) {
    // Uniform data in 1024-d is so hard that even a single-threaded build finds
    // only ~90% of its own vectors at m=8; clustered data keeps the check sharp.
    lhv_test::Dataset data = s.dim <= 32 ? lhv_test::uniform_dataset(s.elements, s.dim, 11)
                                         : lhv_test::clustered_dataset(s.elements, s.dim, 50, 11);
    lhv::HeapChunkMemory memory;
    lhv::GraphParams params;
    params.dimension = static_cast<std::uint32_t>(s.dim);
    params.m = 8;
    params.ef_construction = 40;
    lhv::ChunkHandle header = lhv::HnswGraph::create(memory, params);
    std::unique_ptr<lhv::GraphLocks> locks;
    if (s.locks == LockKind::Std)
        locks = std::make_unique<lhv::StdGraphLocks>(lhv::HnswGraph::kLockSlots);
    else
        locks = std::make_unique<lhv::AtomicGraphLocks>(lhv::HnswGraph::lock_words(memory, header));
    lhv::HnswGraph owner(memory, *locks, header);
    if (s.reserve) owner.reserve(static_cast<std::uint32_t>(s.elements));
    const std::uint32_t capacity_before = owner.capacity();

    std::atomic<int> inserters_running{kInserters};
    std::atomic<std::size_t> searches{0};
    std::atomic<std::size_t> bad_results{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kInserters; t++) {
        threads.emplace_back([&, t] {
            lhv::HnswGraph view(memory, *locks, header);
            for (std::size_t i = t; i < s.elements; i += kInserters) view.add(data.row(i), i);
            inserters_running--;
        });
    }
    for (int t = 0; t < kSearchers; t++) {
        threads.emplace_back([&, t] {
            lhv::HnswGraph view(memory, *locks, header);
            std::mt19937 rng(t);
            std::uniform_int_distribution<std::size_t> pick(0, s.elements - 1);
            while (inserters_running.load() > 0) {
                std::vector<lhv::SearchResult> found = view.search(data.row(pick(rng)), 5, 32);
                for (std::size_t j = 0; j < found.size(); j++) {
                    if (found[j].label >= s.elements || !std::isfinite(found[j].distance) ||
                        (j > 0 && found[j].distance < found[j - 1].distance))
                        bad_results++;
                }
                searches++;
            }
        });
    }
    for (std::thread& thread : threads) thread.join();

    ASSERT_EQ(owner.size(), s.elements);
    EXPECT_EQ(bad_results.load(), 0u);
    if (s.reserve) {
        EXPECT_EQ(owner.capacity(), capacity_before);
    } else {
        EXPECT_GT(owner.capacity(), capacity_before);
    }

    // Every label exactly once.
    std::vector<int> seen(s.elements, 0);
    for (std::uint32_t id = 0; id < owner.size(); id++) {
        std::uint64_t label = owner.label(id);
        ASSERT_LT(label, s.elements);
        seen[label]++;
    }
    for (std::size_t i = 0; i < s.elements; i++) ASSERT_EQ(seen[i], 1) << "label " << i;

    // Every vector finds itself at distance ~0 (allow a handful of misses).
    std::size_t found_self = 0;
    for (std::size_t i = 0; i < s.elements; i++) {
        std::vector<lhv::SearchResult> top = owner.search(data.row(i), 1, 64);
        if (!top.empty() && top[0].label == i && top[0].distance < 1e-4f) found_self++;
    }
    double fraction = double(found_self) / double(s.elements);
    std::printf("%s locks, %s: %zu elements, %zu concurrent searches, capacity %zu, self-found %.4f\n",
                s.locks == LockKind::Std ? "std" : "atomic", s.reserve ? "reserved" : "growing", s.elements,
                searches.load(), std::size_t(owner.capacity()), fraction);
    EXPECT_GE(fraction, 0.99);
    owner.destroy();
    EXPECT_EQ(memory.allocated_bytes(), 0u);
}

TEST(HnswConcurrency, StdLocksReserved) { run_scenario({LockKind::Std, true, 4000, 16}); }
TEST(HnswConcurrency, AtomicLocksReserved) { run_scenario({LockKind::Atomic, true, 4000, 16}); }
// dim 1024 gives 256 records per chunk: the inserts grow the graph to 8 chunks.
TEST(HnswConcurrency, StdLocksGrowing) { run_scenario({LockKind::Std, false, 2000, 1024}); }
TEST(HnswConcurrency, AtomicLocksGrowing) { run_scenario({LockKind::Atomic, false, 2000, 1024}); }

}  // namespace
