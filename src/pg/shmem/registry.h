// registry.h: the cluster-wide map (database oid, index oid) -> graph in the
// DSA area, with lhv.max_indexes slots in the control struct (shmem.h).
//
// For the access method. Every function is C++-style: it throws lhv::Error
// (PgError for a PostgreSQL error) and never ereports, so call it inside
// lhv_guard. No function returns with a lock held.
//
// Concurrency protocol for users of a graph:
//   1. registry_lookup() gives a copy of the slot, with its generation;
//   2. take the slot's LWLock (registry_slot_lock) in shared mode while using
//      the graph, exclusive mode to change what the slot says;
//   3. after taking it, check registry_still_valid(entry): the index may have
//      been dropped (and the slot reused) in between.
// registry_remove() waits for the slot's LWLock before it frees the graph, so
// a graph is never freed under a holder of that lock.
//
// Include postgres.h first.
#pragma once

#include <cstdint>

#include "shmem/shmem.h"

namespace lhv::pg {

// A copy of one registry slot, taken under the registry lock.
struct RegistryEntry {
    int slot = -1;                      // index into the registry
    uint64 generation = 0;              // the slot's generation when copied
    Oid database = InvalidOid;
    Oid index = InvalidOid;
    SlotState state = SlotState::Free;
    dsa_pointer graph = InvalidDsaPointer;  // graph header handle
    uint64 bytes = 0;
    uint64 log_id = 0;              // see RegistrySlot
    uint64 applied_end = 0;
    bool applied_in_recovery = false;
    GraphSource source = GraphSource::None;
};

// A slot with its hints, for the snapshot worker and monitoring.
struct RegistrySlotInfo {
    RegistryEntry entry;
    uint64 log_end_hint = 0;
    uint64 snapshot_position = 0;
    bool needs_snapshot = false;
};

// Sums over the registry, for lhv_memory.
struct RegistryTotals {
    uint64 graph_bytes = 0;
    int indexes = 0;      // slots in use (Loading or Ready)
    int max_indexes = 0;  // lhv.max_indexes
};

// Finds (database, index). Returns false when it has no slot.
bool registry_lookup(Oid database, Oid index, RegistryEntry* out);

// Claims a slot for (database, index) holding `graph` (InvalidDsaPointer is
// fine while the state is Loading). Returns true and the new entry, or false
// and the existing entry if (database, index) already has a slot (another
// backend got there first). Throws CapacityExceeded when all lhv.max_indexes
// slots are taken.
bool registry_insert(Oid database, Oid index, dsa_pointer graph, uint64 bytes, SlotState state,
                     RegistryEntry* out);

// Sets the graph, state and bytes of the slot `entry` names, if it still holds
// the same generation. Returns false if the slot was freed or reused meanwhile.
bool registry_update(const RegistryEntry& entry, dsa_pointer graph, uint64 bytes, SlotState state);

// Records the graph's current memory size (no lock needed).
void registry_set_bytes(const RegistryEntry& entry, uint64 bytes) noexcept;

// True if the slot still belongs to the same (database, index, generation)
// and holds the same graph.
bool registry_still_valid(const RegistryEntry& entry);

// What a backend's cached view of a graph was made for.
struct RegistryGraphKey {
    int slot = -1;
    uint64 generation = 0;
    dsa_pointer graph = InvalidDsaPointer;
};

// A counter that moves whenever a slot is claimed or freed or its graph
// replaced (no lock): while it stays put, every cached view is current.
uint64 registry_changes();

// Sets held[k] to whether slot keys[k].slot still holds graph keys[k].graph
// under the same generation; one registry lock for all of them.
void registry_still_hold(const RegistryGraphKey* keys, int count, bool* held);

// The same without the lock, for a sweep where a lock is not wanted (at
// transaction end): a slot changing meanwhile may be misread either way, so
// use it only where both mistakes are harmless (a view freed and made again,
// or a stale view kept until the next sweep).
void registry_still_hold_unlocked(const RegistryGraphKey* keys, int count, bool* held) noexcept;

// The per-index LWLock of a slot (tranche "lhv"). Take it with pg_call.
LWLock* registry_slot_lock(const RegistryEntry& entry);

// Records what the graph holds of the index's change log. The caller holds
// the slot's LWLock exclusively, or has the slot claimed (Loading). Returns
// false if the slot changed meanwhile.
bool registry_set_log_state(const RegistryEntry& entry, uint64 log_id, uint64 applied_end,
                            bool applied_in_recovery, GraphSource source);

// The condition variable broadcast when the slot stops Loading.
ConditionVariable* registry_slot_loaded_cv(const RegistryEntry& entry);

// Hints for the snapshot worker (no lock needed).
void registry_note_log_end(const RegistryEntry& entry, uint64 log_end) noexcept;
void registry_note_snapshot(const RegistryEntry& entry, uint64 position) noexcept;
void registry_set_needs_snapshot(const RegistryEntry& entry, bool needed) noexcept;

// Copies up to `max` slots in use (of `database`, or all for InvalidOid)
// into `out`; returns how many.
int registry_list(Oid database, RegistrySlotInfo* out, int max);

// The same into an array palloc'd in the current memory context, room for
// every slot; sets *count.
RegistrySlotInfo* registry_list_palloc(Oid database, int* count);

// Removes (database, index) and frees its graph through the engine, after
// waiting for current holders of the slot lock. Returns false if absent.
bool registry_remove(Oid database, Oid index);

// Removes the slot `entry` names if it still holds the same generation (a
// claim being undone) and frees its graph. Returns false if it changed.
bool registry_remove_entry(const RegistryEntry& entry);

// Removes every index of `database` (DROP DATABASE) and frees their graphs.
// Returns how many were removed.
int registry_remove_all_for_database(Oid database);

// Graph bytes and slots in use over the whole registry.
RegistryTotals registry_totals();

}  // namespace lhv::pg
