// hnsw_repair.cpp: deletion marks (which put an element on the free list,
// for a later add() to reuse), and repairing the graph around deleted
// elements (rewiring neighbour lists with hnswlib's heuristic, moving the
// entry point off a deleted element).
#include <algorithm>
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

// For each live element and level whose list names deleted elements: the
// candidates are its live neighbours plus the live neighbours of its deleted
// neighbours, and the heuristic picks the new list among them. Stops after
// `max_elements` elements, or after the element during which about
// `max_distances` distances were computed (an upper estimate, counting the
// heuristic's comparisons), so that a step's time is bounded.
HnswGraph::RepairStep HnswGraph::repair_range(std::uint32_t first_id, std::uint32_t max_elements,
                                              std::size_t max_distances) {
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
    std::vector<Candidate> candidates;
    std::uint32_t id = first_id;
    while (id < end && distances < max_distances) {
        if (g.deleted(id)) {
            id++;
            continue;
        }
        for (int level_number = 0; level_number <= g.level(id); level_number++) {
            std::uint32_t n = g.copy_list(id, level_number, neighbours.data());
            bool touches_deleted = false;
            for (std::uint32_t j = 0; j < n; j++)
                if (neighbours[j] >= count || g.deleted(neighbours[j])) touches_deleted = true;
            if (!touches_deleted) continue;

            seen.clear();
            candidates.clear();
            auto offer = [&](std::uint32_t candidate) {
                if (candidate == id || candidate >= count || g.deleted(candidate)) return;
                if (g.level(candidate) < level_number) return;
                if (seen.insert(candidate).second) candidates.emplace_back(g.distance_between(id, candidate), candidate);
            };
            for (std::uint32_t j = 0; j < n; j++) {
                std::uint32_t neighbour = neighbours[j];
                if (neighbour >= count) continue;
                if (!g.deleted(neighbour)) {
                    offer(neighbour);
                } else if (g.level(neighbour) >= level_number) {
                    std::uint32_t m = g.copy_list(neighbour, level_number, second_hop.data());
                    for (std::uint32_t k = 0; k < m; k++) offer(second_hop[k]);
                }
            }
            const std::uint32_t limit = g.max_links(level_number);
            distances += candidates.size() * (1 + std::size_t(limit));
            std::vector<Candidate> chosen = g.select_neighbours(std::move(candidates), limit);
            candidates = std::vector<Candidate>();
            std::vector<std::uint32_t> ids;
            for (auto it = chosen.rbegin(); it != chosen.rend(); ++it) ids.push_back(it->second);
            {
                SlotGuard guard(g.locks, Impl::stripe_slot(id));
                g.write_list(id, level_number, ids.data(), static_cast<std::uint32_t>(ids.size()));
            }
            // New neighbours link back, as they would to a new element: the
            // lists rewritten around a deleted element lose links to their
            // own elements, and without these an element can end up with no
            // way in (found by nothing).
            for (std::uint32_t chosen_id : ids)
                if (std::find(neighbours.begin(), neighbours.begin() + n, chosen_id) == neighbours.begin() + n) {
                    g.add_back_link(chosen_id, id, level_number);
                    distances += limit * (1 + std::size_t(limit));
                }
            step.rewritten++;
        }
        id++;
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

std::uint32_t HnswGraph::begin_repair() {
    Impl& g = *impl_;
    SlotGuard guard(g.locks, kGrowthSlot);
    g.list_move_all(g.header->pending, g.header->repairing);
    return g.header->repairing.count;
}

void HnswGraph::finish_repair() {
    Impl& g = *impl_;
    SlotGuard guard(g.locks, kGrowthSlot);
    g.list_move_all(g.header->repairing, g.header->free);
}

std::size_t HnswGraph::repair() {
    begin_repair();
    std::size_t rewritten = 0;
    std::uint32_t next = 0;
    while (next < size()) {
        RepairStep step = repair_range(next, size() - next);
        rewritten += step.rewritten;
        next = step.next_id;
    }
    repair_entry_point();
    finish_repair();
    return rewritten;
}

}  // namespace lhv
