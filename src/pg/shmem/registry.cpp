// registry.cpp: the registry of graphs in shared memory (registry.h): claim,
// find, update and remove slots under the registry LWLock, and free removed
// graphs through the engine.
extern "C" {
#include "postgres.h"
}

#include <memory>

#include "core/hnsw_graph.h"
#include "core/locks.h"
#include "shmem/dsa_memory.h"
#include "guard.h"
#include "shmem/registry.h"

namespace lhv::pg {

namespace {

// lhv's control struct, from C++.
LhvControl* ctl() {
    return pg_call([] { return control(); });
}

// Copies a slot into an entry; the caller holds the registry lock.
void copy_slot(LhvControl* c, int i, RegistryEntry* out) noexcept {
    RegistrySlot* slot = &c->slots[i];
    out->slot = i;
    out->generation = slot->generation;
    out->database = slot->database;
    out->index = slot->index;
    out->state = slot->state;
    out->graph = slot->graph;
    out->bytes = pg_atomic_read_u64(&slot->bytes);
    out->log_id = slot->log_id;
    out->applied_end = slot->applied_end;
    out->applied_in_recovery = slot->applied_in_recovery;
    out->source = GraphSource(slot->source);
}

// The slot of (database, index), or -1; the caller holds the registry lock.
int find_slot(LhvControl* c, Oid database, Oid index) noexcept {
    for (int i = 0; i < c->max_indexes; i++) {
        const RegistrySlot* slot = &c->slots[i];
        if (slot->state != SlotState::Free && slot->database == database && slot->index == index) return i;
    }
    return -1;
}

// Marks a slot free and returns its graph; the caller holds the registry lock exclusively.
dsa_pointer clear_slot(LhvControl* c, int i) noexcept {
    RegistrySlot* slot = &c->slots[i];
    const dsa_pointer graph = slot->graph;
    slot->database = InvalidOid;
    slot->index = InvalidOid;
    slot->state = SlotState::Free;
    slot->graph = InvalidDsaPointer;
    slot->generation = c->next_generation++;
    pg_atomic_write_u64(&slot->bytes, 0);
    slot->log_id = 0;
    slot->applied_end = 0;
    slot->applied_in_recovery = false;
    slot->source = uint32(GraphSource::None);
    pg_atomic_write_u64(&slot->log_end_hint, 0);
    pg_atomic_write_u64(&slot->snapshot_position, 0);
    pg_atomic_write_u32(&slot->needs_snapshot, 0);
    pg_atomic_fetch_add_u64(&c->changes, 1);
    return graph;
}

// Wakes the backends waiting for a slot to stop Loading.
void wake_waiters(LhvControl* c, int i) {
    ConditionVariable* cv = &c->slots[i].loaded;
    pg_call([cv] { ConditionVariableBroadcast(cv); });
}

// Waits until nobody holds the slot's LWLock (graph users hold it shared).
void wait_for_slot_users(LhvControl* c, int i) {
    LWLock* lock = &c->slots[i].lock;
    pg_call([lock] {
        LWLockAcquire(lock, LW_EXCLUSIVE);
        LWLockRelease(lock);
    });
}

// Gives a graph's memory back through the engine.
void free_graph(dsa_pointer graph) {
    if (!DsaPointerIsValid(graph)) return;
    DsaChunkMemory& memory = dsa_memory();
    lhv::AtomicGraphLocks locks(lhv::HnswGraph::lock_words(memory, graph));
    lhv::HnswGraph view(memory, locks, graph);
    view.destroy();
}

}  // namespace

bool registry_lookup(Oid database, Oid index, RegistryEntry* out) {
    LhvControl* c = ctl();
    return pg_call([c, database, index, out] {
        LWLockAcquire(c->registry_lock, LW_SHARED);
        const int i = find_slot(c, database, index);
        if (i >= 0) copy_slot(c, i, out);
        LWLockRelease(c->registry_lock);
        return i >= 0;
    });
}

bool registry_insert(Oid database, Oid index, dsa_pointer graph, uint64 bytes, SlotState state,
                     RegistryEntry* out) {
    if (database == InvalidOid || index == InvalidOid || state == SlotState::Free)
        throw lhv::Error(lhv::ErrorKind::Internal, "lhv: registry_insert with an invalid key or state");
    LhvControl* c = ctl();
    // 1 inserted, 0 existed, -1 full.
    const int outcome = pg_call([=] {
        LWLockAcquire(c->registry_lock, LW_EXCLUSIVE);
        int result = -1;
        const int existing = find_slot(c, database, index);
        if (existing >= 0) {
            copy_slot(c, existing, out);
            result = 0;
        } else {
            for (int i = 0; i < c->max_indexes; i++) {
                RegistrySlot* slot = &c->slots[i];
                if (slot->state != SlotState::Free) continue;
                slot->database = database;
                slot->index = index;
                slot->state = state;
                slot->graph = graph;
                slot->generation = c->next_generation++;
                pg_atomic_write_u64(&slot->bytes, bytes);
                pg_atomic_fetch_add_u64(&c->changes, 1);
                copy_slot(c, i, out);
                result = 1;
                break;
            }
        }
        LWLockRelease(c->registry_lock);
        return result;
    });
    if (outcome < 0)
        throw lhv::Error(lhv::ErrorKind::CapacityExceeded,
                         "lhv: all " + std::to_string(c->max_indexes) +
                             " registry slots are in use; raise lhv.max_indexes and restart the server");
    return outcome == 1;
}

bool registry_update(const RegistryEntry& entry, dsa_pointer graph, uint64 bytes, SlotState state) {
    if (state == SlotState::Free)
        throw lhv::Error(lhv::ErrorKind::Internal, "lhv: registry_update to Free (use registry_remove)");
    LhvControl* c = ctl();
    if (entry.slot < 0 || entry.slot >= c->max_indexes) return false;
    const RegistryEntry* e = &entry;
    const bool updated = pg_call([c, e, graph, bytes, state] {
        LWLockAcquire(c->registry_lock, LW_EXCLUSIVE);
        RegistrySlot* slot = &c->slots[e->slot];
        const bool same = slot->generation == e->generation && slot->state != SlotState::Free;
        if (same) {
            if (slot->graph != graph) pg_atomic_fetch_add_u64(&c->changes, 1);
            slot->graph = graph;
            slot->state = state;
            pg_atomic_write_u64(&slot->bytes, bytes);
        }
        LWLockRelease(c->registry_lock);
        return same;
    });
    if (updated && state == SlotState::Ready) wake_waiters(c, entry.slot);
    return updated;
}

void registry_set_bytes(const RegistryEntry& entry, uint64 bytes) noexcept {
    LhvControl* c = nullptr;
    try {
        c = ctl();
    } catch (const std::exception&) {
        return;
    }
    if (entry.slot < 0 || entry.slot >= c->max_indexes) return;
    pg_atomic_write_u64(&c->slots[entry.slot].bytes, bytes);
}

bool registry_still_valid(const RegistryEntry& entry) {
    LhvControl* c = ctl();
    if (entry.slot < 0 || entry.slot >= c->max_indexes) return false;
    const RegistryEntry* e = &entry;
    return pg_call([c, e] {
        LWLockAcquire(c->registry_lock, LW_SHARED);
        const RegistrySlot* slot = &c->slots[e->slot];
        const bool same = slot->generation == e->generation && slot->state != SlotState::Free &&
                          slot->database == e->database && slot->index == e->index &&
                          slot->graph == e->graph;
        LWLockRelease(c->registry_lock);
        return same;
    });
}

uint64 registry_changes() {
    LhvControl* c = ctl();
    return pg_atomic_read_u64(&c->changes);
}

void registry_still_hold(const RegistryGraphKey* keys, int count, bool* held) {
    LhvControl* c = ctl();
    pg_call([c, keys, count, held] {
        LWLockAcquire(c->registry_lock, LW_SHARED);
        for (int k = 0; k < count; k++) {
            const RegistryGraphKey& key = keys[k];
            const RegistrySlot* slot = key.slot >= 0 && key.slot < c->max_indexes ? &c->slots[key.slot] : nullptr;
            held[k] = slot != nullptr && slot->state != SlotState::Free && slot->generation == key.generation &&
                      slot->graph == key.graph;
        }
        LWLockRelease(c->registry_lock);
    });
}

void registry_still_hold_unlocked(const RegistryGraphKey* keys, int count, bool* held) noexcept {
    LhvControl* c = nullptr;
    try {
        c = ctl();
    } catch (const std::exception&) {
        for (int k = 0; k < count; k++) held[k] = true;
        return;
    }
    for (int k = 0; k < count; k++) {
        const RegistryGraphKey& key = keys[k];
        const volatile RegistrySlot* slot =
            key.slot >= 0 && key.slot < c->max_indexes ? &c->slots[key.slot] : nullptr;
        held[k] = slot != nullptr && slot->state != SlotState::Free && slot->generation == key.generation &&
                  slot->graph == key.graph;
    }
}

LWLock* registry_slot_lock(const RegistryEntry& entry) {
    LhvControl* c = ctl();
    if (entry.slot < 0 || entry.slot >= c->max_indexes)
        throw lhv::Error(lhv::ErrorKind::Internal, "lhv: registry_slot_lock on an entry with no slot");
    return &c->slots[entry.slot].lock;
}

bool registry_remove(Oid database, Oid index) {
    LhvControl* c = ctl();
    int slot = -1;
    int* slot_out = &slot;
    const dsa_pointer graph = pg_call([c, database, index, slot_out] {
        LWLockAcquire(c->registry_lock, LW_EXCLUSIVE);
        dsa_pointer result = InvalidDsaPointer;
        *slot_out = find_slot(c, database, index);
        if (*slot_out >= 0) result = clear_slot(c, *slot_out);
        LWLockRelease(c->registry_lock);
        return result;
    });
    if (slot < 0) return false;
    wake_waiters(c, slot);
    wait_for_slot_users(c, slot);
    free_graph(graph);
    return true;
}

bool registry_remove_entry(const RegistryEntry& entry) {
    LhvControl* c = ctl();
    if (entry.slot < 0 || entry.slot >= c->max_indexes) return false;
    const RegistryEntry* e = &entry;
    bool removed = false;
    bool* removed_out = &removed;
    const dsa_pointer graph = pg_call([c, e, removed_out] {
        LWLockAcquire(c->registry_lock, LW_EXCLUSIVE);
        dsa_pointer result = InvalidDsaPointer;
        if (c->slots[e->slot].generation == e->generation && c->slots[e->slot].state != SlotState::Free) {
            result = clear_slot(c, e->slot);
            *removed_out = true;
        }
        LWLockRelease(c->registry_lock);
        return result;
    });
    if (!removed) return false;
    wake_waiters(c, entry.slot);
    wait_for_slot_users(c, entry.slot);
    free_graph(graph);
    return true;
}

int registry_remove_all_for_database(Oid database) {
    LhvControl* c = ctl();
    // Slots and graphs removed, filled under the lock without allocating.
    std::unique_ptr<int[]> slots(new int[c->max_indexes]);
    std::unique_ptr<dsa_pointer[]> graphs(new dsa_pointer[c->max_indexes]);
    int* slot_array = slots.get();
    dsa_pointer* graph_array = graphs.get();
    const int removed = pg_call([c, database, slot_array, graph_array] {
        LWLockAcquire(c->registry_lock, LW_EXCLUSIVE);
        int n = 0;
        for (int i = 0; i < c->max_indexes; i++) {
            if (c->slots[i].state == SlotState::Free || c->slots[i].database != database) continue;
            slot_array[n] = i;
            graph_array[n] = clear_slot(c, i);
            n++;
        }
        LWLockRelease(c->registry_lock);
        return n;
    });
    for (int k = 0; k < removed; k++) {
        wake_waiters(c, slot_array[k]);
        wait_for_slot_users(c, slot_array[k]);
        free_graph(graph_array[k]);
    }
    return removed;
}

bool registry_set_log_state(const RegistryEntry& entry, uint64 log_id, uint64 applied_end,
                            bool applied_in_recovery, GraphSource source) {
    LhvControl* c = ctl();
    if (entry.slot < 0 || entry.slot >= c->max_indexes) return false;
    const RegistryEntry* e = &entry;
    return pg_call([=] {
        LWLockAcquire(c->registry_lock, LW_EXCLUSIVE);
        RegistrySlot* slot = &c->slots[e->slot];
        const bool same = slot->generation == e->generation && slot->state != SlotState::Free;
        if (same) {
            slot->log_id = log_id;
            slot->applied_end = applied_end;
            slot->applied_in_recovery = applied_in_recovery;
            slot->source = uint32(source);
            if (pg_atomic_read_u64(&slot->log_end_hint) < applied_end)
                pg_atomic_write_u64(&slot->log_end_hint, applied_end);
        }
        LWLockRelease(c->registry_lock);
        return same;
    });
}

ConditionVariable* registry_slot_loaded_cv(const RegistryEntry& entry) {
    LhvControl* c = ctl();
    if (entry.slot < 0 || entry.slot >= c->max_indexes)
        throw lhv::Error(lhv::ErrorKind::Internal, "lhv: registry_slot_loaded_cv on an entry with no slot");
    return &c->slots[entry.slot].loaded;
}

// The slot of `entry` for a hint, or nullptr; hints never throw.
static RegistrySlot* hint_slot(const RegistryEntry& entry) noexcept {
    LhvControl* c = nullptr;
    try {
        c = ctl();
    } catch (const std::exception&) {
        return nullptr;
    }
    if (entry.slot < 0 || entry.slot >= c->max_indexes) return nullptr;
    return &c->slots[entry.slot];
}

void registry_note_log_end(const RegistryEntry& entry, uint64 log_end) noexcept {
    if (RegistrySlot* slot = hint_slot(entry)) {
        // Appenders race; keep the largest end seen.
        uint64 seen = pg_atomic_read_u64(&slot->log_end_hint);
        while (seen < log_end && !pg_atomic_compare_exchange_u64(&slot->log_end_hint, &seen, log_end)) {
        }
    }
}

void registry_note_snapshot(const RegistryEntry& entry, uint64 position) noexcept {
    if (RegistrySlot* slot = hint_slot(entry)) pg_atomic_write_u64(&slot->snapshot_position, position);
}

void registry_set_needs_snapshot(const RegistryEntry& entry, bool needed) noexcept {
    if (RegistrySlot* slot = hint_slot(entry)) pg_atomic_write_u32(&slot->needs_snapshot, needed ? 1 : 0);
}

int registry_list(Oid database, RegistrySlotInfo* out, int max) {
    LhvControl* c = ctl();
    return pg_call([c, database, out, max] {
        int n = 0;
        LWLockAcquire(c->registry_lock, LW_SHARED);
        for (int i = 0; i < c->max_indexes && n < max; i++) {
            RegistrySlot* slot = &c->slots[i];
            if (slot->state == SlotState::Free) continue;
            if (database != InvalidOid && slot->database != database) continue;
            copy_slot(c, i, &out[n].entry);
            out[n].log_end_hint = pg_atomic_read_u64(&slot->log_end_hint);
            out[n].snapshot_position = pg_atomic_read_u64(&slot->snapshot_position);
            out[n].needs_snapshot = pg_atomic_read_u32(&slot->needs_snapshot) != 0;
            n++;
        }
        LWLockRelease(c->registry_lock);
        return n;
    });
}

RegistrySlotInfo* registry_list_palloc(Oid database, int* count) {
    const int max = ctl()->max_indexes;
    auto* slots = pg_call([max] { return static_cast<RegistrySlotInfo*>(palloc(sizeof(RegistrySlotInfo) * max)); });
    *count = registry_list(database, slots, max);
    return slots;
}

RegistryTotals registry_totals() {
    LhvControl* c = ctl();
    RegistryTotals totals;
    totals.max_indexes = c->max_indexes;
    RegistryTotals* t = &totals;
    pg_call([c, t] {
        LWLockAcquire(c->registry_lock, LW_SHARED);
        for (int i = 0; i < c->max_indexes; i++) {
            if (c->slots[i].state == SlotState::Free) continue;
            t->indexes++;
            t->graph_bytes += pg_atomic_read_u64(&c->slots[i].bytes);
        }
        LWLockRelease(c->registry_lock);
    });
    return totals;
}

}  // namespace lhv::pg
