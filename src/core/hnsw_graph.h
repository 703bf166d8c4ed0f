// hnsw_graph.h: an HNSW graph over chunked storage (the engine).
//
// The algorithm and the element layout are hnswlib's. What differs is where
// the bytes live: every piece of state sits in blocks from a ChunkMemory,
// addressed by handles and 32-bit ids, never by pointers, so one graph can be
// shared by many processes, each with its own HnswGraph view of it.
//
// Level-0 record of element i (exactly hnswlib's, stride record_bytes()):
//   u32 count|flags  (low 16 bits neighbour count, byte 2 bit 0 = deleted)
//   maxM0 x u32      neighbour ids
//   dim x f32        vector (unit length under Cosine)
//   u64              label
// Upper levels of an element: level x (u32 count, maxM x u32), in an arena.
//
// Concurrency: searches, inserts and mark_deleted may run at the same time
// from any number of threads or processes, each through its own view.
// repair() and destroy() need the caller to exclude writers.
//
// Publication: an element is published, i.e. counted by size(), only when
// its add() has written all of it (vector, label, level, every neighbour
// list) and every lower id is published too; ids are published in order.
// So a reader may walk ids [0, size()) without a lock and call label(),
// is_deleted(), vector(), level() or mark_deleted() on each: every such id
// is complete. These calls throw InvalidParameter for an id not yet
// published (id >= size()), even if add() already returned that id to
// another thread. An add() that throws after taking its id still publishes
// it, marked deleted.
//
// Reuse: a deleted element goes on a free list, and a later add() takes it
// over (as hnswlib's replace_deleted): same id and level, new vector, label
// and links. It stays marked deleted until all of that is written, so the
// label and vector of an element seen live (is_deleted() false) are whole:
// read is_deleted() first, then label() or vector(). Searches check for
// themselves (see search()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "distance.h"
#include "locks.h"
#include "memory.h"

namespace lhv {

struct GraphParams {
    std::uint32_t dimension = 0;
    std::uint32_t m = 16;                 // hnswlib's M; maxM0 = 2*M
    std::uint32_t ef_construction = 64;   // raised to at least M, as hnswlib
    Metric metric = Metric::L2;
    std::uint64_t random_seed = 100;      // level generator seed, as hnswlib
    // Elements per level-0 chunk, rounded up to a power of two; 0 (the
    // default) sizes chunks to about 2 MB. Small values give graphs of many
    // small chunks, for tests of what happens per chunk.
    std::uint32_t records_per_chunk = 0;
};

// Limits, checked by HnswGraph::create (InvalidParameter otherwise).
constexpr std::uint32_t kMinM = 2;
constexpr std::uint32_t kMaxM = 100;
constexpr std::uint32_t kMinEfConstruction = 4;
constexpr std::uint32_t kMaxEfConstruction = 1000;
constexpr std::uint32_t kMaxDimension = 16000;
constexpr std::uint32_t kMaxEfSearch = 100000;
constexpr std::uint32_t kMaxRecordsPerChunk = 1u << 16;

struct SearchResult {
    float distance;
    std::uint64_t label;
    std::uint32_t id;
};

class HnswGraph {
public:
    // Number of lock slots a graph uses; GraphLocks implementations are sized
    // by it (StdGraphLocks) or pointed at lock_words() (AtomicGraphLocks).
    static const std::uint32_t kLockSlots;

    // Allocates the shared header of a new, empty graph. Throws on bad params.
    static ChunkHandle create(ChunkMemory& memory, const GraphParams& params);

    // The graph's lock words (for AtomicGraphLocks).
    static LockWord* lock_words(ChunkMemory& memory, ChunkHandle header);

    // A view of an existing graph for this process or thread. Cheap to make.
    HnswGraph(ChunkMemory& memory, GraphLocks& locks, ChunkHandle header);
    ~HnswGraph();
    HnswGraph(const HnswGraph&) = delete;
    HnswGraph& operator=(const HnswGraph&) = delete;

    const GraphParams& params() const noexcept;
    std::uint32_t max_m0() const noexcept;        // 2*M
    std::size_t record_bytes() const noexcept;    // hnswlib's size_data_per_element
    std::size_t upper_level_bytes() const noexcept;  // hnswlib's size_links_per_element

    // Published elements, deleted ones included: ids [0, size()) are
    // complete (see Publication above). Never decreases.
    std::uint32_t size() const noexcept;
    std::uint32_t deleted_count() const noexcept;
    // Deleted elements waiting on the free list for an add() to reuse them.
    std::uint32_t free_count() const noexcept;
    // Deleted elements no finished repair pass has unlinked yet.
    std::uint32_t unrepaired_count() const noexcept;
    std::uint32_t capacity() const noexcept;

