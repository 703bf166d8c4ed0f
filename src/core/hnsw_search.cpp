// hnsw_search.cpp: searching the graph, as hnswlib does: a greedy descent
// through the upper levels, then a best-first search of one level.
//
// Every neighbour list is copied under its stripe lock and then scanned
// unlocked, so searches never see a list half-written by an insert. A list
// names an element only once its record and lists are written, which can be
// a moment before size() counts it; results carry the label, read then.
// Ids never claimed are skipped, so a damaged list cannot crash a search.
#include <algorithm>
#include <atomic>
#include <limits>
#include <string>

#include "hnsw_graph_impl.h"

namespace lhv {

using namespace layout;

std::uint32_t HnswGraph::Impl::descend(const float* query, std::uint32_t start, int from_level, int to_level) {
    std::uint32_t known_size = claimed();
    std::uint32_t current = start;
    float current_distance = distance(query, vector(current), dimension);
    std::vector<std::uint32_t> neighbours(max_m);
    for (int level_number = from_level; level_number > to_level; level_number--) {
        bool changed = true;
        while (changed) {
            changed = false;
            std::uint32_t count = copy_list(current, level_number, neighbours.data());
            for (std::uint32_t j = 0; j < count; j++) {
                std::uint32_t candidate = neighbours[j];
                if (!is_element(candidate, known_size) || this->level(candidate) < level_number) continue;
                float d = distance(query, vector(candidate), dimension);
                if (d < current_distance) {
                    current_distance = d;
                    current = candidate;
                    changed = true;
                }
            }
        }
    }
    return current;
}

CandidateHeap HnswGraph::Impl::search_layer(std::uint32_t start, const float* query, int level_number, std::size_t ef,
                                            bool construction) {
    std::uint32_t known_size = claimed();
    VisitedLease visited(visited_pool);
    // searchBaseLayerST stops early only when no element is deleted; searchBaseLayer always waits for ef results.
    const bool wait_for_ef = construction || load_relaxed(&header->deleted_count) != 0;

    CandidateHeap top;         // the best ef so far, farthest on top
    CandidateHeap candidates;  // to expand, nearest on top (distances negated)
    float lower_bound;
    if (!deleted(start)) {
        float d = distance(query, vector(start), dimension);
        top.emplace(d, start);
        lower_bound = d;
        candidates.emplace(-d, start);
    } else {
        lower_bound = std::numeric_limits<float>::max();
        candidates.emplace(-lower_bound, start);
    }
    visited->test_and_mark(start);

    std::vector<std::uint32_t> neighbours(max_links(level_number));
    while (!candidates.empty()) {
        Candidate nearest = candidates.top();
        if (-nearest.first > lower_bound && (top.size() == ef || !wait_for_ef)) break;
        candidates.pop();

        std::uint32_t count = copy_list(nearest.second, level_number, neighbours.data());
        // First keep the unvisited neighbours and start loading their vectors,
        // so the distances below find them in cache (hnswlib prefetches too).
        std::uint32_t pending = 0;
        for (std::uint32_t j = 0; j < count; j++) {
            std::uint32_t candidate = neighbours[j];
            if (!is_element(candidate, known_size)) continue;
            if (level_number > 0 && this->level(candidate) < level_number) continue;
            if (visited->test_and_mark(candidate)) continue;
            prefetch_vector(candidate);
            neighbours[pending++] = candidate;
        }
        for (std::uint32_t j = 0; j < pending; j++) {
            std::uint32_t candidate = neighbours[j];
            float d = distance(query, vector(candidate), dimension);
            if (top.size() < ef || lower_bound > d) {
                candidates.emplace(-d, candidate);
                if (!deleted(candidate)) top.emplace(d, candidate);
                if (top.size() > ef) top.pop();
                if (!top.empty()) lower_bound = top.top().first;
            }
        }
    }
    return top;
}

std::vector<SearchResult> HnswGraph::search(const float* query, std::size_t k, std::size_t ef) const {
    Impl& g = *impl_;
    if (k == 0) throw Error(ErrorKind::InvalidParameter, "k must be at least 1");
    if (ef > kMaxEfSearch || k > kMaxEfSearch)
        throw Error(ErrorKind::InvalidParameter, "ef_search must be at most " + std::to_string(kMaxEfSearch) +
                                                     ", got " + std::to_string(std::max(ef, k)));
    std::vector<float> normalised;
    query = g.prepare_input(query, normalised);

    // A reuse rewrites an element in place; if none was under way when the
    // search began and none began before it ended, every record it read was
    // stable. (finished is read first: equal counts then mean none was running.)
    const std::uint64_t reuses_finished = load_acquire(&g.header->reuse_finished);
    const std::uint64_t reuses_started = load_acquire(&g.header->reuse_started);

    std::vector<SearchResult> results;
    std::uint64_t entry = load_acquire(&g.header->entry_point);
    if (entry == kNoEntryPoint) return results;
    std::uint32_t start = g.descend(query, entry_id(entry), entry_level(entry), 0);
    CandidateHeap top = g.search_layer(start, query, 0, std::max(ef, k), false);
    while (top.size() > k) top.pop();
    results.resize(top.size());
    for (std::size_t i = top.size(); i-- > 0;) {
        const Candidate& c = top.top();
        results[i] = SearchResult{c.first, g.label(c.second), c.second};
        top.pop();
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    if (reuses_started != reuses_finished || load_relaxed(&g.header->reuse_started) != reuses_started)
        g.recheck_results(query, results);
    return results;
}

// Repeats until no reuse began while it read: then each result not deleted
// had its last reuse finished before (its mark is cleared last, with a
// release store) and none since, so its vector and label were read whole.
void HnswGraph::Impl::recheck_results(const float* query, std::vector<SearchResult>& results) {
    std::vector<SearchResult> checked;
    for (;;) {
        checked.clear();
        const std::uint64_t started = load_acquire(&header->reuse_started);
        for (const SearchResult& r : results)
            if (!deleted(r.id)) checked.push_back(SearchResult{distance(query, vector(r.id), dimension), label(r.id), r.id});
        std::atomic_thread_fence(std::memory_order_acquire);
        if (load_relaxed(&header->reuse_started) == started) break;
    }
    std::sort(checked.begin(), checked.end(),
              [](const SearchResult& a, const SearchResult& b) { return a.distance < b.distance; });
    results.swap(checked);
}

}  // namespace lhv
