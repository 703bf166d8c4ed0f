// am_build.cpp: CREATE INDEX (and REINDEX, TRUNCATE, the rebuild after a
// restart): read the table's vectors, then insert them into a new shared
// graph with one thread per core.
//
// The threads run engine code only. Before they start, this backend reserves
// all the shared memory the graph will need and seals the threads' view of
// it (it then refuses to call the DSA code), so a thread never calls
// PostgreSQL; while they run, it reports progress and watches for a cancel,
// which stops them between two inserts. Errors are raised after they joined.
extern "C" {
#include "postgres.h"

#include "access/tableam.h"
#include "commands/progress.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/memutils.h"
#include "utils/rel.h"
}

#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <thread>
#include <vector>

#include "shmem/dsa_memory.h"
#include "guard.h"
#include "am/index_graph.h"
#include "am/lhv_am.h"
#include "vector_datum.h"
#include "storage/graph_snapshot.h"
#include "storage/metapage.h"
#include "storage/snapshot_store.h"

using lhv::pg::RegistryEntry;

namespace {

// The vectors read from the table, before they go into the graph.
struct BuildState {
    Relation index;
    lhv::Metric metric;
    bool report_progress;
    int dimension;        // fixed by the first vector read
    int64 count;
    int64 capacity;
    float* vectors;       // count x dimension
    uint64* labels;
    MemoryContext tuple_context;  // reset after each row
    MemoryContext data_context;   // holds vectors and labels
};

// Appends one row's vector; called by table_index_build_scan.
void build_callback(Relation index, ItemPointer tid, Datum* values, bool* isnull, bool, void* arg)
{
    BuildState* state = static_cast<BuildState*>(arg);
    (void)index;
    if (isnull[0])
        return;

    MemoryContext old = MemoryContextSwitchTo(state->tuple_context);
    LhvVector vector = lhv_vector_from_datum(values[0], "vector");
    lhv_vector_check_finite(vector, "vector");
    if (state->dimension == 0)
        state->dimension = vector.dimension;
    else if (vector.dimension != state->dimension)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("vector has %d dimensions, but index \"%s\" has %d", vector.dimension,
                               RelationGetRelationName(state->index), state->dimension),
                        errdetail("The first vector indexed fixes the dimension of an lhv index.")));
    if (state->metric == lhv::Metric::Cosine)
        lhv_vector_check_cosine_indexable(vector.values, vector.dimension);

    if (state->count == state->capacity) {
        int64 capacity = state->capacity == 0 ? 1024 : state->capacity * 2;
        Size vector_bytes = Size(capacity) * state->dimension * sizeof(float);
        Size label_bytes = Size(capacity) * sizeof(uint64);
        if (state->vectors == NULL) {
            state->vectors = static_cast<float*>(MemoryContextAllocHuge(state->data_context, vector_bytes));
            state->labels = static_cast<uint64*>(MemoryContextAllocHuge(state->data_context, label_bytes));
        } else {
            state->vectors = static_cast<float*>(repalloc_huge(state->vectors, vector_bytes));
            state->labels = static_cast<uint64*>(repalloc_huge(state->labels, label_bytes));
        }
        state->capacity = capacity;
    }
    memcpy(state->vectors + state->count * state->dimension, vector.values,
           sizeof(float) * state->dimension);
    state->labels[state->count] = lhv_tid_to_label(tid);
    state->count++;

    MemoryContextSwitchTo(old);
    MemoryContextReset(state->tuple_context);
    if (state->report_progress && state->count % 1024 == 0)
        pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, state->count);
}

// Threads to insert with: lhv.build_threads (0: one per core), capped as
// PostgreSQL caps its own parallel index builds, so that the settings an
// operator already uses bound lhv's builds too: the leader's share plus one
// per parallel worker the build could have, that is at most
// max_parallel_maintenance_workers (or the table's parallel_workers option)
// and never more than max_worker_processes, which only a superuser sets.
int build_thread_count(Relation heap, int64 vectors)
{
    int threads = lhv_build_threads;
    if (threads <= 0)
        threads = Max(1, int(std::thread::hardware_concurrency()));
    int workers = Min(max_parallel_maintenance_workers, max_worker_processes);
    workers = Min(workers, RelationGetParallelWorkers(heap, workers));
    threads = Min(threads, 1 + Max(workers, 0));
    return int(Min(int64(threads), Max(vectors, int64(1))));
}