    // Makes room for `elements` in total, so that the add() calls up to that
    // many elements need no allocation: level-0 chunks, and exactly the
    // upper-level arena they will use (their levels are drawn in id order
    // from the seeded generator, so reserve() replays those draws). Also
    // resolves every chunk in this view. The parallel build calls it before
    // its threads start. Only add() is covered: append_raw() is not.
    void reserve(std::uint32_t elements);

    // From now on this view never calls its ChunkMemory: anything that would
    // (an add() past what reserve() made room for, a chunk this view has not
    // resolved) throws Error(Internal) instead. For threads that must not
    // reach the memory provider (in PostgreSQL, any thread but the backend's).
    // destroy() is not affected.
    void seal() noexcept;

    // Validates and inserts one vector; returns its internal id: a deleted
    // element's, reused, when the free list has one (never in a sealed view),
    // else a new id, published (below size()) once every add() of a lower id
    // has finished. Throws InvalidVector, OutOfMemory, CapacityExceeded.
    std::uint32_t add(const float* vector, std::uint64_t label);

    // The k nearest non-deleted elements, nearest first; ef is raised to k.
    // Validates the query (InvalidVector) and k/ef (InvalidParameter).
    // Results are complete elements, but under concurrent inserts one may
    // not be published yet (its id >= size()): use its label, not its id.
    // If an element was reused while the search ran, its results are
    // rechecked (distances and labels read again, deleted ones dropped), so
    // a result never pairs one row's label with another's distance.
    std::vector<SearchResult> search(const float* query, std::size_t k, std::size_t ef) const;

    // Deleted elements are skipped in results but still traversed, until
    // add() reuses them. Both throw InvalidParameter unless id < size().
    void mark_deleted(std::uint32_t id);
    bool is_deleted(std::uint32_t id) const;

    // A repair pass rewires every neighbour list that points at deleted
    // elements (and adds the back links an insert would), and moves the
    // entry point off deleted elements. It is begin_repair(), repair_range()
    // steps over [0, end), then finish_repair(): the elements deleted before
    // begin_repair() are then named by no list, and add() may reuse them.
    // Elements added during the pass need no rewiring: they link only to
    // live elements, since the entry point is live from begin_repair() on;
    // those claimed before it (an add in flight) are in the range, and a step
    // reaches them once they are published. repair() does it all at once and
    // returns the number of lists rewritten. Each call needs writers excluded.
    std::size_t repair();
    struct RepairPass {
        std::uint32_t end;       // the range to rewire is [0, end)
        std::uint32_t deleted;   // elements the pass will make reusable
    };
    RepairPass begin_repair();
    void finish_repair();

    // One bounded step of a repair pass, so that a caller can let writers in
    // and check for a cancel between steps: rewires the lists of elements
    // from first_id on, at most max_elements of them, stopping early after
    // the element during which about max_distances distances were computed
    // or max_microseconds passed (always at least one element). Each step
    // leaves the graph consistent; elements added between steps simply join
    // the range. Needs writers excluded for the step. next_id is size() (or
    // first_id, if larger) once the range reaches the end.
    struct RepairStep {
        std::uint32_t next_id;   // where the next step starts
        std::size_t rewritten;   // lists this step rewrote
    };
    RepairStep repair_range(std::uint32_t first_id, std::uint32_t max_elements,
                            std::size_t max_distances = SIZE_MAX, std::uint64_t max_microseconds = UINT64_MAX);

    // Moves the entry point off a deleted element, onto the live element of
    // the highest level. Returns true if it moved. Needs writers excluded.
    bool repair_entry_point();

    // Each throws InvalidParameter unless id < size().
    std::uint64_t label(std::uint32_t id) const;
    const float* vector(std::uint32_t id) const;   // as stored (unit under Cosine)
    int level(std::uint32_t id) const;
    // The entry point is set before its element is published: under
    // concurrent inserts it may briefly be >= size().
    std::int64_t entry_point() const noexcept;     // -1 when empty
    int max_level() const noexcept;                // -1 when empty

    // Bytes of memory the graph holds (header, chunks, arena).
    std::size_t memory_bytes() const noexcept;

    // Bytes of process-private memory this view holds (its cache of chunk
    // addresses and the visited sets its searches left in its pool), apart
    // from the graph itself. Call it when no search runs through the view.
    std::size_t view_bytes() noexcept;

    // Gives every block back. The view must not be used afterwards.
    void destroy() noexcept;

    // Raw access in hnswlib's layout, for the snapshot codec.
    const char* record(std::uint32_t id) const;               // record_bytes()
    const char* upper_links(std::uint32_t id) const;          // level(id) * upper_level_bytes(), or nullptr
    // Appends an element exactly as given (no search, no linking). Used to
    // load a saved graph: ids must be appended in order, then
    // set_entry_point() called once. Throws CorruptSnapshot on bad ids.
    std::uint32_t append_raw(const char* record, int level, const char* upper_links);
    void set_entry_point(std::uint32_t id, int level);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace lhv
