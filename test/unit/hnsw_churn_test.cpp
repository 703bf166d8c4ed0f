// hnsw_churn_test.cpp: a graph that lives through many rounds of deletes and
// inserts, as a table under UPDATE/DELETE churn with VACUUM, must search as
// well as a graph built fresh from the rows that are left, and must not grow
// without bound: new elements reuse the memory of deleted ones.
//
// Each round does what VACUUM and concurrent INSERTs do to an lhv graph:
// mark a batch deleted (VACUUM's bulk delete), insert half a batch before the
// repair (inserts running while VACUUM is between its two passes), repair
// (VACUUM's cleanup), then insert the other half.
//
// Measured before element reuse and the repair that keeps live neighbours,
// searches for replacements and links back (clustered, 8,000 rows, 12
// rounds): rows found by their own vector 0.9959 against 0.9999 for a fresh
// build, 27,200 elements for 8,000 live rows. After: 0.9984, 8,800 elements.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "test_data.h"

namespace {

using lhv::Metric;

constexpr std::size_t kK = 10;
constexpr std::size_t kEf = 40;

// How well a graph serves the rows still live.
struct Quality {
    double self_found;       // share of live rows whose own vector finds them first (at kEf)
    double recall;           // mean recall@10 at kEf against brute force over the live rows
    std::size_t reachable;   // live elements reachable from the entry point on level 0
};

// Live elements reachable from the entry point through level-0 lists
// (deleted elements are passed through: searches traverse them too).
std::size_t reachable_live(const lhv::HnswGraph& graph) {
    if (graph.entry_point() < 0) return 0;
    std::vector<char> seen(graph.size(), 0);
    std::vector<std::uint32_t> stack{std::uint32_t(graph.entry_point())};
    seen[stack[0]] = 1;
    std::size_t live = 0;
    while (!stack.empty()) {
        std::uint32_t id = stack.back();
        stack.pop_back();
        if (!graph.is_deleted(id)) live++;
        const std::uint32_t* words = reinterpret_cast<const std::uint32_t*>(graph.record(id));
        for (std::uint32_t j = 0; j < (words[0] & 0xFFFF); j++) {
            std::uint32_t next = words[1 + j];
            if (next < seen.size() && !seen[next]) {
                seen[next] = 1;
                stack.push_back(next);
            }
        }
    }
    return live;
}

Quality measure(const lhv::HnswGraph& graph, const lhv_test::Workload& w, const std::vector<bool>& live) {
    std::size_t live_count = 0, found = 0;
    for (std::size_t label = 0; label < w.base.n; label++) {
        if (!live[label]) continue;
        live_count++;
        std::vector<lhv::SearchResult> hit = graph.search(w.base.row(label), 1, kEf);
        if (!hit.empty() && hit[0].label == label) found++;
    }
    auto skip = [&](std::size_t i) { return !live[i]; };
    auto search = [&](const float* q) { return lhv_test::search_labels(graph, q, kK, kEf); };
    return Quality{double(found) / double(live_count), lhv_test::mean_recall(Metric::L2, w, kK, search, skip),
                   reachable_live(graph)};
}

struct ChurnOutcome {
    Quality churned;
    Quality fresh;
    std::uint32_t elements;  // size() of the churned graph
    std::size_t live;
};

// `rounds` rounds over `initial` rows, each deleting `batch` random live rows
// and inserting `batch` new ones.
ChurnOutcome churn(lhv_test::DataKind kind, std::size_t initial, std::size_t batch, std::size_t rounds,
                   std::size_t dim) {
    const std::size_t total = initial + batch * rounds;
    lhv_test::Workload w = lhv_test::make_workload(kind, total, 200, dim, 11);

    lhv::GraphParams params;
    params.dimension = std::uint32_t(dim);
    lhv_test::HeapGraph g(params);
    lhv::HnswGraph& graph = *g.graph;
    std::vector<bool> live(total, false);
    std::unordered_map<std::uint64_t, std::uint32_t> id_of;
    std::vector<std::uint64_t> live_labels;
    auto insert = [&](std::size_t label) {
        id_of[label] = graph.add(w.base.row(label), label);
        live[label] = true;
        live_labels.push_back(label);
    };
    std::size_t next = 0;
    for (; next < initial; next++) insert(next);

    std::mt19937 rng(7);
    for (std::size_t round = 0; round < rounds; round++) {
        std::shuffle(live_labels.begin(), live_labels.end(), rng);
        for (std::size_t i = 0; i < batch; i++) {
            std::uint64_t label = live_labels.back();
            live_labels.pop_back();
            graph.mark_deleted(id_of.at(label));
            live[label] = false;
            id_of.erase(label);
        }
        for (std::size_t i = 0; i < batch / 2; i++) insert(next++);
        graph.repair();
        for (std::size_t i = batch / 2; i < batch; i++) insert(next++);
    }

    lhv_test::HeapGraph fresh(params);
    for (std::size_t label = 0; label < total; label++)
        if (live[label]) fresh.graph->add(w.base.row(label), label);
    return ChurnOutcome{measure(graph, w, live), measure(*fresh.graph, w, live), graph.size(), live_labels.size()};
}

void check(const char* name, const ChurnOutcome& o, std::size_t initial, std::size_t batch,
           double recall_tolerance) {
    std::printf("%s: churned found-by-own-vector %.4f recall@10 %.4f reachable %zu | fresh %.4f %.4f %zu | "
                "%u elements for %zu live rows\n",
                name, o.churned.self_found, o.churned.recall, o.churned.reachable, o.fresh.self_found,
                o.fresh.recall, o.fresh.reachable, o.elements, o.live);
    // Every live row stays findable as well as after a fresh build.
    EXPECT_GE(o.churned.self_found, o.fresh.self_found - 0.003);
    EXPECT_GE(o.churned.reachable + 3, o.fresh.reachable);
    EXPECT_GE(o.churned.recall, o.fresh.recall - recall_tolerance);
    // Memory is reused: at most the live rows plus the deletes of one round
    // not yet repaired (without reuse: initial + rounds x batch elements).
    EXPECT_LE(o.elements, initial + batch);
}

TEST(HnswChurn, UniformMatchesFreshBuild) {
    // Uniform data shows a repair's loss of recall soonest: 0.005 tells the
    // heuristic-only repair (0.9650 against 0.9735 here) from this one (0.9765).
    check("uniform", churn(lhv_test::DataKind::Uniform, 5000, 1000, 10, 24), 5000, 1000, 0.005);
}

TEST(HnswChurn, ClusteredMatchesFreshBuild) {
    // Separate clusters show lost reachability soonest, on more rounds.
    check("clustered", churn(lhv_test::DataKind::Clustered, 8000, 1600, 12, 24), 8000, 1600, 0.01);
}

}  // namespace