// True when a cancel or termination is pending and CHECK_FOR_INTERRUPTS
// would act on it; reading the flags is safe anywhere.
bool cancel_requested()
{
    return (QueryCancelPending || ProcDiePending) && INTERRUPTS_CAN_BE_PROCESSED();
}

// The one view of the graph the build's threads use, made, reserved and
// sealed by the backend before any thread starts: it holds the address of
// every chunk the build needs, and refuses to call the DSA code at all, so no
// thread can reach PostgreSQL. It lives across the rounds of the build loop
// (a cancel that CHECK_FOR_INTERRUPTS does not raise resumes with it), and is
// deleted with the build's memory context, on error too.
struct BuildView {
    lhv::AtomicGraphLocks* locks;
    lhv::HnswGraph* graph;
    MemoryContextCallback callback;
};

// Memory context reset callback: deletes the view (no PostgreSQL call).
void delete_build_view(void* arg)
{
    BuildView* view = static_cast<BuildView*>(arg);
    delete view->graph;
    delete view->locks;
    view->graph = nullptr;
    view->locks = nullptr;
}

// Inserts vectors [*next, count) into the graph with `threads` threads, until
// done or a cancel is requested. C++: runs inside lhv_guard. Returns true
// when every vector is in.
bool insert_in_parallel(lhv::HnswGraph& graph, const BuildState& state, int threads,
                        bool report_progress, int64* next_vector)
{
    std::atomic<int64> next(*next_vector);
    std::atomic<int64> done(*next_vector);
    std::atomic<bool> stop(false);
    std::vector<std::exception_ptr> errors(threads);
    std::vector<std::thread> workers;
    workers.reserve(threads);

    // One worker: takes the next vector until none is left or stop is set.
    auto work = [&](int t) {
        try {
            for (;;) {
                if (stop.load(std::memory_order_relaxed))
                    return;
                int64 i = next.fetch_add(1);
                if (i >= state.count)
                    return;
                graph.add(state.vectors + i * state.dimension, state.labels[i]);
                done.fetch_add(1, std::memory_order_relaxed);
            }
        } catch (...) {
            errors[t] = std::current_exception();
            stop.store(true);
        }
    };
    auto join_all = [&] {
        for (std::thread& worker : workers)
            worker.join();
    };
    // A joinable std::thread destroyed by an exception would terminate the
    // backend: if starting a thread fails, stop and join those running first.
    try {
        for (int t = 0; t < threads; t++)
            workers.emplace_back(work, t);
    } catch (...) {
        stop.store(true);
        join_all();
        throw;
    }

    // This thread only watches: progress, and cancels.
    while (done.load() < state.count && !stop.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        if (report_progress)
            pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, done.load());
        if (cancel_requested())
            stop.store(true);
    }
    join_all();

    for (const std::exception_ptr& error : errors)
        if (error)
            std::rethrow_exception(error);
    // Every vector handed out was inserted; resume after them.
    *next_vector = Min(next.load(), state.count);
    return *next_vector >= state.count;
}

}  // namespace

