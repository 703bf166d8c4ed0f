// lhv1_after_repair_test.cpp: a graph whose entry point VACUUM's repair
// moved off a deleted element round-trips through LHV1. repair_entry_point()
// picks the live element of the highest level, so deleted elements may then
// sit above the graph's max level; the decoder must accept that (their lists
// above it are never searched), and still reject a live element there.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "errors.h"
#include "hnsw_graph.h"
#include "lhv1_codec.h"
#include "test_data.h"

namespace {

using lhv::HeapChunkMemory;
using lhv::HnswGraph;
using lhv::StdGraphLocks;

lhv::GraphParams params() {
    lhv::GraphParams p;
    p.dimension = 8;
    p.m = 4;
    p.ef_construction = 32;
    return p;
}

// A graph whose elements of the top level are all deleted and repaired away,
// encoded; sets *top to the level they had and *below to the new max level.
std::string repaired_snapshot(int* top, int* below) {
    HeapChunkMemory memory;
    StdGraphLocks locks(HnswGraph::kLockSlots);
    HnswGraph graph(memory, locks, HnswGraph::create(memory, params()));
    const auto data = lhv_test::uniform_dataset(400, 8, 3);
    for (std::size_t i = 0; i < data.n; i++) graph.add(data.row(i), i);
    *top = graph.max_level();
    for (std::uint32_t id = 0; id < graph.size(); id++)
        if (graph.level(id) == *top) graph.mark_deleted(id);
    graph.repair();
    *below = graph.max_level();
    lhv::StringSink sink;
    lhv::encode_lhv1(lhv::Lhv1Envelope(), graph, sink);
    graph.destroy();
    return sink.bytes;
}

TEST(Lhv1AfterRepair, DeletedElementsAboveTheMaxLevelRoundTrip) {
    int top = 0, below = 0;
    const std::string snapshot = repaired_snapshot(&top, &below);
    ASSERT_GT(top, below) << "the repair should have moved the entry point down a level";

    HeapChunkMemory memory;
    StdGraphLocks locks(HnswGraph::kLockSlots);
    HnswGraph loaded(memory, locks, lhv::decode_lhv1(snapshot.data(), snapshot.size(), memory, nullptr));
    EXPECT_EQ(loaded.max_level(), below);
    int above = 0;
    for (std::uint32_t id = 0; id < loaded.size(); id++)
        if (loaded.level(id) > below) {
            EXPECT_TRUE(loaded.is_deleted(id)) << id;
            above++;
        }
    EXPECT_GT(above, 0);
    // It still searches and takes inserts, of any level.
    const auto more = lhv_test::uniform_dataset(300, 8, 4);
    for (std::size_t i = 0; i < more.n; i++) loaded.add(more.row(i), 1000 + i);
    const auto results = loaded.search(more.row(7), 5, 64);
    ASSERT_FALSE(results.empty());
    EXPECT_EQ(results[0].label, 1007u);
    loaded.destroy();
}

TEST(Lhv1AfterRepair, ALiveElementAboveTheMaxLevelIsStillCorrupt) {
    int top = 0, below = 0;
    std::string snapshot = repaired_snapshot(&top, &below);
    std::size_t graph_offset = 0;
    lhv::decode_lhv1_envelope(snapshot.data(), snapshot.size(), &graph_offset);
    std::uint64_t count = 0, record_bytes = 0;
    std::memcpy(&count, &snapshot[graph_offset + 16], 8);
    std::memcpy(&record_bytes, &snapshot[graph_offset + 24], 8);
    // Find an element above the max level (a deleted one) and clear its mark.
    std::size_t at = graph_offset + 96 + count * record_bytes;
    for (std::uint64_t id = 0; id < count; id++) {
        std::uint32_t list_bytes = 0;
        std::memcpy(&list_bytes, &snapshot[at], 4);
        if (list_bytes / (4 + 4 * 4) > std::uint32_t(below)) {
            const std::size_t record = graph_offset + 96 + id * record_bytes;
            snapshot[record + 2] = 0;  // the deleted flag lives in byte 2
            break;
        }
        at += 4 + list_bytes;
    }
    HeapChunkMemory memory;
    try {
        lhv::decode_lhv1(snapshot.data(), snapshot.size(), memory, nullptr);
        ADD_FAILURE() << "a live element above the max level was accepted";
    } catch (const lhv::Error& e) {
        EXPECT_EQ(e.kind(), lhv::ErrorKind::CorruptSnapshot);
        EXPECT_NE(std::string(e.what()).find("above the graph's maxlevel"), std::string::npos) << e.what();
    }
    EXPECT_EQ(memory.allocated_bytes(), 0u);
}

}  // namespace
