// am_build.cpp: CREATE INDEX (and REINDEX, TRUNCATE, the rebuild after a
// restart): read the table's vectors in batches that maintenance_work_mem
// holds, and insert each batch into a new shared graph with one thread per
// core (within PostgreSQL's limits on parallel builds), before reading on.
//
// The threads run engine code only. Before each batch's threads start, this
// backend reserves all the shared memory the batch will need and makes the
// threads a view of the graph that is sealed (it refuses to call the DSA
// code), so a thread never calls PostgreSQL; while they run, it reports
// progress and watches for a cancel, which stops them between two inserts.
// Errors are raised after they joined. Batches insert the rows in the order
// read, so a build on one thread makes the same graph whatever the batch size.
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
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#include "shmem/dsa_memory.h"
#include "guard.h"
#include "am/index_graph.h"
#include "am/lhv_am.h"
#include "api/named_import.h"
#include "vector_datum.h"
#include "storage/graph_snapshot.h"
#include "storage/metapage.h"
#include "storage/snapshot_store.h"

using lhv::pg::RegistryEntry;

namespace {

// Rows read from the table and not yet in the graph. They are kept in blocks
// allocated as rows arrive and reused by the next batch, so a batch never
// moves and never holds more than its capacity rounded up to a block.
struct Batch {
    int64 capacity;      // rows, as many as maintenance_work_mem holds
    int64 block_rows;    // rows per block
    int64 count;         // rows in the batch
    int blocks;          // blocks allocated
    float** vector_blocks;  // capacity / block_rows (rounded up) of each
    uint64** label_blocks;

    const float* vector(int64 i, int dimension) const
    {
        return vector_blocks[i / block_rows] + (i % block_rows) * dimension;
    }
    uint64 label(int64 i) const { return label_blocks[i / block_rows][i % block_rows]; }
};

// The build of one index.
struct BuildState {
    Relation index;
    lhv::Metric metric;
    bool report_progress;
    int dimension;        // fixed by the first vector read
    int threads;          // most threads a batch uses
    RegistryEntry entry;  // the slot claimed for the graph
    dsa_pointer header;   // the graph, made with the first batch
    Batch batch;
    int64 indexed;        // vectors in the graph
    int64 batches;        // batches inserted
    Size peak_bytes;      // most memory the rows held at once
    MemoryContext tuple_context;  // reset after each row
    MemoryContext build_context;  // the batch's blocks
};
static_assert(std::is_trivially_destructible<BuildState>::value, "ereport may longjmp past a BuildState");

// Rows a batch may hold: as many vectors and labels as maintenance_work_mem
// holds, at least one.
int64 batch_capacity(int dimension)
{
    const Size row_bytes = Size(dimension) * sizeof(float) + sizeof(uint64);
    return Max(int64(1), int64(Size(maintenance_work_mem) * 1024 / row_bytes));
}

// Sets the batch up for vectors of `dimension` (at the first row).
void start_batches(BuildState* state, int dimension)
{
    Batch& batch = state->batch;
    state->dimension = dimension;
    batch.capacity = batch_capacity(dimension);
    batch.block_rows = Min(batch.capacity, int64(1024));
    const int64 block_count = (batch.capacity + batch.block_rows - 1) / batch.block_rows;
    batch.vector_blocks = static_cast<float**>(
        MemoryContextAllocZero(state->build_context, sizeof(float*) * Size(block_count)));
    batch.label_blocks = static_cast<uint64**>(
        MemoryContextAllocZero(state->build_context, sizeof(uint64*) * Size(block_count)));
}

void insert_batch(BuildState* state);

// Adds one row's vector to the batch, inserting the batch when it is full;
// called by table_index_build_scan.
void build_callback(Relation index, ItemPointer tid, Datum* values, bool* isnull, bool, void* arg)
{
    BuildState* state = static_cast<BuildState*>(arg);
    (void)index;
    if (isnull[0])
        return;

    MemoryContext old = MemoryContextSwitchTo(state->tuple_context);
    LhvVector vector =
        lhv_vector_from_datum_finite(values[0], lhv_index_vector_format(state->index), "vector");
    if (state->dimension == 0)
        start_batches(state, vector.dimension);
    else if (vector.dimension != state->dimension)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("vector has %d dimensions, but index \"%s\" has %d", vector.dimension,
                               RelationGetRelationName(state->index), state->dimension),
                        errdetail("The first vector indexed fixes the dimension of an lhv index.")));
    if (state->metric == lhv::Metric::Cosine)
        lhv_vector_check_cosine_indexable(vector.values, vector.dimension);

    Batch& batch = state->batch;
    const int64 block = batch.count / batch.block_rows;
    if (block == batch.blocks) {
        batch.vector_blocks[block] = static_cast<float*>(MemoryContextAllocHuge(
            state->build_context, Size(batch.block_rows) * state->dimension * sizeof(float)));
        batch.label_blocks[block] = static_cast<uint64*>(
            MemoryContextAllocHuge(state->build_context, Size(batch.block_rows) * sizeof(uint64)));
        batch.blocks++;
    }
    const int64 row = batch.count % batch.block_rows;
    memcpy(batch.vector_blocks[block] + row * state->dimension, vector.values,
           sizeof(float) * state->dimension);
    batch.label_blocks[block][row] = lhv_tid_to_label(tid);
    batch.count++;

    MemoryContextSwitchTo(old);
    MemoryContextReset(state->tuple_context);
    if (batch.count == batch.capacity)
        insert_batch(state);
}

