// graph_layout.h: the shared-memory layout of an HNSW graph (internal).
//
// A graph is one header block plus level-0 chunks and upper-level arena
// chunks, all from a ChunkMemory and referenced by handles stored in the
// header. Nothing here holds an address, so every process can map it.
//
// Level-0 chunk: records_per_chunk hnswlib records (stride record_bytes),
// then, at element_info_offset, one ElementInfo per record (its level, where
// its upper-level lists live in the arena, and whether it is complete).
//
// Publication: an id is claimed (claimed_count) before add() writes its
// record, and published once the record and every list are written. Ids
// finish out of order, so element_count is a watermark: the length of the
// prefix of claimed ids that are all complete. Readers that walk ids
// [0, element_count) therefore never meet a record still being written.
//
// Reuse: a deleted element waits on the `pending` list until a repair pass
// starts (`repairing`), and joins the `free` list when that pass has rewired
// every list away from it: no list names it any more. A later add() may
// then take it over: it writes the new vector and label while the element is
// still marked deleted, links it, and only then clears the mark (release).
// So a reader that sees an element not deleted (acquire) reads a complete
// record. reuse_started / reuse_finished count these takeovers, so that a
// search can tell, with two loads, whether one overlapped it
// (hnsw_search.cpp). The lists are linked through ElementInfo::next_free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <type_traits>

#include "hnsw_graph.h"
#include "locks.h"

namespace lhv {
namespace layout {

constexpr std::uint32_t kHeaderMagic = 0x4c485648;  // "LHVH"
constexpr std::uint32_t kLayoutVersion = 3;  // 2: claimed_count, ElementInfo::state; 3: the free list

constexpr std::size_t kLevel0ChunkTargetBytes = 2u << 20;  // ~2 MB of records per chunk
constexpr std::uint32_t kMinRecordsPerChunk = 64;
constexpr std::uint32_t kMaxLevel0Chunks = 16384;
constexpr std::uint32_t kMaxArenaChunks = 4096;
constexpr std::size_t kMinArenaChunkBytes = 1u << 20;
constexpr int kMaxLevel = 128;  // generated levels are clamped here; loaded ones checked

// Lock slots (see locks.h): the entry point, growth, then neighbour-list stripes.
constexpr std::uint32_t kEntryPointSlot = 0;
constexpr std::uint32_t kGrowthSlot = 1;
constexpr std::uint32_t kFirstStripeSlot = 2;
constexpr std::uint32_t kNeighbourStripes = 4096;
constexpr std::uint32_t kLockSlotCount = kFirstStripeSlot + kNeighbourStripes;

// Low 16 bits of a list's u32 header are the count; byte 2 bit 0 marks deletion.
constexpr std::uint32_t kCountMask = 0xFFFFu;
constexpr std::uint32_t kDeletedBit = 0x01u << 16;

// The entry point and max level, packed so both change in one atomic store.
constexpr std::uint64_t kNoEntryPoint = ~std::uint64_t{0};
inline std::uint64_t pack_entry(std::uint32_t id, int level) {
    return (std::uint64_t(std::uint32_t(level)) << 32) | id;
}
inline std::uint32_t entry_id(std::uint64_t packed) { return std::uint32_t(packed); }
inline int entry_level(std::uint64_t packed) { return std::int32_t(std::uint32_t(packed >> 32)); }

// ElementInfo::state: the element's record and lists are all written.
constexpr std::uint16_t kElementComplete = 1;
// The end of an element list.
constexpr std::uint32_t kNoElement = ~std::uint32_t{0};

// Per element, beside its record (so hnswlib's record bytes stay hnswlib's):
// its level, its state, the arena slot of its upper lists, and the next
// element of the free list while it is on it. 16 bytes, as before the free
// list: the level fits 16 bits (kMaxLevel).
struct ElementInfo {
    std::int16_t level;
    std::uint16_t state;        // (growth) 0 or kElementComplete
    std::uint32_t arena_chunk;
    std::uint32_t arena_offset;
    std::uint32_t next_free;    // (growth) the next element on its ElementList, or kNoElement
};
static_assert(sizeof(ElementInfo) == 16, "ElementInfo is 16 bytes per element");

// A list of deleted elements, linked through ElementInfo::next_free.
struct ElementList {
    std::uint32_t head;   // (growth) kNoElement when empty
    std::uint32_t tail;   // (growth)
    std::uint32_t count;  // (atomic, growth)
    std::uint32_t unused;
};
static_assert(std::is_trivially_copyable<ElementInfo>::value, "ElementInfo lives in shared memory");

// The graph's header block. Fields marked (atomic) are only accessed with the
// helpers below; fields marked (growth) only under the growth lock slot;
// (atomic, growth) ones are written under the lock and read atomically.
struct GraphHeader {
    std::uint32_t magic;
    std::uint32_t layout_version;
    GraphParams params;  // ef_construction already raised to at least m
    std::uint32_t max_m;
    std::uint32_t max_m0;
    std::uint32_t records_per_chunk_shift;
    std::uint32_t unused0;
    std::uint64_t record_bytes;
    std::uint64_t upper_level_bytes;
    std::uint64_t level0_chunk_bytes;
    std::uint64_t element_info_offset;
    std::uint64_t arena_chunk_bytes;
    double level_mult;  // 1 / ln(m), as hnswlib's mult_

