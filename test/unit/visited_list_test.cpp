// visited_list_test.cpp: the visited set of a search (a hash set sized by
// what searches visit, not by the graph) and a view's private memory: both
// stay small however large the graph is.
#include <gtest/gtest.h>

#include <random>
#include <unordered_set>
#include <vector>

#include "test_data.h"
#include "visited_list.h"

namespace {

TEST(VisitedList, MarksEachIdOncePerSearch) {
    lhv::VisitedList visited;
    std::mt19937 rng(7);
    for (int search = 0; search < 50; search++) {
        visited.begin();
        std::unordered_set<std::uint32_t> seen;
        // Ids over the whole u32 range, with repeats; up to 20,000 per search
        // so that the table grows several times.
        const int marks = 100 + search * 400;
        std::uniform_int_distribution<std::uint32_t> any(0, search % 2 ? 5000 : UINT32_MAX);
        for (int i = 0; i < marks; i++) {
            std::uint32_t id = any(rng);
            ASSERT_EQ(visited.test_and_mark(id), !seen.insert(id).second) << "search " << search << " id " << id;
        }
    }
}

TEST(VisitedList, SizedByWhatASearchVisitsAndShrinksBack) {
    lhv::VisitedList visited;
    const std::size_t empty = visited.bytes();
    EXPECT_LE(empty, 20u * 1024);
    visited.begin();
    for (std::uint32_t id = 0; id < 100000; id++) visited.test_and_mark(id * 7919u);
    const std::size_t wide = visited.bytes();
    EXPECT_GE(wide, 100000u * 8 * 2);  // at most half full
    EXPECT_LE(wide, 100000u * 8 * 4 + 1024);
    // Narrow searches after it: the table halves at each start until it fits.
    for (int search = 0; search < 12; search++) {
        visited.begin();
        for (std::uint32_t id = 0; id < 50; id++) ASSERT_FALSE(visited.test_and_mark(id));
        for (std::uint32_t id = 0; id < 50; id++) ASSERT_TRUE(visited.test_and_mark(id));
    }
    EXPECT_EQ(visited.bytes(), empty);
}

TEST(VisitedList, ViewMemoryDoesNotGrowWithTheGraph) {
    // A view's private memory after searching: its chunk-address cache (a
    // page per 128 chunks) and its visited set, not 2 bytes per element.
    constexpr std::size_t kDim = 4;
    auto view_bytes_after_searching = [](std::size_t count) {
        lhv::GraphParams params;
        params.dimension = kDim;
        params.m = 8;
        params.records_per_chunk = 64;  // 782 chunks for 50,000 elements
        lhv_test::HeapGraph g(params);
        lhv_test::Dataset d = lhv_test::uniform_dataset(count, kDim, 3);
        g.add_all(d);
        lhv_test::HeapGraph::View reader(g);  // a fresh view, as another backend's
        for (std::size_t q = 0; q < 20; q++) reader.graph->search(d.row(q), 10, 40);
        return reader.graph->view_bytes();
    };
    const std::size_t small = view_bytes_after_searching(500);
    const std::size_t large = view_bytes_after_searching(50000);
    EXPECT_LE(small, 32u * 1024);
    // 100 times the elements: 782 chunk addresses (about 12 kB with the tables
    // outgrown) and a visited set that grew with what the searches visited,
    // not with the graph: hnswlib's tag array alone would be 100 kB, and the
    // old fixed cache of addresses 160 kB.
    EXPECT_LE(large, 64u * 1024);
}

}  // namespace