// Threads to insert with: lhv.build_threads (0: one per core), capped as
// PostgreSQL caps its own parallel index builds, so that the settings an
// operator already uses bound lhv's builds too: the leader's share plus one
// per parallel worker the build could have, that is at most
// max_parallel_maintenance_workers (or the table's parallel_workers option)
// and never more than max_worker_processes, which only a superuser sets.
int build_thread_count(Relation heap)
{
    int threads = lhv_build_threads;
    if (threads <= 0)
        threads = Max(1, int(std::thread::hardware_concurrency()));
    int workers = Min(max_parallel_maintenance_workers, max_worker_processes);
    workers = Min(workers, RelationGetParallelWorkers(heap, workers));
    return Min(threads, 1 + Max(workers, 0));
}

// True when a cancel or termination is pending and CHECK_FOR_INTERRUPTS
// would act on it; reading the flags is safe anywhere.
bool cancel_requested()
{
    return (QueryCancelPending || ProcDiePending) && INTERRUPTS_CAN_BE_PROCESSED();
}

// The view of the graph one batch's threads use, made, reserved and sealed
// by the backend before any thread starts: it holds the address of every
// chunk the batch needs, and refuses to call the DSA code at all, so no
// thread can reach PostgreSQL. It lives across the rounds of the batch's
// insert loop (a cancel that CHECK_FOR_INTERRUPTS does not raise resumes with
// it), and is deleted with the batch's memory context, on error too.
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

// Inserts rows [*next_row, batch.count) of the batch into the graph with
// `threads` threads, until done or a cancel is requested. C++: runs inside
// lhv_guard. `indexed` (vectors already in the graph) only offsets the
// progress shown. Returns true when every row is in.
bool insert_in_parallel(lhv::HnswGraph& graph, const Batch& batch, int dimension, int threads,
                        bool report_progress, int64 indexed, int64* next_row)
{
    std::atomic<int64> next(*next_row);
    std::atomic<int64> done(*next_row);
    std::atomic<bool> stop(false);
    std::vector<std::exception_ptr> errors(threads);
    std::vector<std::thread> workers;
    workers.reserve(threads);
    // Workers that returned, so that the watcher wakes as soon as all did.
    std::mutex finished_mutex;
    std::condition_variable finished_cv;
    int finished = 0;

    // One worker: takes the next row until none is left or stop is set.
    auto work = [&](int t) {
        try {
            for (;;) {
                if (stop.load(std::memory_order_relaxed))
                    break;
                int64 i = next.fetch_add(1);
                if (i >= batch.count)
                    break;
                graph.add(batch.vector(i, dimension), batch.label(i));
                done.fetch_add(1, std::memory_order_relaxed);
            }
        } catch (...) {
            errors[t] = std::current_exception();
            stop.store(true);
        }
        std::lock_guard<std::mutex> guard(finished_mutex);
        finished++;
        finished_cv.notify_one();
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
    for (;;) {
        {
            std::unique_lock<std::mutex> lock(finished_mutex);
            if (finished_cv.wait_for(lock, std::chrono::milliseconds(50),
                                     [&] { return finished == threads; }))
                break;
        }
        if (report_progress)
            pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, indexed + done.load());
        if (cancel_requested())
            stop.store(true);
    }
    join_all();

    for (const std::exception_ptr& error : errors)
        if (error)
            std::rethrow_exception(error);
    // Every row handed out was inserted; resume after them.
    *next_row = Min(next.load(), batch.count);
    return *next_row >= batch.count;
}

// Makes the graph, at the first batch, and records it in the claimed slot
// at once, so that an abort frees it with the slot.
void create_graph(BuildState* state)
{
    lhv::GraphParams params = lhv_index_params(state->index, state->dimension);
    state->header = lhv::pg::lhv_guard([&] {
        lhv::ChunkHandle handle = lhv::HnswGraph::create(lhv::pg::dsa_memory(), params);
        if (!lhv::pg::registry_update(state->entry, handle, 0, lhv::pg::SlotState::Loading))
            throw lhv::Error(lhv::ErrorKind::Internal, "lhv: registry slot vanished during a build");
        return dsa_pointer(handle);
    });
    elog(DEBUG1, "lhv: building index \"%s\" with %d thread(s), in batches of up to %lld vectors",
         RelationGetRelationName(state->index), state->threads, (long long)state->batch.capacity);
}

