// lhv_module.cpp: the module's entry point: _PG_init checks that lhv is
// preloaded, defines the lhv.* GUCs and installs the shared memory hooks.
extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

void _PG_init(void);
}

#include "shmem/dsa_memory.h"
#include "am/lhv_am.h"
#include "am/view_cache.h"
#include "shmem/lifecycle.h"
#include "lhv_config.h"
#include "shmem/shmem.h"
#include "storage/preload.h"
#include "storage/snapshot_worker.h"

int lhv_shared_memory_reserved_mb = LHV_SHARED_MEMORY_RESERVED_DEFAULT;
int lhv_max_shared_memory_mb = LHV_MAX_SHARED_MEMORY_DEFAULT;
int lhv_max_indexes = LHV_MAX_INDEXES_DEFAULT;
int lhv_snapshot_threshold_mb = LHV_SNAPSHOT_THRESHOLD_DEFAULT;
int lhv_snapshot_naptime_s = LHV_SNAPSHOT_NAPTIME_DEFAULT;
int lhv_debug_records_per_chunk = 0;
int lhv_debug_fail_shared_allocation = 0;
bool lhv_preload = LHV_PRELOAD_DEFAULT;
int lhv_snapshot_part_size_kb = LHV_SNAPSHOT_PART_SIZE_DEFAULT;

// Defines the GUCs, reserves the lhv. prefix and checks the GUCs agree.
static void define_gucs() {
    DefineCustomIntVariable(
        "lhv.shared_memory_reserved",
        "Shared memory for lhv's graphs reserved in the main segment at server start.",
        "The first part of lhv's shared memory area. Beyond it the area grows with dynamic shared memory "
        "segments (/dev/shm), up to lhv.max_shared_memory.",
        &lhv_shared_memory_reserved_mb, LHV_SHARED_MEMORY_RESERVED_DEFAULT, LHV_SHARED_MEMORY_RESERVED_MIN,
        LHV_SHARED_MEMORY_RESERVED_MAX, PGC_POSTMASTER, GUC_UNIT_MB, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "lhv.max_shared_memory",
        "Maximum shared memory for lhv's graphs, reserved part included.",
        "Inserting or loading a graph past this limit fails with an out-of-memory error.",
        &lhv_max_shared_memory_mb, LHV_MAX_SHARED_MEMORY_DEFAULT, LHV_MAX_SHARED_MEMORY_MIN,
        LHV_MAX_SHARED_MEMORY_MAX, PGC_POSTMASTER, GUC_UNIT_MB, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "lhv.max_indexes",
        "Maximum number of lhv indexes whose graphs are in shared memory at once, cluster-wide.",
        nullptr, &lhv_max_indexes, LHV_MAX_INDEXES_DEFAULT, LHV_MAX_INDEXES_MIN, LHV_MAX_INDEXES_MAX,
        PGC_POSTMASTER, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "lhv.snapshot_threshold",
        "Change log written since an index's last snapshot that makes lhv write a new one.",
        "A restart loads the latest snapshot and replays the log after it: a lower threshold "
        "means shorter replays and more snapshot writes.",
        &lhv_snapshot_threshold_mb, LHV_SNAPSHOT_THRESHOLD_DEFAULT, LHV_SNAPSHOT_THRESHOLD_MIN,
        LHV_SNAPSHOT_THRESHOLD_MAX, PGC_SIGHUP, GUC_UNIT_MB, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "lhv.snapshot_naptime",
        "Time between two rounds of lhv's snapshot worker.", nullptr, &lhv_snapshot_naptime_s,
        LHV_SNAPSHOT_NAPTIME_DEFAULT, LHV_SNAPSHOT_NAPTIME_MIN, LHV_SNAPSHOT_NAPTIME_MAX, PGC_SIGHUP,
        GUC_UNIT_S, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "lhv.debug_records_per_chunk",
        "Developer option: elements per level-0 chunk of the graphs made from now on.",
        "0 sizes chunks to about 2 MB. For tests that need graphs of many chunks.",
        &lhv_debug_records_per_chunk, 0, 0, LHV_DEBUG_RECORDS_PER_CHUNK_MAX, PGC_SUSET,
        GUC_NOT_IN_SAMPLE, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "lhv.debug_fail_shared_allocation",
        "Developer option: the Nth shared memory allocation of this backend from now on fails.",
        "It raises an ERROR inside the DSA code, as a full /dev/shm would. 0 never fails. For tests.",
        &lhv_debug_fail_shared_allocation, 0, 0, LHV_DEBUG_FAIL_SHARED_ALLOCATION_MAX, PGC_SUSET,
        GUC_NOT_IN_SAMPLE, nullptr, lhv::pg::arm_allocation_failure, nullptr);
    DefineCustomIntVariable(
        "lhv.snapshot_part_size",
        "Largest bytea part of an lhv snapshot row (developer option).",
        "Snapshots are stored as rows of at most this many bytes; small parts exercise snapshots of many "
        "parts in tests.",
        &lhv_snapshot_part_size_kb, LHV_SNAPSHOT_PART_SIZE_DEFAULT, LHV_SNAPSHOT_PART_SIZE_MIN,
        LHV_SNAPSHOT_PART_SIZE_MAX, PGC_SUSET, GUC_UNIT_KB | GUC_NOT_IN_SAMPLE, nullptr, nullptr, nullptr);
    DefineCustomBoolVariable(
        "lhv.preload",
        "Loads the graph of every lhv index into shared memory when the server starts.",
        "A background worker loads them from their snapshots and change logs, so that first queries do not. "
        "It does not run again after a crash re-initialised shared memory.",
        &lhv_preload, LHV_PRELOAD_DEFAULT, PGC_POSTMASTER, 0, nullptr, nullptr, nullptr);
    MarkGUCPrefixReserved("lhv");

    if (lhv_max_shared_memory_mb < lhv_shared_memory_reserved_mb)
        ereport(ERROR,
                (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                 errmsg("lhv.max_shared_memory (%d MB) must be at least lhv.shared_memory_reserved (%d MB)",
                        lhv_max_shared_memory_mb, lhv_shared_memory_reserved_mb),
                 errhint("Raise lhv.max_shared_memory or lower lhv.shared_memory_reserved in postgresql.conf.")));
}

// Module initialisation; runs in the postmaster while it preloads libraries.
void _PG_init(void) {
    // Without preloading there is no shared memory to put graphs in: refuse
    // to load at all, so every lhv entry point fails with this message.
    if (!process_shared_preload_libraries_in_progress) lhv::pg::report_not_preloaded();

    define_gucs();
    lhv::pg::install_shmem_hooks();
    lhv::pg::register_dsa_memory_callbacks();
    lhv_am_init();
    // Transaction callbacks run newest first: the lifecycle frees graphs at
    // commit or abort before the view cache sweeps the views of freed graphs.
    lhv_view_cache_init();
    lhv_lifecycle_init();
    lhv_snapshot_worker_register();
    lhv_preload_register();
}
