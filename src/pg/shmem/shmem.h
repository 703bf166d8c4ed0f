// shmem.h: lhv's state in the main shared memory segment: the control struct
// (registry slots included) and the DSA area placed in place after it.
//
// Layout of lhv's part of the main segment, set up by the postmaster:
//   LhvControl | max_indexes x RegistrySlot | (64-aligned) DSA area of
//   lhv.shared_memory_reserved bytes, growing into dynamic segments up to
//   lhv.max_shared_memory.
// Each backend attaches to the DSA area once, on first use.
//
// The functions here are PostgreSQL-style: they may ereport. From C++ code
// call them through pg_call (guard.h). Include postgres.h first.
#pragma once

extern "C" {
#include "port/atomics.h"
#include "storage/condition_variable.h"
#include "storage/lwlock.h"
#include "utils/dsa.h"
}

#include <type_traits>

namespace lhv::pg {

// Life cycle of a registry slot.
enum class SlotState : uint32 {
    Free = 0,     // unused
    Loading = 1,  // claimed by a backend that is building or loading the graph
    Ready = 2,    // graph is usable
};

// One index whose graph lives in the DSA area.
struct RegistrySlot {
    LWLock lock;             // per-index lock for the access method (tranche "lhv")
    Oid database;            // InvalidOid when free
    Oid index;               // the index relation's oid
    SlotState state;
    uint64 generation;       // changes whenever the slot is claimed or freed
    dsa_pointer graph;       // the graph header (HnswGraph::create), or InvalidDsaPointer
    pg_atomic_uint64 bytes;  // the graph's memory, as last reported by the access method
    ConditionVariable loaded;  // broadcast when the slot leaves Loading (Ready or Free)

    // What the graph holds of the index's change log (storage/change_log.h).
    // Under the slot's LWLock (exclusive to change, shared to read), except
    // the atomics, which are hints for the snapshot worker and monitoring.
    uint64 log_id;           // identity of the index's log (metapage); 0 if unknown
    uint64 applied_end;      // log positions below this are in the graph
    bool applied_in_recovery;  // applied by a hot standby: catch up again after promotion
    uint32 source;           // how the graph was made (GraphSource)
    pg_atomic_uint64 log_end_hint;       // latest log end an appender saw
    pg_atomic_uint64 snapshot_position;  // log position the newest snapshot covers
    pg_atomic_uint32 needs_snapshot;     // VACUUM or a rebuild changed the graph
};

// How a graph came to be in memory (for monitoring and tests).
enum class GraphSource : uint32 {
    None = 0,      // not loaded yet
    Build = 1,     // CREATE INDEX / REINDEX / TRUNCATE
    Snapshot = 2,  // latest snapshot plus the log after it
    Log = 3,       // the whole log (no snapshot yet)
    Table = 4,     // rebuilt from the table (no usable snapshot)
};

// lhv's struct in the main shared memory segment.
struct LhvControl {
    int tranche_id;          // of the named tranche "lhv"
    int max_indexes;         // registry slots (lhv.max_indexes at start)
    LWLock* registry_lock;   // guards database/index/state/generation/graph of every slot
    uint64 next_generation;  // under registry_lock
    pg_atomic_uint64 changes;  // bumped whenever a slot is claimed or freed or its graph
                               // replaced: backends then sweep their cached views
    Size dsa_offset;         // where the in-place DSA area starts, from this struct
    Size dsa_reserved;       // its size in the main segment
    Size dsa_limit;          // its cap (lhv.max_shared_memory)
    int total_size_word;     // see dsa_total_bytes(); -1 if unknown
    RegistrySlot slots[FLEXIBLE_ARRAY_MEMBER];
};

static_assert(std::is_trivially_destructible_v<RegistrySlot>, "shared memory holds no C++ objects");
static_assert(std::is_trivially_destructible_v<LhvControl>, "shared memory holds no C++ objects");

// Chains lhv's shmem_request_hook and shmem_startup_hook; called by _PG_init.
void install_shmem_hooks();

// Raises the "must be loaded via shared_preload_libraries" error.
[[noreturn]] void report_not_preloaded();

// lhv's control struct; ereports if lhv was not preloaded.
LhvControl* control();

// This backend's attachment to the DSA area, made on first use (in
// TopMemoryContext, mapping pinned for the life of the backend).
dsa_area* area();

// Bytes the DSA area currently spans (reserved part plus dynamic segments),
// or -1 when this server cannot tell.
int64 dsa_total_bytes();

}  // namespace lhv::pg