// Inserts the rows of the batch into the graph, then empties the batch.
void insert_batch(BuildState* state)
{
    Batch& batch = state->batch;
    if (batch.count == 0)
        return;
    state->peak_bytes = Max(state->peak_bytes, MemoryContextMemAllocated(state->build_context, true));
    if (!DsaPointerIsValid(state->header))
        create_graph(state);
    if (state->report_progress)
        pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, LHV_PHASE_INSERT);

    // This batch's view: reserved for every row of the batch, then sealed.
    MemoryContext view_context = AllocSetContextCreate(state->build_context, "lhv build view",
                                                       ALLOCSET_SMALL_SIZES);
    BuildView* view = static_cast<BuildView*>(MemoryContextAllocZero(view_context, sizeof(BuildView)));
    view->callback.func = delete_build_view;
    view->callback.arg = view;
    MemoryContextRegisterResetCallback(view_context, &view->callback);
    const dsa_pointer header = state->header;
    const int64 total = state->indexed + batch.count;
    lhv::pg::lhv_guard([&] {
        if (total > int64(UINT32_MAX))
            throw lhv::Error(lhv::ErrorKind::CapacityExceeded, "lhv: an index holds at most 2^32-1 vectors");
        lhv::pg::DsaChunkMemory& memory = lhv::pg::dsa_memory();
        view->locks = new lhv::AtomicGraphLocks(lhv::HnswGraph::lock_words(memory, header));
        view->graph = new lhv::HnswGraph(memory, *view->locks, header);
        view->graph->reserve(uint32(total));
        view->graph->seal();
    });
    const int threads = int(Min(int64(state->threads), batch.count));
    int64 next = 0;
    for (;;) {
        bool finished = lhv::pg::lhv_guard([&] {
            return insert_in_parallel(*view->graph, batch, state->dimension, threads, state->report_progress,
                                      state->indexed, &next);
        });
        if (finished)
            break;
        CHECK_FOR_INTERRUPTS();  // raises the cancel; otherwise carry on
    }
    MemoryContextDelete(view_context);  // deletes the view

    state->indexed += batch.count;
    state->batches++;
    batch.count = 0;
    if (state->report_progress) {
        const int names[] = {PROGRESS_CREATEIDX_SUBPHASE, PROGRESS_CREATEIDX_TUPLES_DONE};
        const int64 values[] = {LHV_PHASE_READ_HEAP, state->indexed};
        pgstat_progress_update_multi_param(2, names, values);
    }
}

}  // namespace

bool lhv_graph_build(Relation heap, Relation index, IndexInfo* indexInfo, bool replace,
                     double* heap_tuples, double* index_tuples)
{
    lhv::pg::RegistryEntry entry;
    if (!lhv_graph_claim(index, replace, &entry))
        return false;

    BuildState state{};  // trivially destructible: ereport may longjmp through this frame
    state.index = index;
    state.metric = lhv_index_params(index, 1).metric;
    state.report_progress = replace;
    state.threads = build_thread_count(heap);
    state.entry = entry;
    state.header = InvalidDsaPointer;
    state.tuple_context = AllocSetContextCreate(CurrentMemoryContext, "lhv build tuple",
                                                ALLOCSET_DEFAULT_SIZES);
    state.build_context = AllocSetContextCreate(CurrentMemoryContext, "lhv build vectors",
                                                ALLOCSET_DEFAULT_SIZES);

    if (state.report_progress)
        pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, LHV_PHASE_READ_HEAP);
    *heap_tuples = table_index_build_scan(heap, index, indexInfo, true, state.report_progress,
                                          build_callback, &state, NULL);
    insert_batch(&state);  // the rows read since the last full batch
    *index_tuples = double(state.indexed);
    elog(DEBUG2, "lhv: built index \"%s\" from %lld vectors in %lld batch(es); its rows held at most %zu bytes",
         RelationGetRelationName(index), (long long)state.indexed, (long long)state.batches,
         size_t(state.peak_bytes));

    lhv_graph_publish(entry, state.header, replace);

    MemoryContextDelete(state.tuple_context);
    MemoryContextDelete(state.build_context);
    return true;
}

IndexBuildResult* lhv_build(Relation heap, Relation index, IndexInfo* indexInfo)
{
    IndexBuildResult* result = static_cast<IndexBuildResult*>(palloc(sizeof(IndexBuildResult)));
    // lhv_import hands over the graph it decoded instead (api/named_import.h).
    if (!lhv_import_adopt(heap, index, &result->heap_tuples, &result->index_tuples))
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
