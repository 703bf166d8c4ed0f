// hnsw_graph_impl.h: the state of one HnswGraph view and its storage
// accessors (internal; shared by the hnsw_*.cpp files).
//
// A view holds nothing of the graph itself: only the header's address, the
// derived sizes, a cache of chunk addresses for this process (grown as chunks
// are used), and a pool of visited sets. Every accessor maps a u32 id to an address with shift/mask.
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <memory>
#include <queue>
#include <random>
#include <utility>
#include <vector>

#include "chunk_addresses.h"
#include "errors.h"
#include "graph_layout.h"
#include "hnsw_graph.h"
#include "visited_list.h"

namespace lhv {

// (distance, id), ordered by distance only, as hnswlib's CompareByFirst.
using Candidate = std::pair<float, std::uint32_t>;
struct CompareByDistance {
    bool operator()(const Candidate& a, const Candidate& b) const noexcept { return a.first < b.first; }
};
using CandidateHeap = std::priority_queue<Candidate, std::vector<Candidate>, CompareByDistance>;

struct HnswGraph::Impl {
    Impl(ChunkMemory& memory_in, GraphLocks& locks_in, ChunkHandle header_in);

    ChunkMemory& memory;
    GraphLocks& locks;
    ChunkHandle header_handle;
    layout::GraphHeader* header;

    GraphParams params;
    DistanceFn distance;
    std::size_t dimension;
    std::uint32_t max_m;
    std::uint32_t max_m0;
    std::size_t ef_construction;
    std::size_t record_bytes;
    std::size_t upper_level_bytes;
    std::size_t vector_offset;
    std::size_t label_offset;
    std::size_t element_info_offset;
    std::uint32_t chunk_shift;
    std::uint32_t chunk_mask;

    // This process's addresses of the chunks, filled on first use.
    ChunkAddresses level0_addresses{layout::kMaxLevel0Chunks};
    ChunkAddresses arena_addresses{layout::kMaxArenaChunks};
    // Set by seal(): this view never calls `memory` again.
    std::atomic<bool> sealed{false};
    VisitedListPool visited_pool;

    // ---- storage (hnsw_graph.cpp) ----
    char* level0_chunk(std::uint32_t chunk);
    char* arena_chunk(std::uint32_t chunk);

    // Published elements: ids [0, size()) are complete (see graph_layout.h).
    std::uint32_t size() const { return layout::load_acquire(&header->element_count); }
    // Claimed ids, complete or not. Neighbour lists name an element only once
    // its record and lists are written (its back links come last), so the
    // algorithm follows any claimed id it finds in a list; the bound only
    // keeps a damaged list from sending a search outside the storage.
    std::uint32_t claimed() const { return layout::load_acquire(&header->claimed_count); }
    // Is `id` claimed? Rereads the count only when `id` is beyond the last known one.
    bool is_element(std::uint32_t id, std::uint32_t& known_size) const {
        if (id < known_size) return true;
        known_size = claimed();
        return id < known_size;
    }

    char* record(std::uint32_t id) {
        return level0_chunk(id >> chunk_shift) + std::size_t(id & chunk_mask) * record_bytes;
    }
    layout::ElementInfo* info(std::uint32_t id) {
        char* base = level0_chunk(id >> chunk_shift) + element_info_offset;
        return reinterpret_cast<layout::ElementInfo*>(base) + (id & chunk_mask);
    }
    const float* vector(std::uint32_t id) { return reinterpret_cast<const float*>(record(id) + vector_offset); }
    int level(std::uint32_t id) { return info(id)->level; }
    std::uint64_t label(std::uint32_t id) {
        std::uint64_t value;
        std::memcpy(&value, record(id) + label_offset, sizeof(value));
        return value;
    }
    // The u32 header word of a neighbour list; the ids follow it.
    std::uint32_t* list(std::uint32_t id, int level_number) {
        if (level_number == 0) return reinterpret_cast<std::uint32_t*>(record(id));
        layout::ElementInfo* element = info(id);
        return reinterpret_cast<std::uint32_t*>(arena_chunk(element->arena_chunk) + element->arena_offset +
                                                std::size_t(level_number - 1) * upper_level_bytes);
    }
    // Acquire: an element seen live has its whole record written, even one
    // that was just reused (whose mark is cleared with a release store).
    bool deleted(std::uint32_t id) {
        return (layout::load_acquire(reinterpret_cast<const std::uint32_t*>(record(id))) & layout::kDeletedBit) != 0;
    }
    // Sets the deleted bit (once; counted once), for a published id or one
    // being added. Returns true if this call set it.
    bool set_deleted(std::uint32_t id) {
        std::uint32_t before = layout::fetch_or(reinterpret_cast<std::uint32_t*>(record(id)), layout::kDeletedBit);
        if ((before & layout::kDeletedBit) != 0) return false;
        layout::fetch_add(&header->deleted_count, std::uint32_t{1});
        return true;
    }
    // Clears the deleted bit of a reused element once its record is rewritten.
    void clear_deleted(std::uint32_t id) {
        layout::fetch_and(reinterpret_cast<std::uint32_t*>(record(id)), ~layout::kDeletedBit);
        layout::fetch_add(&header->deleted_count, ~std::uint32_t{0});
    }
    // Checks an incoming vector (insert or query) and, under Cosine, returns
    // it scaled to unit length in `storage`; otherwise returns it as given.
    const float* prepare_input(const float* input, std::vector<float>& storage) const {
        validate_vector(input, dimension, params.metric);
        if (params.metric != Metric::Cosine) return input;
        storage.resize(dimension);
        normalize(input, storage.data(), dimension);
        return storage.data();
    }
    // Asks the CPU to start loading a vector (its first kPrefetchBytes).
    void prefetch_vector(std::uint32_t id) {
        const char* start = reinterpret_cast<const char*>(vector(id));
        std::size_t bytes = std::min(dimension * sizeof(float), kPrefetchBytes);
        for (std::size_t offset = 0; offset < bytes; offset += 64) __builtin_prefetch(start + offset);
    }
    static constexpr std::size_t kPrefetchBytes = 1024;
    std::uint32_t max_links(int level_number) const { return level_number == 0 ? max_m0 : max_m; }
    static std::uint32_t stripe_slot(std::uint32_t id) {
        return layout::kFirstStripeSlot + id % layout::kNeighbourStripes;
    }
    float distance_between(std::uint32_t a, std::uint32_t b) { return distance(vector(a), vector(b), dimension); }

