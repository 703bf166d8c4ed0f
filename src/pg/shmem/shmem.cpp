// shmem.cpp: reserves and initialises lhv's part of the main shared memory
// segment (control struct, registry, in-place DSA area) and attaches each
// backend to the DSA area on first use.
//
// All of this is PostgreSQL-style C++: it may ereport and holds no C++ object
// with a destructor.
extern "C" {
#include "postgres.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "utils/memutils.h"
}

#include <cstring>

#include "lhv_config.h"
#include "shmem/shmem.h"

namespace lhv::pg {

namespace {

shmem_request_hook_type prev_shmem_request_hook = nullptr;
shmem_startup_hook_type prev_shmem_startup_hook = nullptr;

// Set by the startup hook in the postmaster (inherited by every backend) and
// again after a crash re-initialises shared memory.
LhvControl* lhv_control = nullptr;

// This backend's attachment; the postmaster never keeps one.
dsa_area* lhv_area = nullptr;

constexpr Size kDsaAlignment = 64;  // ChunkMemory blocks are 64-byte aligned

// Bytes of a megabyte GUC value.
Size megabytes(int mb) {
    return mul_size(static_cast<Size>(mb), 1024 * 1024);
}

// Size of the control struct and its registry slots, rounded for the DSA area after it.
Size control_bytes(int max_indexes) {
    Size size = add_size(offsetof(LhvControl, slots), mul_size(max_indexes, sizeof(RegistrySlot)));
    return TYPEALIGN(kDsaAlignment, size);
}

// Everything lhv asks of the main segment (with slack to align the DSA area).
Size shmem_bytes() {
    return add_size(add_size(control_bytes(lhv_max_indexes), megabytes(lhv_shared_memory_reserved_mb)),
                    kDsaAlignment);
}

// Where the in-place DSA area lives.
void* dsa_place(LhvControl* ctl) {
    return reinterpret_cast<char*>(ctl) + ctl->dsa_offset;
}

// PostgreSQL 15 has no dsa_get_total_size() (it came in 17), yet how much of
// lhv.max_shared_memory is in use is what an operator needs to know. The area's
// control object keeps the total as the size_t word just before the size
// limit (total_segment_size, max_total_segment_size in dsa.c). Rather than
// copying dsa.c's private layout, find that word: set two different limits
// and keep the one position where the word before the limit holds the
// reserved size and the limit word follows each change. Returns -1 if the
// position is not unique, and lhv_memory then shows NULL.
int find_total_size_word(dsa_area* a, void* place, Size reserved) {
    const Size probe1 = SIZE_MAX - 0x5a5a5a5a;
    const Size probe2 = SIZE_MAX - 0xa5a5a5a5;
    const volatile Size* words = static_cast<const volatile Size*>(place);
    const int nwords = static_cast<int>(Min(reserved, static_cast<Size>(64 * 1024)) / sizeof(Size));
    int found = -1;
    dsa_set_size_limit(a, probe1);
    for (int i = 0; i + 1 < nwords; i++) {
        if (words[i] != reserved || words[i + 1] != probe1) continue;
        dsa_set_size_limit(a, probe2);
        const bool follows = words[i] == reserved && words[i + 1] == probe2;
        dsa_set_size_limit(a, probe1);
        if (!follows) continue;
        if (found >= 0) return -1;  // ambiguous
        found = i;
    }
    return found;
}

// shmem_request_hook: asks for lhv's shared memory and its LWLock tranche.
void lhv_shmem_request() {
    if (prev_shmem_request_hook != nullptr) prev_shmem_request_hook();
    RequestAddinShmemSpace(shmem_bytes());
    RequestNamedLWLockTranche(LHV_LWLOCK_TRANCHE, LHV_NUM_LWLOCKS);
}

// shmem_startup_hook: initialises the control struct, the registry and the
// DSA area when shared memory is new (server start, or after a crash).
void lhv_shmem_startup() {
    if (prev_shmem_startup_hook != nullptr) prev_shmem_startup_hook();

    // A re-initialisation invalidates any attachment (only a single-user
    // backend could have one here).
    lhv_area = nullptr;

    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    bool found = false;
    auto* ctl = static_cast<LhvControl*>(ShmemInitStruct(LHV_SHMEM_NAME, shmem_bytes(), &found));
    if (!found) {
        const Size header = control_bytes(lhv_max_indexes);
        std::memset(static_cast<void*>(ctl), 0, header);
        LWLockPadded* locks = GetNamedLWLockTranche(LHV_LWLOCK_TRANCHE);
        ctl->tranche_id = locks[0].lock.tranche;
        ctl->max_indexes = lhv_max_indexes;
        ctl->registry_lock = &locks[LHV_REGISTRY_LWLOCK].lock;
        ctl->next_generation = 1;
        pg_atomic_init_u64(&ctl->changes, 0);
        for (int i = 0; i < ctl->max_indexes; i++) {
            RegistrySlot* slot = &ctl->slots[i];
            LWLockInitialize(&slot->lock, ctl->tranche_id);
            slot->database = InvalidOid;
            slot->index = InvalidOid;
            slot->state = SlotState::Free;
            slot->generation = 0;
            slot->graph = InvalidDsaPointer;
            pg_atomic_init_u64(&slot->bytes, 0);
            ConditionVariableInit(&slot->loaded);
            slot->log_id = 0;
            slot->applied_end = 0;
            slot->applied_in_recovery = false;
            slot->source = uint32(GraphSource::None);
            pg_atomic_init_u64(&slot->log_end_hint, 0);
            pg_atomic_init_u64(&slot->snapshot_position, 0);
            pg_atomic_init_u32(&slot->needs_snapshot, 0);
        }
        char* base = reinterpret_cast<char*>(ctl);
        char* place = reinterpret_cast<char*>(TYPEALIGN(kDsaAlignment, base + header));
        ctl->dsa_offset = place - base;
        ctl->dsa_reserved = megabytes(lhv_shared_memory_reserved_mb);
        ctl->dsa_limit = megabytes(lhv_max_shared_memory_mb);

        // Create the area in place, pin it so it outlives every backend, and
        // let go of the postmaster's own attachment as pgstat does: backends
        // attach on first use.
        dsa_area* a = dsa_create_in_place(place, ctl->dsa_reserved, ctl->tranche_id, nullptr);
        dsa_pin(a);
#if PG_VERSION_NUM >= 170000
        ctl->total_size_word = -1;
#else
        ctl->total_size_word = find_total_size_word(a, place, ctl->dsa_reserved);
#endif
        dsa_set_size_limit(a, ctl->dsa_limit);
        dsa_detach(a);
    }
    LWLockRelease(AddinShmemInitLock);
    lhv_control = ctl;
}

}  // namespace

void install_shmem_hooks() {
    prev_shmem_request_hook = shmem_request_hook;
    shmem_request_hook = lhv_shmem_request;
    prev_shmem_startup_hook = shmem_startup_hook;
    shmem_startup_hook = lhv_shmem_startup;
}

void report_not_preloaded() {
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("lhv must be loaded via shared_preload_libraries"),
                    errhint("Add lhv to shared_preload_libraries in postgresql.conf and restart the server.")));
    pg_unreachable();
}

LhvControl* control() {
    if (lhv_control == nullptr) report_not_preloaded();
    return lhv_control;
}

dsa_area* area() {
    if (lhv_area != nullptr) return lhv_area;
    LhvControl* ctl = control();
    void* place = dsa_place(ctl);
    // The dsa_area lives as long as the backend: allocate it in
    // TopMemoryContext, not in the current statement's context.
    MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
    dsa_area* a = dsa_attach_in_place(place, nullptr);
    dsa_pin_mapping(a);
    MemoryContextSwitchTo(old);
    // Drop this backend's reference count on exit (the area stays pinned).
    on_shmem_exit(dsa_on_shmem_exit_release_in_place, PointerGetDatum(place));
    lhv_area = a;
    return a;
}

int64 dsa_total_bytes() {
#if PG_VERSION_NUM >= 170000
    return static_cast<int64>(dsa_get_total_size(area()));
#else
    LhvControl* ctl = control();
    if (ctl->total_size_word < 0) return -1;
    const volatile Size* words = static_cast<const volatile Size*>(dsa_place(ctl));
    return static_cast<int64>(words[ctl->total_size_word]);
#endif
}

}  // namespace lhv::pg