bool lhv_graph_build(Relation heap, Relation index, IndexInfo* indexInfo, bool replace,
                     double* heap_tuples, double* index_tuples)
{
    lhv::pg::RegistryEntry entry;
    if (!lhv_graph_claim(index, replace, &entry))
        return false;

    BuildState state;
    memset(&state, 0, sizeof(state));
    state.index = index;
    state.metric = lhv_index_params(index, 1).metric;
    state.report_progress = replace;
    state.tuple_context = AllocSetContextCreate(CurrentMemoryContext, "lhv build tuple",
                                                ALLOCSET_DEFAULT_SIZES);
    state.data_context = AllocSetContextCreate(CurrentMemoryContext, "lhv build vectors",
                                               ALLOCSET_DEFAULT_SIZES);

    if (state.report_progress)
        pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, LHV_PHASE_READ_HEAP);
    *heap_tuples = table_index_build_scan(heap, index, indexInfo, true, state.report_progress,
                                          build_callback, &state, NULL);
    *index_tuples = double(state.count);

    dsa_pointer header = InvalidDsaPointer;
    if (state.count > 0) {
        lhv::GraphParams params = lhv_index_params(index, state.dimension);
        if (state.report_progress) {
            const int names[] = {PROGRESS_CREATEIDX_SUBPHASE, PROGRESS_CREATEIDX_TUPLES_TOTAL,
                                 PROGRESS_CREATEIDX_TUPLES_DONE};
            const int64 values[] = {LHV_PHASE_INSERT, state.count, 0};
            pgstat_progress_update_multi_param(3, names, values);
        }
        // Create the graph and reserve all its memory here, in this backend.
        header = lhv::pg::lhv_guard([&] {
            lhv::pg::DsaChunkMemory& memory = lhv::pg::dsa_memory();
            lhv::ChunkHandle handle = lhv::HnswGraph::create(memory, params);
            // Recorded at once, so that an abort frees it with the slot.
            if (!lhv::pg::registry_update(entry, handle, 0, lhv::pg::SlotState::Loading))
                throw lhv::Error(lhv::ErrorKind::Internal, "lhv: registry slot vanished during a build");
            return dsa_pointer(handle);
        });
        BuildView* view = static_cast<BuildView*>(MemoryContextAllocZero(state.data_context, sizeof(BuildView)));
        view->callback.func = delete_build_view;
        view->callback.arg = view;
        MemoryContextRegisterResetCallback(state.data_context, &view->callback);
        lhv::pg::lhv_guard([&] {
            lhv::pg::DsaChunkMemory& memory = lhv::pg::dsa_memory();
            view->locks = new lhv::AtomicGraphLocks(lhv::HnswGraph::lock_words(memory, header));
            view->graph = new lhv::HnswGraph(memory, *view->locks, header);
            view->graph->reserve(uint32(state.count));
            view->graph->seal();
        });
        int threads = build_thread_count(heap, state.count);
        elog(DEBUG1, "lhv: building index \"%s\" with %d thread(s)", RelationGetRelationName(index), threads);
        int64 next = 0;
        for (;;) {
            bool finished = lhv::pg::lhv_guard([&] {
                return insert_in_parallel(*view->graph, state, threads, state.report_progress, &next);
            });
            if (finished)
                break;
            CHECK_FOR_INTERRUPTS();  // raises the cancel; otherwise carry on
        }
    }
    lhv_graph_publish(entry, header, replace);

    MemoryContextDelete(state.tuple_context);
    MemoryContextDelete(state.data_context);
    return true;
}

IndexBuildResult* lhv_build(Relation heap, Relation index, IndexInfo* indexInfo)
{
    IndexBuildResult* result = static_cast<IndexBuildResult*>(palloc(sizeof(IndexBuildResult)));
    lhv_graph_build(heap, index, indexInfo, true, &result->heap_tuples, &result->index_tuples);

    // The new relfilenode's metapage: a new log identity, an empty log.
    RegistryEntry entry;
    Oid relid = RelationGetRelid(index);
    bool found = lhv::pg::lhv_guard([&] { return lhv::pg::registry_lookup(MyDatabaseId, relid, &entry); });
    if (!found)
        elog(ERROR, "lhv: the graph of index \"%s\" vanished during its build", RelationGetRelationName(index));
    uint32 dimension = 0;
    if (DsaPointerIsValid(entry.graph))
        dimension = lhv::pg::lhv_guard([&] { return lhv_graph_view(entry)->params().dimension; });
    lhv_meta_create(index, MAIN_FORKNUM, dimension, dimension == 0 ? LHV_META_LOG_COMPLETE : 0);
    LhvMetaPageData meta = lhv_meta_read(index);
    lhv::pg::lhv_guard([&] {
        lhv::pg::registry_set_log_state(entry, meta.log_id, meta.log_end, false, lhv::pg::GraphSource::Build);
    });

    // The snapshot commits (or rolls back) with the build.
    Size bytes;
    uint64 position;
    if (DsaPointerIsValid(entry.graph)) {
        if (index->rd_rel->relpersistence != RELPERSISTENCE_TEMP)
            pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, LHV_PHASE_SNAPSHOT);
        lhv_graph_write_snapshot(index, &bytes, &position);
    } else if (index->rd_rel->relpersistence != RELPERSISTENCE_TEMP) {
        lhv_snapshot_forget_other_logs(index, meta.log_id);  // what an earlier relfilenode left
    }
    return result;
}

// An unlogged index's init fork: a metapage whose log gets a new identity at
// the first access after a crash reset the index to it.
void lhv_build_empty(Relation index)
{
    lhv_meta_create(index, INIT_FORKNUM, 0, LHV_META_NEEDS_IDENTITY | LHV_META_LOG_COMPLETE);
}
