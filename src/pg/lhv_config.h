// lhv_config.h: every constant of the PostgreSQL layer (GUC defaults and
// limits, shared memory names) and the GUC variables themselves.
//
// One header, so a default is written in exactly one place. Sizes are in MB,
// the unit of the GUCs (GUC_UNIT_MB).
#pragma once

// lhv.shared_memory_reserved: the part of the DSA area placed inside the
// main shared memory segment at server start (MB).
#define LHV_SHARED_MEMORY_RESERVED_DEFAULT 64
#define LHV_SHARED_MEMORY_RESERVED_MIN 1
#define LHV_SHARED_MEMORY_RESERVED_MAX (1024 * 1024)  // 1 TB

// lhv.max_shared_memory: the cap on the whole DSA area, reserved part and
// dynamic segments together (MB). Must be >= lhv.shared_memory_reserved.
#define LHV_MAX_SHARED_MEMORY_DEFAULT 1024
#define LHV_MAX_SHARED_MEMORY_MIN 1
#define LHV_MAX_SHARED_MEMORY_MAX (16 * 1024 * 1024)  // 16 TB

// lhv.max_indexes: registry slots, one per index whose graph is in memory.
#define LHV_MAX_INDEXES_DEFAULT 256
#define LHV_MAX_INDEXES_MIN 1
#define LHV_MAX_INDEXES_MAX 65536

// The named LWLock tranche: lock 0 guards the registry. The DSA area's own
// locks and the per-index locks in registry slots use the same tranche id.
#define LHV_LWLOCK_TRANCHE "lhv"
#define LHV_NUM_LWLOCKS 1
#define LHV_REGISTRY_LWLOCK 0

// Name of lhv's struct in the main shared memory segment.
#define LHV_SHMEM_NAME "lhv control"

// ---- The access method ----

// Index options, WITH (m = ..., ef_construction = ...).
#define LHV_M_DEFAULT 16
#define LHV_M_MIN 2
#define LHV_M_MAX 100
#define LHV_EF_CONSTRUCTION_DEFAULT 64
#define LHV_EF_CONSTRUCTION_MIN 4
#define LHV_EF_CONSTRUCTION_MAX 1000

// Access method GUCs (lhv.ef_search, lhv.max_scan_tuples, lhv.build_threads).
#define LHV_EF_SEARCH_DEFAULT 40
#define LHV_EF_SEARCH_MIN 1
#define LHV_EF_SEARCH_MAX 1000
#define LHV_MAX_SCAN_TUPLES_DEFAULT 20000
#define LHV_MAX_SCAN_TUPLES_MIN 1
// At most the engine's largest search (lhv::kMaxEfSearch, checked in
// am_scan.cpp): a scan widens its search up to this many results.
#define LHV_MAX_SCAN_TUPLES_MAX 100000
#define LHV_BUILD_THREADS_DEFAULT 0
#define LHV_BUILD_THREADS_MIN 0
#define LHV_BUILD_THREADS_MAX 64

// VACUUM's repair of neighbour lists runs in steps, each under the slot's
// exclusive lock (inserts wait for one step at most): at most this many
// elements per step, and at most about this long (the element being
// rewired when the time is up is finished first).
#define LHV_REPAIR_STEP_ELEMENTS 4096
#define LHV_REPAIR_STEP_MICROSECONDS 5000
// After a step that inserts waited for, VACUUM pauses this long (us) so that
// they get the lock before its next step (LWLocks are not fair).
#define LHV_REPAIR_HANDOFF_US 1000

// Operator class layout: strategy 1 is the ORDER BY distance operator;
// support function 1 returns the metric (lhv::Metric) as an int4.
#define LHV_DISTANCE_STRATEGY 1
#define LHV_METRIC_PROC 1
#define LHV_SUPPORT_PROCS 1

// A distance over a few hundred dimensions costs many operator evaluations.
#define LHV_DISTANCE_COST_FACTOR 10.0

// Build sub-phases shown in pg_stat_progress_create_index.
#define LHV_PHASE_READ_HEAP 2
#define LHV_PHASE_INSERT 3
#define LHV_PHASE_SNAPSHOT 4

// ---- Storage ----

// lhv's catalog table of snapshots (in the extension's schema).
#define LHV_SNAPSHOT_TABLE "lhv_snapshot"
// lhv.snapshot_part_size (kB): the largest bytea part of one snapshot (well
// under the 1 GB field limit). A developer option: small parts let the tests
// cover snapshots of many parts without writing hundreds of megabytes.
#define LHV_SNAPSHOT_PART_SIZE_DEFAULT (64 * 1024)
#define LHV_SNAPSHOT_PART_SIZE_MIN 8
#define LHV_SNAPSHOT_PART_SIZE_MAX (512 * 1024)

// lhv.snapshot_threshold: log written since the last snapshot (MB) that
// makes the snapshot worker write a new one.
#define LHV_SNAPSHOT_THRESHOLD_DEFAULT 64
#define LHV_SNAPSHOT_THRESHOLD_MIN 1
#define LHV_SNAPSHOT_THRESHOLD_MAX (1024 * 1024)
// lhv.snapshot_naptime: seconds between the snapshot worker's rounds.
#define LHV_SNAPSHOT_NAPTIME_DEFAULT 10
#define LHV_SNAPSHOT_NAPTIME_MIN 1
#define LHV_SNAPSHOT_NAPTIME_MAX 3600
// lhv.preload: load every graph when the server starts (storage/preload.h).
#define LHV_PRELOAD_DEFAULT true

// ---- Developer settings, for tests (superuser only, not in the sample
// configuration) ----

// lhv.debug_records_per_chunk: elements per level-0 chunk of the graphs
// made from now on (0: chunks of about 2 MB), so that a test can make a
// graph of thousands of chunks from a small table.
#define LHV_DEBUG_RECORDS_PER_CHUNK_MAX 65536
// lhv.debug_fail_shared_allocation: the Nth allocation of shared memory this
// backend makes from now on raises an ERROR inside the DSA code, as a full
// /dev/shm would (0: never).
#define LHV_DEBUG_FAIL_SHARED_ALLOCATION_MAX INT_MAX

// GUC variables, defined in lhv_module.cpp.
extern int lhv_debug_records_per_chunk;
extern int lhv_debug_fail_shared_allocation;
extern int lhv_shared_memory_reserved_mb;
extern int lhv_max_shared_memory_mb;
extern int lhv_max_indexes;
extern int lhv_snapshot_threshold_mb;
extern int lhv_snapshot_naptime_s;
extern bool lhv_preload;
extern int lhv_snapshot_part_size_kb;
