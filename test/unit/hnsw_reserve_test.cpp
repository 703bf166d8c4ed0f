// hnsw_reserve_test.cpp: what the parallel build relies on. reserve() makes
// room for exactly the upper-level arena the next adds will use (no more, no
// less), so threads that insert after it never reach the memory provider;
// and a sealed view refuses, rather than calls, its ChunkMemory, so a thread
// can never allocate or resolve shared memory however the build goes.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "test_data.h"

namespace {

using lhv::ErrorKind;

// A ChunkMemory that records every call made off the thread that created it.
class ThreadRecordingMemory final : public lhv::ChunkMemory {
public:
    lhv::ChunkHandle allocate(std::size_t bytes) override {
        note();
        return heap.allocate(bytes);
    }
    void release(lhv::ChunkHandle handle) noexcept override { heap.release(handle); }
    void* resolve(lhv::ChunkHandle handle) override {
        note();
        return heap.resolve(handle);
    }
    void note() {
        calls++;
        if (std::this_thread::get_id() != owner) foreign_calls++;
    }
    lhv::HeapChunkMemory heap;
    const std::thread::id owner = std::this_thread::get_id();
    std::atomic<std::size_t> calls{0};
    std::atomic<std::size_t> foreign_calls{0};
};

lhv::GraphParams params(std::uint32_t dim, std::uint32_t m) {
    lhv::GraphParams p;
    p.dimension = dim;
    p.m = m;
    p.ef_construction = 16;
    return p;
}

// Adds rows [first, last) of `d` from `threads` threads; returns the errors' kinds.
std::vector<ErrorKind> add_in_threads(lhv::HnswGraph& graph, const lhv_test::Dataset& d, std::size_t first,
                                      std::size_t last, int threads) {
    std::atomic<std::size_t> next(first);
    std::mutex errors_lock;
    std::vector<ErrorKind> errors;
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; t++)
        workers.emplace_back([&] {
            for (std::size_t i; (i = next.fetch_add(1)) < last;) {
                try {
                    graph.add(d.row(i), i);
                } catch (const lhv::Error& e) {
                    std::lock_guard<std::mutex> hold(errors_lock);
                    errors.push_back(e.kind());
                }
            }
        });
    for (std::thread& w : workers) w.join();
    return errors;
}

TEST(HnswReserve, ReservesExactlyTheArenaTheAddsUse) {
    // m = 2: every other element has upper levels, so the arena spans chunks.
    constexpr std::size_t kCount = 100000, kDim = 2;
    lhv_test::Dataset d = lhv_test::uniform_dataset(kCount, kDim, 31);
    lhv_test::HeapGraph reserved(params(kDim, 2)), grown(params(kDim, 2));
    reserved.graph->reserve(kCount);
    std::size_t after_reserve = reserved.graph->memory_bytes();
    reserved.add_all(d);
    grown.add_all(d);
    EXPECT_EQ(reserved.graph->memory_bytes(), after_reserve) << "the adds needed nothing more";
    EXPECT_EQ(after_reserve, grown.graph->memory_bytes()) << "and reserve() took no more than they use";
}

TEST(HnswReserve, ExactAfterEarlierInsertsToo) {
    constexpr std::size_t kCount = 60000, kDim = 3;
    lhv_test::Dataset d = lhv_test::uniform_dataset(kCount, kDim, 32);
    lhv_test::HeapGraph reserved(params(kDim, 3)), grown(params(kDim, 3));
    for (std::size_t i = 0; i < 777; i++) reserved.graph->add(d.row(i), i);
    reserved.graph->reserve(kCount);
    std::size_t after_reserve = reserved.graph->memory_bytes();
    for (std::size_t i = 777; i < kCount; i++) reserved.graph->add(d.row(i), i);
    grown.add_all(d);
    EXPECT_EQ(reserved.graph->memory_bytes(), after_reserve);
    EXPECT_EQ(after_reserve, grown.graph->memory_bytes());
}

TEST(HnswReserve, ThreadsNeverCallTheMemoryAfterReserve) {
    constexpr std::size_t kCount = 30000, kDim = 8;
    lhv_test::Dataset d = lhv_test::uniform_dataset(kCount, kDim, 33);
    for (std::uint32_t m : {2u, 4u, 16u}) {
        ThreadRecordingMemory memory;
        lhv::StdGraphLocks locks(lhv::HnswGraph::kLockSlots);
        lhv::ChunkHandle header = lhv::HnswGraph::create(memory, params(kDim, m));
        lhv::HnswGraph graph(memory, locks, header);
        graph.reserve(kCount);
        graph.seal();
        std::size_t calls_before = memory.calls;
        std::vector<ErrorKind> errors = add_in_threads(graph, d, 0, kCount, 4);
        EXPECT_TRUE(errors.empty()) << "m=" << m << ": " << errors.size() << " adds failed";
        EXPECT_EQ(graph.size(), kCount);
        EXPECT_EQ(memory.foreign_calls.load(), 0u) << "m=" << m;
        EXPECT_EQ(memory.calls.load(), calls_before) << "m=" << m;
        graph.destroy();
        EXPECT_EQ(memory.heap.allocated_bytes(), 0u);
    }
}

TEST(HnswReserve, ASealedViewRefusesInsteadOfCallingTheMemory) {
    constexpr std::size_t kCount = 20000, kDim = 8;
    lhv_test::Dataset d = lhv_test::uniform_dataset(kCount, kDim, 34);
    ThreadRecordingMemory memory;
    lhv::StdGraphLocks locks(lhv::HnswGraph::kLockSlots);
    lhv::ChunkHandle header = lhv::HnswGraph::create(memory, params(kDim, 4));
    {
        lhv::HnswGraph first(memory, locks, header);
        first.reserve(2000);
        first.seal();
        ASSERT_TRUE(add_in_threads(first, d, 0, 2000, 2).empty());
        // Past the room reserved (a level-0 chunk holds a power of two of
        // records): refused, not allocated from a thread.
        const std::size_t room = first.capacity();
        ASSERT_LT(room + 100, kCount);
        EXPECT_TRUE(add_in_threads(first, d, 2000, room, 2).empty());
        std::vector<ErrorKind> errors = add_in_threads(first, d, room, room + 100, 2);
        EXPECT_EQ(errors.size(), 100u);
        for (ErrorKind kind : errors) EXPECT_EQ(kind, ErrorKind::Internal);
        EXPECT_EQ(first.size(), room);
    }
    // A fresh view of the same graph that was never reserved (what a build
    // that made a new view per round did): it has resolved no chunk, so
    // sealed, every add is refused rather than resolving from the thread.
    lhv::HnswGraph fresh(memory, locks, header);
    std::uint32_t size = fresh.size();
    fresh.seal();
    std::vector<ErrorKind> errors = add_in_threads(fresh, d, 0, 100, 2);
    EXPECT_EQ(errors.size(), 100u);
    EXPECT_EQ(memory.foreign_calls.load(), 0u) << "no thread reached the memory provider";
    EXPECT_GE(fresh.size(), size);
    fresh.destroy();
    EXPECT_EQ(memory.heap.allocated_bytes(), 0u);
}

}  // namespace
