// hnsw_repair.cpp: deletion marks (which put an element on the free list,
// for a later add() to reuse), and repairing the graph around deleted
// elements (rewiring neighbour lists with hnswlib's heuristic, moving the
// entry point off a deleted element).
#include <algorithm>
#include <chrono>
#include <string>
#include <unordered_set>

#include "hnsw_graph_impl.h"

namespace lhv {

using namespace layout;

void HnswGraph::mark_deleted(std::uint32_t id) {
    Impl& g = *impl_;
    if (id >= g.size())
        throw Error(ErrorKind::InvalidParameter, "cannot delete element " + std::to_string(id) + ": no such element");
    if (g.set_deleted(id)) {
        // Reusable once a repair pass has unlinked it (graph_layout.h).
        SlotGuard guard(g.locks, kGrowthSlot);
        g.list_push(g.header->pending, id);
    }
}

bool HnswGraph::is_deleted(std::uint32_t id) const {
    Impl& g = *impl_;
    if (id >= g.size())
        throw Error(ErrorKind::InvalidParameter, "element " + std::to_string(id) + " out of range");
    return g.deleted(id);
}

// For each live element and level whose list names deleted elements, the
// deleted ones' slots are refilled; its live neighbours all stay (they were
// chosen well when they were linked, and among them are the rare long links
// that keep separate clusters reachable: re-choosing the whole list among
// many close candidates prunes those away). The candidates are the live
// neighbours of its deleted neighbours and, when the list lost much, what a
// search of that level from the element itself finds (ef_construction, as
// an insert); nearest first,
// each is kept if it is nearer to the element than to every neighbour kept
// so far (hnswlib's heuristic, against the whole list). New neighbours then
// link back, as they would to a new element: without those links an element
// whose ways in went through deleted ones could be found by nothing.
//
// Stops after `max_elements` elements, or after the element during which
// about `max_distances` distances were computed (an estimate counting the
// search, the heuristic and the back links) or `max_microseconds` passed, so
// that a step's time is bounded.
HnswGraph::RepairStep HnswGraph::repair_range(std::uint32_t first_id, std::uint32_t max_elements,
                                              std::size_t max_distances, std::uint64_t max_microseconds) {
    const auto started = std::chrono::steady_clock::now();
    auto out_of_time = [&] {
        return max_microseconds != UINT64_MAX &&
               std::uint64_t(std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                                   started)
                                 .count()) >= max_microseconds;
    };
    Impl& g = *impl_;
    const std::uint32_t count = g.size();
    RepairStep step{first_id, 0};
    if (first_id >= count || max_elements == 0) {
        step.next_id = std::max(first_id, count);
        return step;
    }
    const std::uint32_t end = count - first_id > max_elements ? first_id + max_elements : count;
    std::size_t distances = 0;
    std::vector<std::uint32_t> neighbours(g.max_m0);
    std::vector<std::uint32_t> second_hop(g.max_m0);
    std::unordered_set<std::uint32_t> seen;
    std::vector<Candidate> kept, candidates;
    std::vector<std::uint32_t> ids;
    std::uint32_t id = first_id;
    while (id < end && distances < max_distances) {
        if (g.deleted(id)) {
            id++;
            continue;
        }
        for (int level_number = 0; level_number <= g.level(id); level_number++) {
            const std::uint32_t n = g.copy_list(id, level_number, neighbours.data());
            bool touches_deleted = false;
            for (std::uint32_t j = 0; j < n; j++)
                if (neighbours[j] >= count || g.deleted(neighbours[j])) touches_deleted = true;
            if (!touches_deleted) continue;

            seen.clear();
            kept.clear();
            candidates.clear();
            seen.insert(id);
            for (std::uint32_t j = 0; j < n; j++) {
                std::uint32_t neighbour = neighbours[j];
                if (neighbour < count && !g.deleted(neighbour) && seen.insert(neighbour).second)
                    kept.emplace_back(g.distance_between(id, neighbour), neighbour);
            }
            auto offer = [&](std::uint32_t candidate) {
                if (candidate >= count || g.deleted(candidate) || g.level(candidate) < level_number) return;
                if (seen.insert(candidate).second) candidates.emplace_back(g.distance_between(id, candidate), candidate);
            };
            for (std::uint32_t j = 0; j < n; j++) {
                std::uint32_t neighbour = neighbours[j];
                if (neighbour < count && g.deleted(neighbour) && g.level(neighbour) >= level_number) {
                    std::uint32_t m = g.copy_list(neighbour, level_number, second_hop.data());
                    for (std::uint32_t k = 0; k < m; k++) offer(second_hop[k]);
                }
            }
            const std::uint32_t limit = g.max_links(level_number);
            // The search costs about an insert: only for a list that lost a
            // fifth of its entries or kept fewer than M/2 (the 2-hop
            // candidates fill small losses as well, at a fraction of the cost).
            const std::size_t lost = n - kept.size();
            const bool search = lost * 5 >= n || kept.size() < g.max_m / 2;
            if (search) {
                CandidateHeap found = g.search_layer(id, g.vector(id), level_number, g.ef_construction, true);
                while (!found.empty()) {
                    offer(found.top().second);
                    found.pop();
                }
                distances += g.ef_construction * limit;
            }
            distances += candidates.size() * (1 + kept.size());

            std::sort(candidates.begin(), candidates.end(),
                      [](const Candidate& a, const Candidate& b) { return a.first < b.first; });
            for (const Candidate& candidate : candidates) {
                if (kept.size() >= limit) break;
                bool diverse = true;
                for (const Candidate& k : kept)
                    if (g.distance_between(k.second, candidate.second) < candidate.first) {
                        diverse = false;
                        break;
                    }
                if (diverse) kept.push_back(candidate);
            }
            std::sort(kept.begin(), kept.end(), [](const Candidate& a, const Candidate& b) { return a.first < b.first; });
            ids.clear();
            for (auto it = kept.rbegin(); it != kept.rend(); ++it) ids.push_back(it->second);  // farthest first, as hnswlib
            {
                SlotGuard guard(g.locks, Impl::stripe_slot(id));
                g.write_list(id, level_number, ids.data(), static_cast<std::uint32_t>(ids.size()));
            }
            for (const Candidate& k : kept)
                if (std::find(neighbours.begin(), neighbours.begin() + n, k.second) == neighbours.begin() + n) {
                    g.add_back_link(k.second, id, level_number);
                    distances += limit * (1 + std::size_t(limit));
                }
            step.rewritten++;
        }
        id++;
        if (out_of_time()) break;
    }
    step.next_id = id;
    return step;
}