    std::uint32_t element_count;       // (atomic, growth) ids [0, element_count) are complete
    std::uint32_t deleted_count;       // (atomic)
    std::uint32_t level0_chunk_count;  // (atomic)
    std::uint32_t arena_chunk_count;   // (atomic)
    std::uint32_t arena_current;       // (growth) arena chunk being filled
    std::uint32_t claimed_count;       // (atomic, growth) ids [0, claimed_count) are assigned
    std::uint64_t arena_offset;        // (growth) bytes used in arena_current
    std::uint64_t entry_point;         // (atomic) pack_entry(id, level) or kNoEntryPoint
    ElementList pending;               // deleted, waiting for a repair pass
    ElementList repairing;             // deleted before the repair pass under way began
    ElementList free;                  // deleted and unlinked: add() may reuse them
    std::uint64_t reuse_started;       // (atomic) takeovers of deleted elements begun
    std::uint64_t reuse_finished;      // (atomic) and finished

    std::default_random_engine level_generator;  // (growth) hnswlib's level_generator_

    std::uint32_t lock_words[kLockSlotCount];          // storage for AtomicGraphLocks
    std::uint64_t level0_chunks[kMaxLevel0Chunks];     // (atomic) ChunkHandles
    std::uint64_t arena_chunks[kMaxArenaChunks];       // (atomic) ChunkHandles
};
static_assert(std::is_trivially_copyable<GraphHeader>::value, "the header lives in shared memory");
static_assert(std::is_trivially_copyable<std::default_random_engine>::value,
              "the level generator state is kept in shared memory");
static_assert(sizeof(LockWord) == sizeof(std::uint32_t) && alignof(LockWord) == alignof(std::uint32_t),
              "lock words are stored as plain u32 in the header");

// Atomic access to plain integers that live in shared memory.
template <typename T>
inline T load_acquire(const T* p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
template <typename T>
inline T load_relaxed(const T* p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
template <typename T>
inline void store_release(T* p, T v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
template <typename T>
inline T fetch_or(T* p, T v) { return __atomic_fetch_or(p, v, __ATOMIC_ACQ_REL); }
template <typename T>
inline T fetch_add(T* p, T v) { return __atomic_fetch_add(p, v, __ATOMIC_ACQ_REL); }
template <typename T>
inline T fetch_and(T* p, T v) { return __atomic_fetch_and(p, v, __ATOMIC_ACQ_REL); }

}  // namespace layout
}  // namespace lhv