    // Copies a list under its stripe lock; returns the count (clamped to the level's maximum).
    std::uint32_t copy_list(std::uint32_t id, int level_number, std::uint32_t* out);
    // Writes a list; the caller holds its stripe lock or the element is not yet reachable.
    void write_list(std::uint32_t id, int level_number, const std::uint32_t* ids, std::uint32_t count);

    // Makes sure chunks exist for ids [0, elements); caller holds the growth lock.
    void grow_level0(std::uint32_t elements);
    // Appends one arena chunk; caller holds the growth lock.
    void grow_arena();
    // Reserves `bytes` of upper-level lists; caller holds the growth lock.
    void allocate_upper(std::size_t bytes, std::uint32_t* chunk, std::uint32_t* offset);
    // Assigns the next id with the given level; caller holds the growth lock.
    // The id is not published: size() does not count it until publish(id).
    std::uint32_t claim_id(int level_number);
    // Marks a claimed id complete (its record and lists are written) and
    // moves the published watermark over every complete id; takes the growth lock.
    void publish(std::uint32_t id);
    // The lists of deleted elements (graph_layout.h); callers hold the growth lock.
    void list_push(layout::ElementList& list, std::uint32_t id);
    std::uint32_t list_pop(layout::ElementList& list);  // kNoElement when empty
    void list_move_all(layout::ElementList& from, layout::ElementList& to);

    // hnswlib's getRandomLevel over the generator kept in the header: add()
    // draws exactly one level per id, in id order, so reserve() can replay
    // the draws of the next ids to know their upper-level bytes in advance.
    static int draw_level(std::default_random_engine& generator, double mult) {
        std::uniform_real_distribution<double> distribution(0.0, 1.0);
        double r = -std::log(distribution(generator)) * mult;
        if (!(r < double(layout::kMaxLevel))) return layout::kMaxLevel;  // also catches log(0) = -inf
        return static_cast<int>(r);
    }
    // Throws unless this view may call its ChunkMemory (see seal()).
    void check_not_sealed(const char* what) const;

    // ---- search (hnsw_search.cpp) ----
    // Greedy descent through levels [from, to) from `start` (hnswlib's upper-level loop).
    std::uint32_t descend(const float* query, std::uint32_t start, int from_level, int to_level);
    // hnswlib's searchBaseLayer (construction = true) or searchBaseLayerST (false).
    CandidateHeap search_layer(std::uint32_t start, const float* query, int level_number, std::size_t ef,
                               bool construction);

    // Recomputes the distances and labels of results that a reuse of an
    // element may have changed while the search read them, drops results
    // deleted meanwhile, and sorts them again (hnsw_search.cpp).
    void recheck_results(const float* query, std::vector<SearchResult>& results);

    // ---- linking (hnsw_insert.cpp) ----
    // hnswlib's getNeighborsByHeuristic2: keeps at most m diverse candidates,
    // returned nearest first.
    std::vector<Candidate> select_neighbours(std::vector<Candidate> candidates, std::size_t m);
    void add_back_link(std::uint32_t neighbour, std::uint32_t new_id, int level_number);
    void link_new_element(std::uint32_t id, const float* vector_data, int element_level);
    // Takes over deleted element `id` (popped off the free list) for a new
    // vector and label, as hnswlib's replace_deleted (hnsw_insert.cpp).
    void reuse_element(std::uint32_t id, const float* vector_data, std::uint64_t label_value);
};

}  // namespace lhv
