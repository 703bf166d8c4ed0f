// hnsw_insert.cpp: inserting an element, as hnswlib's addPoint, with
// hnswlib's neighbour-selection heuristic.
//
// Locking: the growth slot while an id is assigned; the entry-point slot for
// the whole insert only when the new element becomes the new top (as
// hnswlib's global lock); otherwise one neighbour-list stripe at a time. The
// new element's own lists are all written before any back link makes it
// reachable, so no search ever sees it half-linked. Only then is the id
// published (counted by size(), readable through label() and is_deleted()).
#include <algorithm>
#include <cmath>
#include <optional>
#include <random>

#include "hnsw_graph_impl.h"
#include "tsan_annotations.h"

namespace lhv {

using namespace layout;

std::vector<Candidate> HnswGraph::Impl::select_neighbours(std::vector<Candidate> candidates, std::size_t m) {
    std::sort(candidates.begin(), candidates.end(),
              [](const Candidate& a, const Candidate& b) { return a.first < b.first; });
    if (candidates.size() < m) return candidates;  // hnswlib keeps them all
    std::vector<Candidate> chosen;
    chosen.reserve(m);
    for (const Candidate& candidate : candidates) {
        if (chosen.size() >= m) break;
        // Keep it only if it is nearer to the base than to every one already kept.
        bool diverse = true;
        for (const Candidate& kept : chosen) {
            if (distance_between(kept.second, candidate.second) < candidate.first) {
                diverse = false;
                break;
            }
        }
        if (diverse) chosen.push_back(candidate);
    }
    return chosen;
}

// Adds new_id to a neighbour's list, shrinking the list with the heuristic
// when it is full; holds only that neighbour's stripe lock. A reused element
// may already be in the list (a link to the element it replaced): then the
// list is left as it is, as hnswlib's updatePoint does.
void HnswGraph::Impl::add_back_link(std::uint32_t neighbour, std::uint32_t new_id, int level_number) {
    const std::uint32_t limit = max_links(level_number);
    std::uint32_t* words = list(neighbour, level_number);
    SlotGuard guard(locks, stripe_slot(neighbour));
    std::uint32_t count = std::min(load_relaxed(words) & kCountMask, limit);
    std::uint32_t* ids = words + 1;
    if (std::find(ids, ids + count, new_id) != ids + count) return;
    if (count < limit) {
        std::uint32_t extended[2 * kMaxM + 1];
        std::memcpy(extended, ids, count * sizeof(std::uint32_t));
        extended[count] = new_id;
        write_list(neighbour, level_number, extended, count + 1);
        return;
    }
    std::uint32_t known_size = claimed();
    std::vector<Candidate> candidates;
    candidates.reserve(count + 1);
    candidates.emplace_back(distance_between(new_id, neighbour), new_id);
    for (std::uint32_t j = 0; j < count; j++)
        if (ids[j] < known_size) candidates.emplace_back(distance_between(ids[j], neighbour), ids[j]);
    std::vector<Candidate> chosen = select_neighbours(std::move(candidates), limit);
    std::uint32_t rewritten[2 * kMaxM];
    std::uint32_t n = 0;
    for (auto it = chosen.rbegin(); it != chosen.rend(); ++it) rewritten[n++] = it->second;  // farthest first, as hnswlib
    write_list(neighbour, level_number, rewritten, n);
}

// Finds and writes the new element's neighbours on every level it shares
// with the graph (top down, each level's search starting from the nearest
// neighbour found on the level above), then adds the back links.
void HnswGraph::Impl::link_new_element(std::uint32_t id, const float* vector_data, int element_level) {
    std::optional<SlotGuard> entry_guard;
    std::uint64_t entry = load_acquire(&header->entry_point);
    if (entry == kNoEntryPoint || element_level > entry_level(entry)) {
        entry_guard.emplace(locks, kEntryPointSlot);
        entry = load_acquire(&header->entry_point);
        if (entry != kNoEntryPoint && element_level <= entry_level(entry)) entry_guard.reset();
    }
    if (entry == kNoEntryPoint) {
        store_release(&header->entry_point, pack_entry(id, element_level));
        return;
    }
    const std::uint32_t entry_element = entry_id(entry);
    const int top_level = entry_level(entry);

    std::uint32_t current = entry_element;
    if (element_level < top_level) current = descend(vector_data, current, top_level, element_level);

    // A deleted entry point is offered as a neighbour, as hnswlib does; not
    // to itself, when the element being linked is a reused entry point.
    const bool entry_deleted = deleted(entry_element) && entry_element != id;
    const int first_level = std::min(element_level, top_level);
    std::vector<std::vector<std::uint32_t>> selected(first_level + 1);
    for (int level_number = first_level; level_number >= 0; level_number--) {
        CandidateHeap top = search_layer(current, vector_data, level_number, ef_construction, true);
        if (entry_deleted) {
            top.emplace(distance(vector_data, vector(entry_element), dimension), entry_element);
            if (top.size() > ef_construction) top.pop();
        }
        if (top.empty()) continue;
        std::vector<Candidate> candidates;
        candidates.reserve(top.size());
        while (!top.empty()) {
            candidates.push_back(top.top());
            top.pop();
        }
        std::vector<Candidate> chosen = select_neighbours(std::move(candidates), max_m);
        std::vector<std::uint32_t>& ids = selected[level_number];
        for (auto it = chosen.rbegin(); it != chosen.rend(); ++it) ids.push_back(it->second);  // farthest first
        write_list(id, level_number, ids.data(), static_cast<std::uint32_t>(ids.size()));
        current = chosen.front().second;
    }
    for (int level_number = first_level; level_number >= 0; level_number--)
        for (std::uint32_t neighbour : selected[level_number]) add_back_link(neighbour, id, level_number);
    // A reused element above the top level (the entry point moved off it
    // when it was deleted) keeps no list of its old life up there.
    for (int level_number = element_level; level_number > first_level; level_number--) {
        std::uint32_t none = 0;
        SlotGuard guard(locks, stripe_slot(id));
        write_list(id, level_number, &none, 0);
    }

    if (entry_guard) store_release(&header->entry_point, pack_entry(id, element_level));
}

// The element is marked deleted and was on the free list, so no list names
// it, no other add() touches it and no search returns it: its vector and
// label are rewritten and it is linked as a new element would be, on its old
// levels. Only then is the mark cleared.
void HnswGraph::Impl::reuse_element(std::uint32_t id, const float* vector_data, std::uint64_t label_value) {
    char* record_data = record(id);
    {
        // Searches may read the old vector meanwhile; they detect a reuse
        // that overlapped them (reuse_started) and recheck their results.
        TsanIgnoreWrites hidden_from_tsan;
        (void)hidden_from_tsan;
        std::memcpy(record_data + vector_offset, vector_data, dimension * sizeof(float));
        std::memcpy(record_data + label_offset, &label_value, sizeof(label_value));
    }
    try {
        link_new_element(id, vector(id), level(id));
    } catch (...) {
        // Still deleted, but lists may name it now: it waits for a repair.
        {
            SlotGuard guard(locks, kGrowthSlot);
            list_push(header->pending, id);
        }
        fetch_add(&header->reuse_finished, std::uint64_t{1});
        throw;
    }
    clear_deleted(id);
    fetch_add(&header->reuse_finished, std::uint64_t{1});
}

std::uint32_t HnswGraph::add(const float* vector_data, std::uint64_t label_value) {
    Impl& g = *impl_;
    std::vector<float> normalised;
    vector_data = g.prepare_input(vector_data, normalised);

    std::uint32_t id;
    int element_level = 0;
    bool reused = false;
    {
        SlotGuard guard(g.locks, kGrowthSlot);
        // A sealed view (a build's threads) never reuses: reserve() counted
        // on new ids, and a build starts with no deleted element anyway.
        id = g.sealed.load(std::memory_order_relaxed) ? kNoElement : g.list_pop(g.header->free);
        if (id != kNoElement) {
            reused = true;
            fetch_add(&g.header->reuse_started, std::uint64_t{1});
        } else {
            std::default_random_engine generator = g.header->level_generator;
            element_level = Impl::draw_level(generator, g.header->level_mult);
            id = g.claim_id(element_level);
            g.header->level_generator = generator;
        }
    }
    if (reused) {
        g.reuse_element(id, vector_data, label_value);
        return id;
    }
    char* record_data = g.record(id);
    std::memcpy(record_data + g.vector_offset, vector_data, g.dimension * sizeof(float));
    std::memcpy(record_data + g.label_offset, &label_value, sizeof(label_value));
    try {
        g.link_new_element(id, vector_data, element_level);
    } catch (...) {
        // The id is claimed and the watermark cannot pass it until it is
        // published, so publish it anyway: deleted, because the add failed
        // (its vector and label are written; its lists may be partial).
        g.set_deleted(id);
        g.publish(id);
        SlotGuard guard(g.locks, kGrowthSlot);
        g.list_push(g.header->pending, id);
        throw;
    }
    g.publish(id);
    return id;
}

}  // namespace lhv
