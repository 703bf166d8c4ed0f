// hnsw_graph_test.cpp: the graph's contract apart from recall: parameter and
// vector validation, memory limits, growth without moving elements, reserve
// making inserts allocation-free, raw access for the codec, and robustness
// against damaged neighbour lists.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "test_data.h"

namespace {

using lhv::ErrorKind;
using lhv::GraphParams;
using lhv::Metric;

// Runs `action` and returns the kind of lhv::Error it threw (fails if none).
template <typename Action>
ErrorKind error_kind_of(Action action) {
    try {
        action();
    } catch (const lhv::Error& e) {
        return e.kind();
    }
    ADD_FAILURE() << "no lhv::Error thrown";
    return ErrorKind::Internal;
}

GraphParams params_with_dim(std::uint32_t dim, Metric metric = Metric::L2) {
    GraphParams p;
    p.dimension = dim;
    p.metric = metric;
    return p;
}

// A ChunkMemory that counts calls, to prove inserts after reserve() make none.
class CountingChunkMemory final : public lhv::ChunkMemory {
public:
    lhv::ChunkHandle allocate(std::size_t bytes) override {
        allocations++;
        return heap.allocate(bytes);
    }
    void release(lhv::ChunkHandle handle) noexcept override { heap.release(handle); }
    void* resolve(lhv::ChunkHandle handle) override {
        resolves++;
        return heap.resolve(handle);
    }
    lhv::HeapChunkMemory heap;
    std::size_t allocations = 0;
    std::size_t resolves = 0;
};

TEST(HnswGraph, CreateRejectsOutOfRangeParams) {
    lhv::HeapChunkMemory memory;
    auto create_with = [&](std::uint32_t dim, std::uint32_t m, std::uint32_t ef_construction) {
        return error_kind_of([&] {
            GraphParams p = params_with_dim(dim);
            p.m = m;
            p.ef_construction = ef_construction;
            lhv::HnswGraph::create(memory, p);
        });
    };
    EXPECT_EQ(create_with(0, 16, 64), ErrorKind::InvalidParameter);
    EXPECT_EQ(create_with(lhv::kMaxDimension + 1, 16, 64), ErrorKind::InvalidParameter);
    EXPECT_EQ(create_with(8, lhv::kMinM - 1, 64), ErrorKind::InvalidParameter);
    EXPECT_EQ(create_with(8, lhv::kMaxM + 1, 64), ErrorKind::InvalidParameter);
    EXPECT_EQ(create_with(8, 16, lhv::kMinEfConstruction - 1), ErrorKind::InvalidParameter);
    EXPECT_EQ(create_with(8, 16, lhv::kMaxEfConstruction + 1), ErrorKind::InvalidParameter);
    EXPECT_EQ(memory.allocated_bytes(), 0u);
}

TEST(HnswGraph, EfConstructionRaisedToM) {
    GraphParams p = params_with_dim(8);
    p.m = 48;
    p.ef_construction = 10;
    lhv_test::HeapGraph g(p);
    EXPECT_EQ(g.graph->params().ef_construction, 48u);
    EXPECT_EQ(g.graph->max_m0(), 96u);
    EXPECT_EQ(g.graph->record_bytes(), 4 + 96 * 4 + 8 * 4 + 8u);
    EXPECT_EQ(g.graph->upper_level_bytes(), 4 + 48 * 4u);
}

TEST(HnswGraph, SearchAndAddValidate) {
    lhv_test::HeapGraph g(params_with_dim(3, Metric::Cosine));
    const float v[3] = {1, 2, 3};
    EXPECT_TRUE(g.graph->search(v, 5, 10).empty());  // empty graph
    EXPECT_EQ(g.graph->entry_point(), -1);
    EXPECT_EQ(g.graph->max_level(), -1);
    g.graph->add(v, 7);
    EXPECT_EQ(error_kind_of([&] { g.graph->search(v, 0, 10); }), ErrorKind::InvalidParameter);
    EXPECT_EQ(error_kind_of([&] { g.graph->search(v, 1, lhv::kMaxEfSearch + 1); }), ErrorKind::InvalidParameter);
    const float zero[3] = {0, 0, 0};
    const float nan[3] = {1, std::nanf(""), 0};
    EXPECT_EQ(error_kind_of([&] { g.graph->add(zero, 1); }), ErrorKind::InvalidVector);
    EXPECT_EQ(error_kind_of([&] { g.graph->add(nan, 1); }), ErrorKind::InvalidVector);
    EXPECT_EQ(error_kind_of([&] { g.graph->search(zero, 1, 10); }), ErrorKind::InvalidVector);
    EXPECT_EQ(g.graph->size(), 1u);
    EXPECT_EQ(error_kind_of([&] { g.graph->label(1); }), ErrorKind::InvalidParameter);

    // Cosine stores the unit vector and ranks by angle, not length.
    const float* stored = g.graph->vector(0);
    EXPECT_NEAR(stored[0] * stored[0] + stored[1] * stored[1] + stored[2] * stored[2], 1.0f, 1e-6f);
    const float scaled[3] = {10, 20, 30};
    std::vector<lhv::SearchResult> hit = g.graph->search(scaled, 1, 10);
    ASSERT_EQ(hit.size(), 1u);
    EXPECT_EQ(hit[0].label, 7u);
    EXPECT_NEAR(hit[0].distance, 0.0f, 1e-6f);
}

TEST(HnswGraph, GrowsAcrossChunksWithoutMovingElements) {
    // dim 4000: a record is ~16 KB, so a chunk holds 128 of them.
    constexpr std::size_t kDim = 4000, kCount = 1100;
    lhv_test::Dataset d = lhv_test::clustered_dataset(kCount, kDim, 20, 3);
    lhv_test::HeapGraph g(params_with_dim(kDim));
    g.graph->add(d.row(0), 0);
    const char* first = g.graph->record(0);
    const std::size_t memory_after_first = g.graph->memory_bytes();
    for (std::size_t i = 1; i < kCount; i++) g.graph->add(d.row(i), i);
    EXPECT_EQ(g.graph->record(0), first);
    EXPECT_GE(g.graph->capacity(), kCount);
    EXPECT_GT(g.graph->memory_bytes(), 8 * memory_after_first / 2);
    // The heap rounds each block up to 64 bytes; memory_bytes() counts what the graph asked for.
    EXPECT_LE(g.graph->memory_bytes(), g.memory.allocated_bytes());
    EXPECT_LE(g.memory.allocated_bytes() - g.graph->memory_bytes(), 64u * 20);
    std::size_t found = 0;
    for (std::size_t i = 0; i < kCount; i += 10) {
        std::vector<lhv::SearchResult> top = g.graph->search(d.row(i), 1, 32);
        if (!top.empty() && top[0].label == i) found++;
    }
    EXPECT_GE(found, 105u);
}

TEST(HnswGraph, SmallChunksGiveTheSameGraph) {
    // records_per_chunk only changes where records live, never the algorithm:
    // 1,000 elements in 5 records a chunk (rounded up to 8: 125 chunks).
    constexpr std::size_t kCount = 1000, kDim = 16;
    lhv_test::Dataset d = lhv_test::uniform_dataset(kCount, kDim, 11);
    GraphParams p = params_with_dim(kDim);
    p.m = 6;
    lhv_test::HeapGraph usual(p);
    p.records_per_chunk = 5;
    lhv_test::HeapGraph small(p);
    usual.add_all(d);
    small.add_all(d);
    EXPECT_EQ(small.graph->capacity(), kCount);
    for (std::uint32_t id = 0; id < kCount; id++)
        ASSERT_EQ(std::memcmp(small.graph->record(id), usual.graph->record(id), small.graph->record_bytes()), 0);
    for (std::size_t q = 0; q < 50; q++)
        EXPECT_EQ(lhv_test::search_labels(*small.graph, d.row(q), 5, 20),
                  lhv_test::search_labels(*usual.graph, d.row(q), 5, 20));
    p.records_per_chunk = lhv::kMaxRecordsPerChunk + 1;
    EXPECT_EQ(error_kind_of([&] { lhv_test::HeapGraph rejected(p); }), ErrorKind::InvalidParameter);
}

TEST(HnswGraph, MemoryLimitThrowsAndGraphStaysUsable) {
    constexpr std::size_t kDim = 4000;  // 128 records per chunk
    lhv_test::Dataset d = lhv_test::uniform_dataset(200, kDim, 4);
    lhv_test::HeapGraph g(params_with_dim(kDim));
    std::size_t i = 0;
    for (; i < 128; i++) g.graph->add(d.row(i), i);
    g.memory.set_limit(g.memory.allocated_bytes());
    EXPECT_EQ(error_kind_of([&] { g.graph->add(d.row(i), i); }), ErrorKind::OutOfMemory);
    EXPECT_EQ(g.graph->size(), 128u);
    std::vector<lhv::SearchResult> top = g.graph->search(d.row(5), 1, 32);
    ASSERT_EQ(top.size(), 1u);
    EXPECT_EQ(top[0].label, 5u);
    g.memory.set_limit(SIZE_MAX);
    EXPECT_EQ(g.graph->add(d.row(i), i), 128u);
    EXPECT_EQ(g.graph->search(d.row(i), 1, 32)[0].label, i);
}

TEST(HnswGraph, InsertsAfterReserveCallNoChunkMemory) {
    constexpr std::size_t kCount = 5000, kDim = 8;
    lhv_test::Dataset d = lhv_test::uniform_dataset(kCount, kDim, 6);
    CountingChunkMemory memory;
    lhv::StdGraphLocks locks(lhv::HnswGraph::kLockSlots);
    GraphParams p = params_with_dim(kDim);
    p.m = 4;  // many upper levels: the arena is exercised too
    lhv::ChunkHandle header = lhv::HnswGraph::create(memory, p);
    lhv::HnswGraph graph(memory, locks, header);
    graph.reserve(kCount);
    memory.allocations = memory.resolves = 0;
    for (std::size_t i = 0; i < kCount; i++) graph.add(d.row(i), i);
    for (std::size_t i = 0; i < 100; i++) graph.search(d.row(i), 3, 16);
    EXPECT_EQ(memory.allocations, 0u);
    EXPECT_EQ(memory.resolves, 0u);
    EXPECT_EQ(graph.size(), kCount);
    graph.destroy();
    EXPECT_EQ(memory.heap.allocated_bytes(), 0u);
}

TEST(HnswGraph, RawCopyReproducesTheGraph) {
    constexpr std::size_t kCount = 2000, kDim = 12;
    lhv_test::Dataset d = lhv_test::uniform_dataset(kCount, kDim, 8);
    GraphParams p = params_with_dim(kDim);
    p.m = 6;
    lhv_test::HeapGraph source(p);
    source.add_all(d);
    source.graph->mark_deleted(17);
    lhv_test::HeapGraph copy(p);
    for (std::uint32_t id = 0; id < kCount; id++) {
        const char* upper = source.graph->upper_links(id);
        EXPECT_EQ(upper == nullptr, source.graph->level(id) == 0);
        EXPECT_EQ(copy.graph->append_raw(source.graph->record(id), source.graph->level(id), upper), id);
    }
    std::uint32_t entry = static_cast<std::uint32_t>(source.graph->entry_point());
    copy.graph->set_entry_point(entry, source.graph->max_level());
    EXPECT_EQ(copy.graph->deleted_count(), 1u);
    EXPECT_TRUE(copy.graph->is_deleted(17));
    for (std::uint32_t id = 0; id < kCount; id++) {
        ASSERT_EQ(std::memcmp(copy.graph->record(id), source.graph->record(id), p.m * 8 + 4 + kDim * 4 + 8), 0);
        ASSERT_EQ(copy.graph->level(id), source.graph->level(id));
    }
    for (std::size_t q = 0; q < 50; q++) {
        EXPECT_EQ(lhv_test::search_labels(*copy.graph, d.row(q), 5, 20),
                  lhv_test::search_labels(*source.graph, d.row(q), 5, 20));
    }
}

TEST(HnswGraph, AppendRawRejectsCorruptElements) {
    GraphParams p = params_with_dim(4);
    p.m = 4;
    lhv_test::HeapGraph g(p);
    std::vector<char> record(g.graph->record_bytes(), 0);
    std::vector<char> upper(2 * g.graph->upper_level_bytes(), 0);
    EXPECT_EQ(error_kind_of([&] { g.graph->append_raw(record.data(), -1, nullptr); }), ErrorKind::CorruptSnapshot);
    EXPECT_EQ(error_kind_of([&] { g.graph->append_raw(record.data(), 1000, upper.data()); }),
              ErrorKind::CorruptSnapshot);
    EXPECT_EQ(error_kind_of([&] { g.graph->append_raw(record.data(), 1, nullptr); }), ErrorKind::CorruptSnapshot);
    std::uint32_t too_many = 9;  // maxM0 is 8
    std::memcpy(record.data(), &too_many, 4);
    EXPECT_EQ(error_kind_of([&] { g.graph->append_raw(record.data(), 0, nullptr); }), ErrorKind::CorruptSnapshot);
    std::uint32_t upper_too_many = 5;  // maxM is 4
    std::uint32_t fine = 0;
    std::memcpy(record.data(), &fine, 4);
    std::memcpy(upper.data() + g.graph->upper_level_bytes(), &upper_too_many, 4);
    EXPECT_EQ(error_kind_of([&] { g.graph->append_raw(record.data(), 2, upper.data()); }),
              ErrorKind::CorruptSnapshot);
    EXPECT_EQ(g.graph->size(), 0u);
    g.graph->append_raw(record.data(), 0, nullptr);
    EXPECT_EQ(error_kind_of([&] { g.graph->set_entry_point(1, 0); }), ErrorKind::CorruptSnapshot);
    EXPECT_EQ(error_kind_of([&] { g.graph->set_entry_point(0, 3); }), ErrorKind::CorruptSnapshot);
}

TEST(HnswGraph, SearchSkipsOutOfRangeNeighbourIds) {
    GraphParams p = params_with_dim(2);
    p.m = 2;
    lhv_test::HeapGraph g(p);
    // Three elements on level 0 whose lists name ids that do not exist.
    for (std::uint32_t id = 0; id < 3; id++) {
        std::vector<char> record(g.graph->record_bytes(), 0);
        std::uint32_t words[5] = {4, (id + 1) % 3, 0xFFFFFFF0u, 3, 123456};
        std::memcpy(record.data(), words, sizeof(words));
        float v[2] = {float(id), 0};
        std::memcpy(record.data() + 4 + 4 * 4, v, sizeof(v));
        std::uint64_t label = 100 + id;
        std::memcpy(record.data() + 4 + 4 * 4 + sizeof(v), &label, 8);
        g.graph->append_raw(record.data(), 0, nullptr);
    }
    g.graph->set_entry_point(0, 0);
    const float q[2] = {2, 0};
    std::vector<std::uint64_t> labels = lhv_test::search_labels(*g.graph, q, 3, 10);
    EXPECT_EQ(labels, (std::vector<std::uint64_t>{102, 101, 100}));
}

TEST(HnswGraph, LevelsFollowHnswlibsGenerator) {
    // Same seed, same draws as hnswlib: levels are -ln(U(0,1)) / ln(M), so about
    // 1/M of the elements reach level 1 or more.
    lhv_test::Dataset d = lhv_test::uniform_dataset(4000, 4, 2);
    lhv_test::HeapGraph g(params_with_dim(4));
    g.add_all(d);
    std::size_t upper = 0;
    int highest = 0;
    for (std::uint32_t id = 0; id < 4000; id++) {
        upper += g.graph->level(id) > 0;
        highest = std::max(highest, g.graph->level(id));
    }
    EXPECT_NEAR(double(upper) / 4000.0, 1.0 / 16.0, 0.015);
    EXPECT_EQ(g.graph->max_level(), highest);
    EXPECT_EQ(g.graph->level(static_cast<std::uint32_t>(g.graph->entry_point())), highest);
}

}  // namespace
