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

// GUC variables, defined in lhv_module.cpp.
extern int lhv_shared_memory_reserved_mb;
extern int lhv_max_shared_memory_mb;
extern int lhv_max_indexes;