bool HnswGraph::repair_entry_point() {
    Impl& g = *impl_;
    const std::uint32_t count = g.size();
    std::uint64_t entry = load_acquire(&g.header->entry_point);
    if (entry == kNoEntryPoint || entry_id(entry) >= count || !g.deleted(entry_id(entry))) return false;
    std::int64_t best = -1;
    int best_level = -1;
    for (std::uint32_t id = 0; id < count; id++) {
        if (!g.deleted(id) && g.level(id) > best_level) {
            best = id;
            best_level = g.level(id);
        }
    }
    if (best < 0) return false;
    store_release(&g.header->entry_point, pack_entry(std::uint32_t(best), best_level));
    return true;
}

HnswGraph::RepairPass HnswGraph::begin_repair() {
    Impl& g = *impl_;
    // From now on no insert links to a deleted entry point.
    repair_entry_point();
    SlotGuard guard(g.locks, kGrowthSlot);
    g.list_move_all(g.header->pending, g.header->repairing);
    return RepairPass{g.claimed(), g.header->repairing.count};
}

void HnswGraph::finish_repair() {
    Impl& g = *impl_;
    repair_entry_point();
    SlotGuard guard(g.locks, kGrowthSlot);
    g.list_move_all(g.header->repairing, g.header->free);
}

std::size_t HnswGraph::repair() {
    const RepairPass pass = begin_repair();
    std::size_t rewritten = 0;
    std::uint32_t next = 0;
    while (next < pass.end && next < size()) {
        RepairStep step = repair_range(next, std::min(pass.end, size()) - next);
        rewritten += step.rewritten;
        next = step.next_id;
    }
    finish_repair();
    return rewritten;
}

}  // namespace lhv
