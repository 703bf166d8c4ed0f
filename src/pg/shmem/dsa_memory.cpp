// dsa_memory.cpp: DsaChunkMemory, the engine's ChunkMemory over lhv's DSA
// area, and the deferred frees that follow a PostgreSQL error inside the DSA
// code.
extern "C" {
#include "postgres.h"
#include "access/xact.h"
}

#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "shmem/dsa_memory.h"
#include "guard.h"
#include "lhv_config.h"

namespace lhv::pg {

namespace {

// True from a PostgreSQL error inside dsa_allocate/dsa_free until the
// (sub)transaction aborts: the DSA code may still hold the area's LWLocks
// (LWLocks are not reentrant), so no DSA call is made until the abort has
// released them.
bool dsa_error_pending = false;

// Blocks released while dsa_error_pending, freed at the abort. No cap: a
// failed build or load frees a graph of any number of chunks through it.
// Room is made ahead (kDeferredRoom entries, when the backend first uses
// shared memory), so the usual error path allocates nothing; growing past
// that is plain C++ memory, and only a failure to get it loses blocks (then
// counted and reported at the abort).
constexpr std::size_t kDeferredRoom = 256;
std::vector<dsa_pointer> deferred_frees;
std::size_t unrecorded_frees = 0;

// lhv.debug_fail_shared_allocation: allocations left before the injected
// failure (0: none armed).
int allocations_before_failure = 0;

// dsa.c serves requests up to 8 kB from size classes: objects of one class
// sit at multiples of the class size from a page-aligned superblock. Only the
// classes that are multiples of 64 give 64-byte aligned blocks; larger
// requests get whole pages.
constexpr std::size_t kAlignedClasses[] = {64,  128, 192, 256,  320,  384,  448,  512,
                                           640, 768, 896, 1024, 1280, 2048, 4096, 8192};

// The size to ask dsa for so that the block is 64-byte aligned.
std::size_t aligned_request(std::size_t bytes) noexcept {
    for (std::size_t size_class : kAlignedClasses)
        if (bytes <= size_class) return size_class;
    return bytes;
}

// Frees the deferred blocks once the abort has released every LWLock.
void free_deferred() {
    if (!dsa_error_pending) return;
    dsa_error_pending = false;
    dsa_area* a = area();
    // Each block leaves the list before it is freed, so that an error in
    // dsa_free cannot free it twice. (No C++ object lives in this frame.)
    std::size_t freed = 0;
    while (!deferred_frees.empty()) {
        const dsa_pointer block = deferred_frees.back();
        deferred_frees.pop_back();
        dsa_free(a, block);
        freed++;
    }
    elog(DEBUG1, "lhv: freed %zu shared memory blocks released after an error", freed);
    if (unrecorded_frees > 0) {
        const std::size_t unrecorded = unrecorded_frees;
        unrecorded_frees = 0;
        ereport(WARNING, (errcode(ERRCODE_OUT_OF_MEMORY),
                          errmsg("lhv: %zu blocks of shared memory released after an error could not be freed",
                                 unrecorded),
                          errdetail("This backend ran out of memory to record them; they come back at the "
                                    "next server restart.")));
    }
}

// Transaction callback: runs after AbortTransaction's LWLockReleaseAll.
void at_xact_event(XactEvent event, void*) {
    if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT) release_deferred_frees();
}

// Subtransaction callback: runs after AbortSubTransaction's LWLockReleaseAll.
void at_subxact_event(SubXactEvent event, SubTransactionId, SubTransactionId, void*) {
    if (event == SUBXACT_EVENT_ABORT_SUB) release_deferred_frees();
}

}  // namespace

// True on the process's main thread, which is the backend's (its thread id
// is the process id); engine threads have others.
static bool on_main_thread() noexcept { return syscall(SYS_gettid) == getpid(); }

DsaChunkMemory::DsaChunkMemory() : owner_(pthread_self()), area_(nullptr) {
    if (!on_main_thread())
        throw lhv::Error(lhv::ErrorKind::Internal, "lhv: shared memory attached from a thread other than the backend's");
    area_ = pg_call([] { return pg::area(); });
    deferred_frees.reserve(kDeferredRoom);
}

