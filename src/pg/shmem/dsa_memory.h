// dsa_memory.h: the engine's ChunkMemory over lhv's DSA area, so graphs live
// in shared memory that every backend sees.
//
// Handles are dsa_pointer values (kInvalidChunk == InvalidDsaPointer == 0);
// resolve() maps one to this backend's address. Blocks are zeroed and 64-byte
// aligned. allocate() throws lhv::Error(OutOfMemory) when the area has reached
// lhv.max_shared_memory, and PgError for any other PostgreSQL error (for
// example /dev/shm full).
//
// After a PostgreSQL error inside the DSA code the area's own locks may still
// be held until the transaction aborts, so until then release() only records
// the block and the abort frees it, and allocate() refuses. The record has no
// size limit: a graph of any number of chunks freed in between (a build or a
// load that failed) comes back whole at the abort.
//
// Only the backend's own thread may use it: the DSA code is PostgreSQL code
// (it may ereport, take LWLocks, map segments). allocate() and resolve()
// called from any other thread throw lhv::Error(Internal) without touching
// the area, and release() does nothing (the block is leaked, never freed
// from the wrong thread). The parallel build's threads use a sealed graph
// view (HnswGraph::seal), so they never get here at all.
//
// Use it inside lhv_guard (it throws, never ereports). Include postgres.h first.
#pragma once

#include <pthread.h>

#include <cstddef>

#include "core/memory.h"
#include "shmem/shmem.h"

namespace lhv::pg {

static_assert(sizeof(dsa_pointer) == sizeof(lhv::ChunkHandle), "handles are dsa_pointers");

class DsaChunkMemory final : public lhv::ChunkMemory {
public:
    // Attaches this backend to the area if it is not yet. Throws on failure.
    DsaChunkMemory();

    lhv::ChunkHandle allocate(std::size_t bytes) override;
    void release(lhv::ChunkHandle handle) noexcept override;
    void* resolve(lhv::ChunkHandle handle) override;

    dsa_area* area() const noexcept { return area_; }

    // True on the thread that made this object (the backend's).
    bool on_owner_thread() const noexcept { return pthread_equal(pthread_self(), owner_) != 0; }

private:
    // Throws Internal unless called on the owner thread.
    void check_thread(const char* what) const;

    pthread_t owner_;
    dsa_area* area_;
};

// This backend's DsaChunkMemory (created on first use). Throws on failure.
DsaChunkMemory& dsa_memory();

// Registers the transaction callbacks that free blocks released after a DSA
// error; called once by _PG_init.
void register_dsa_memory_callbacks();

// At a (sub)transaction abort, after its LWLocks are released: frees the
// blocks released since a DSA error, and lets DSA be used again. The abort
// callbacks call it; lifecycle.cpp calls it first, before it frees the
// graphs of aborted builds, so that those go straight back through their
// headers. A no-op when no DSA error happened.
void release_deferred_frees();

// Assign hook of lhv.debug_fail_shared_allocation: arms the failure of the
// Nth allocation from now.
void arm_allocation_failure(int allocations, void* extra);

}  // namespace lhv::pg