void DsaChunkMemory::check_thread(const char* what) const {
    if (!on_owner_thread())
        throw lhv::Error(lhv::ErrorKind::Internal, std::string("lhv: ") + what +
                                                       " of shared memory from a thread other than the backend's");
}

lhv::ChunkHandle DsaChunkMemory::allocate(std::size_t bytes) {
    check_thread("allocation");
    if (dsa_error_pending)
        throw lhv::Error(lhv::ErrorKind::Internal,
                         "lhv: shared memory cannot be allocated until the transaction that failed in it aborts");
    const std::size_t size = aligned_request(bytes == 0 ? 1 : bytes);
    dsa_area* const a = area_;
    dsa_pointer p = InvalidDsaPointer;
    try {
        p = pg_call([a, size] {
            if (allocations_before_failure > 0 && --allocations_before_failure == 0)
                ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_RESOURCES),
                                errmsg("lhv: shared memory allocation failed (lhv.debug_fail_shared_allocation)")));
            return dsa_allocate_extended(a, size, DSA_ALLOC_HUGE | DSA_ALLOC_NO_OOM | DSA_ALLOC_ZERO);
        });
    } catch (const PgError&) {
        dsa_error_pending = true;
        throw;
    }
    if (!DsaPointerIsValid(p))
        throw lhv::Error(lhv::ErrorKind::OutOfMemory,
                         "lhv: out of shared memory: could not allocate " + std::to_string(bytes) +
                             " bytes in lhv's area, which lhv.max_shared_memory caps at " +
                             std::to_string(lhv_max_shared_memory_mb) + " MB");
    void* address = resolve(p);
    if (reinterpret_cast<std::uintptr_t>(address) % 64 != 0) {
        release(p);
        throw lhv::Error(lhv::ErrorKind::Internal, "lhv: the DSA area returned a block not aligned to 64 bytes");
    }
    return p;
}

void DsaChunkMemory::release(lhv::ChunkHandle handle) noexcept {
    if (handle == kInvalidChunk) return;
    if (!on_owner_thread()) return;  // never call DSA off the backend's thread (see the header)
    if (dsa_error_pending) {
        try {
            deferred_frees.push_back(handle);
        } catch (const std::exception&) {
            unrecorded_frees++;
        }
        return;
    }
    dsa_area* const a = area_;
    try {
        pg_call([a, handle] { dsa_free(a, handle); });
    } catch (const std::exception&) {
        // Nothing to report from here; the statement fails anyway once the
        // PgError's (sub)transaction aborts. Keep DSA untouched until then.
        dsa_error_pending = true;
    }
}

void* DsaChunkMemory::resolve(lhv::ChunkHandle handle) {
    if (handle == kInvalidChunk)
        throw lhv::Error(lhv::ErrorKind::Internal, "lhv: resolving an invalid shared memory handle");
    check_thread("address resolution");
    dsa_area* const a = area_;
    return pg_call([a, handle] { return dsa_get_address(a, handle); });
}

DsaChunkMemory& dsa_memory() {
    // Made on first use, which must be on the backend's thread; never freed.
    static DsaChunkMemory* memory = nullptr;
    if (memory == nullptr) {
        if (!on_main_thread())
            throw lhv::Error(lhv::ErrorKind::Internal, "lhv: shared memory used from a thread other than the backend's");
        memory = new DsaChunkMemory();
    }
    if (!memory->on_owner_thread())
        throw lhv::Error(lhv::ErrorKind::Internal, "lhv: shared memory used from a thread other than the backend's");
    return *memory;
}

void release_deferred_frees() {
    free_deferred();
}

void arm_allocation_failure(int allocations, void*) {
    allocations_before_failure = allocations;
}

void register_dsa_memory_callbacks() {
    RegisterXactCallback(at_xact_event, nullptr);
    RegisterSubXactCallback(at_subxact_event, nullptr);
}

}  // namespace lhv::pg
