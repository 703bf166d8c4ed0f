// index_graph.cpp: finding, loading, creating and using the shared graph of
// an lhv index from a backend (index_graph.h), through this backend's views
// of the graphs (view_cache.h).
extern "C" {
#include "postgres.h"

#include "access/genam.h"
#include "access/table.h"
#include "access/xlog.h"
#include "catalog/index.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "portability/instr_time.h"
#include "storage/proclist.h"
#include "storage/condition_variable.h"
#include "storage/lwlock.h"
#include "utils/guc.h"
#include "utils/rel.h"
}

#include "core/locks.h"
#include "shmem/dsa_memory.h"
#include "guard.h"
#include "am/index_graph.h"
#include "am/lhv_am.h"
#include "shmem/lifecycle.h"
#include "storage/change_log.h"
#include "storage/graph_loader.h"
#include "storage/metapage.h"
#include "vector_datum.h"

using lhv::pg::RegistryEntry;
using lhv::pg::SlotState;

namespace {

// Looks the index up in the registry.
bool lookup(Relation index, RegistryEntry* entry)
{
    Oid relid = RelationGetRelid(index);
    return lhv::pg::lhv_guard([&] { return lhv::pg::registry_lookup(MyDatabaseId, relid, entry); });
}

// Fills `ref` for a Ready entry; false when it has no graph yet.
bool fill_ref(const RegistryEntry& entry, LhvGraphRef* ref)
{
    ref->entry = entry;
    ref->graph = lhv::pg::lhv_guard([&] { return lhv_graph_view(entry); });
    return ref->graph != NULL;
}

// Rebuilds the graph of `index` from its table: only when neither a snapshot
// nor the whole log is there to load it from. The table may be written
// meanwhile; the build indexes in-progress rows too (a row added twice is
// returned once by scans), so its warnings about them are silenced.
//
// Any role's query may get here, so the index's expressions and predicate
// run as PostgreSQL's index_build runs them: as the table's owner, under
// SECURITY_RESTRICTED_OPERATION, with GUC changes undone afterwards, and, as
// PostgreSQL 17 does for maintenance, with search_path = pg_catalog, pg_temp,
// so that the querying role's schemas cannot capture a name the owner's
// functions leave unqualified. An error restores all of it with the
// (sub)transaction's abort, as for index_build.
void rebuild_from_heap(Relation index)
{
    LhvMetaPageData meta = lhv_meta_read(index);
    Relation heap = table_open(index->rd_index->indrelid, AccessShareLock);
    Oid saved_user;
    int saved_context;
    GetUserIdAndSecContext(&saved_user, &saved_context);
    SetUserIdAndSecContext(heap->rd_rel->relowner, saved_context | SECURITY_RESTRICTED_OPERATION);
    int nest_level = NewGUCNestLevel();
    set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
                      true, 0, false);
    set_config_option("client_min_messages", "error", PGC_SUSET, PGC_S_SESSION,
                      GUC_ACTION_SAVE, true, 0, false);
    set_config_option("log_min_messages", "error", PGC_SUSET, PGC_S_SESSION, GUC_ACTION_SAVE,
                      true, 0, false);
    IndexInfo* info = BuildIndexInfo(index);
    double heap_tuples, index_tuples;
    bool built = lhv_graph_build(heap, index, info, false, &heap_tuples, &index_tuples);
    AtEOXact_GUC(false, nest_level);
    SetUserIdAndSecContext(saved_user, saved_context);
    table_close(heap, AccessShareLock);
    // The graph now holds the log up to where it ended when the build began
    // (appenders wait for a graph before they log). Save it soon.
    RegistryEntry entry;
    if (built && lookup(index, &entry))
        lhv::pg::lhv_guard([&] {
            lhv::pg::registry_set_log_state(entry, meta.log_id, meta.log_end, RecoveryInProgress(),
                                            lhv::pg::GraphSource::Table);
            lhv::pg::registry_set_needs_snapshot(entry, true);
        });
}

// Sleeps until the slot of `entry` may have stopped Loading (interruptible,
// shown as an extension wait event). A loader that dies frees the slot and
// wakes the waiters; the timeout only bounds a missed wake-up.
void wait_for_load(const RegistryEntry& entry)
{
    ConditionVariable* cv = lhv::pg::lhv_guard([&] { return lhv::pg::registry_slot_loaded_cv(entry); });
    ConditionVariablePrepareToSleep(cv);
    RegistryEntry now;
    Oid database = entry.database, relid = entry.index;
    bool loading = lhv::pg::lhv_guard([&] {
        return lhv::pg::registry_lookup(database, relid, &now) && now.generation == entry.generation &&
               now.state == SlotState::Loading;
    });
    if (loading)
        (void)ConditionVariableTimedSleep(cv, 1000, PG_WAIT_EXTENSION);
    ConditionVariableCancelSleep();
}

// The graph of `index`: waits for another backend's load, loads it itself
// (when `load` is set), and catches up a graph that may lag behind its log.
bool open_graph(Relation index, bool load, LhvGraphRef* ref)
{
    for (;;) {
        RegistryEntry entry;
        if (lookup(index, &entry)) {
            if (entry.state == SlotState::Loading) {
                wait_for_load(entry);
                CHECK_FOR_INTERRUPTS();
                continue;
            }
            if (lhv_graph_may_lag(entry) && !lhv_graph_catch_up(index, entry)) {
                // Its log was replaced or reclaimed: load it afresh.
                lhv::pg::lhv_guard([&] { lhv::pg::registry_remove_entry(entry); });
                continue;
            }
            if (lhv_graph_may_lag(entry) && !lookup(index, &entry))
                continue;
            return fill_ref(entry, ref);
        }
        if (!load)
            return false;
        lhv_standby_sweep();  // a standby frees what its primary dropped
        RegistryEntry claimed;
        if (!lhv_graph_claim(index, false, &claimed))
            continue;  // another backend claimed it first: wait for it
        if (!lhv_graph_load(index, claimed))
            rebuild_from_heap(index);
    }
}

}  // namespace

lhv::GraphParams lhv_index_params(Relation index, int dimension)
{
    lhv::GraphParams params;
    params.dimension = uint32(dimension);
    params.m = uint32(lhv_index_m(index));
    params.ef_construction = uint32(lhv_index_ef_construction(index));
    params.records_per_chunk = uint32(lhv_debug_records_per_chunk);
    FmgrInfo* metric_proc = index_getprocinfo(index, 1, LHV_METRIC_PROC);
    int32 metric = DatumGetInt32(FunctionCall1(metric_proc, PointerGetDatum(NULL)));
    if (metric < int(lhv::Metric::L2) || metric > int(lhv::Metric::Cosine))
        elog(ERROR, "lhv: operator class of index \"%s\" names unknown metric %d",
             RelationGetRelationName(index), metric);
    params.metric = lhv::Metric(metric);
    return params;
}

bool lhv_graph_open(Relation index, LhvGraphRef* ref)
{
    return open_graph(index, true, ref);
}

bool lhv_graph_open_if_loaded(Relation index, LhvGraphRef* ref)
{
    return open_graph(index, false, ref);
}

void lhv_graph_unclaim(const RegistryEntry& entry)
{
    lhv::pg::lhv_guard([&] { lhv::pg::registry_remove_entry(entry); });
    lhv_lifecycle_untrack_claim(entry);
}

bool lhv_graph_claim(Relation index, bool replace, RegistryEntry* entry)
{
    Oid relid = RelationGetRelid(index);
    bool claimed = lhv::pg::lhv_guard([&] {
        if (replace)
            lhv::pg::registry_remove(MyDatabaseId, relid);
        return lhv::pg::registry_insert(MyDatabaseId, relid, InvalidDsaPointer, 0,
                                        SlotState::Loading, entry);
    });
    if (claimed)
        lhv_lifecycle_track_claim(*entry);
    return claimed;
}

void lhv_graph_publish(const RegistryEntry& entry, dsa_pointer header, bool transactional)
{
    lhv::pg::lhv_guard([&] {
        uint64 bytes = 0;
        if (DsaPointerIsValid(header)) {
            RegistryEntry ready = entry;
            ready.state = SlotState::Ready;
            ready.graph = header;
            lhv::HnswGraph* graph = lhv_graph_view(ready);
            bytes = graph->memory_bytes();
        }
        if (!lhv::pg::registry_update(entry, header, bytes, SlotState::Ready))
            throw lhv::Error(lhv::ErrorKind::Internal, "lhv: registry slot vanished during a build");
    });
    // A graph built by CREATE INDEX belongs to its transaction; one rebuilt
    // from the table after a restart is good whatever the transaction does.
    if (!transactional)
        lhv_lifecycle_untrack_claim(entry);
}

void lhv_graph_insert(Relation index, const float* vector, int dimension,
                      uint64 label)
{
    LhvGraphRef ref;
    for (;;) {
        bool has_graph = lhv_graph_open(index, &ref);
        LWLock* lock = lhv::pg::lhv_guard([&] { return lhv::pg::registry_slot_lock(ref.entry); });
        LWLockAcquire(lock, has_graph ? LW_SHARED : LW_EXCLUSIVE);
        bool valid = lhv::pg::lhv_guard([&] { return lhv::pg::registry_still_valid(ref.entry); });
        if (!valid) {
            LWLockRelease(lock);
            continue;  // dropped or rebuilt meanwhile: look again
        }
        if (!has_graph) {
            // The index's first vector fixes its dimension.
            RegistryEntry current;
            if (lookup(index, &current) && DsaPointerIsValid(current.graph)) {
                LWLockRelease(lock);
                continue;  // another backend created it first
            }
            lhv::GraphParams params = lhv_index_params(index, dimension);
            dsa_pointer header = lhv::pg::lhv_guard(
                [&] { return dsa_pointer(lhv::HnswGraph::create(lhv::pg::dsa_memory(), params)); });
            lhv::pg::lhv_guard([&] {
                if (!lhv::pg::registry_update(ref.entry, header, 0, SlotState::Ready))
                    throw lhv::Error(lhv::ErrorKind::Internal, "lhv: registry slot vanished");
            });
            LWLockRelease(lock);
            continue;
        }
        int index_dimension = int(ref.graph->params().dimension);
        if (dimension != index_dimension)
            ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                            errmsg("vector has %d dimensions, but index \"%s\" has %d", dimension,
                                   RelationGetRelationName(index), index_dimension),
                            errdetail("The first vector indexed fixes the dimension of an lhv index."),
                            errhint("If no row of %d dimensions is left (deleted or rolled back), "
                                    "VACUUM the table or REINDEX the index to start over.",
                                    index_dimension)));
        if (ref.graph->params().metric == lhv::Metric::Cosine)
            lhv_vector_check_cosine_indexable(vector, dimension);
        // The log first: what reaches the graph must survive a restart. An
        // entry whose graph insert then fails belongs to a row that rolls back.
        uint64 log_end = lhv_log_append_insert(index, label, vector, dimension);
        lhv::pg::lhv_guard([&] {
            ref.graph->add(vector, label);
            lhv::pg::registry_set_bytes(ref.entry, ref.graph->memory_bytes());
            lhv::pg::registry_note_log_end(ref.entry, log_end);
        });
        LWLockRelease(lock);
        return;
    }
}

bool lhv_graph_forget_if_empty(Relation index)
{
    LhvGraphRef ref;
    if (!lhv_graph_open_if_loaded(index, &ref) || lhv_graph_live_count(&ref) != 0)
        return false;
    // As REINDEX of an empty index: a new, empty slot replaces the old one
    // (whose graph is freed), and it outlives this transaction. The log says
    // so first, so that a load replays the same.
    uint64 log_id = ref.entry.log_id;
    uint64 log_end = lhv_log_append_reset(index);
    lhv::pg::RegistryEntry entry;
    if (!lhv_graph_claim(index, true, &entry))
        return false;
    lhv::pg::lhv_guard([&] {
        lhv::pg::registry_set_log_state(entry, log_id, log_end, RecoveryInProgress(),
                                        lhv::pg::GraphSource::Log);
        lhv::pg::registry_set_needs_snapshot(entry, true);
    });
    lhv_graph_publish(entry, InvalidDsaPointer, false);
    return true;
}

int lhv_graph_search(const LhvGraphRef* ref, const float* query, int dimension, int k, int ef,
                     lhv::SearchResult* out)
{
    if (dimension != int(ref->graph->params().dimension))
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("query vector has %d dimensions, but the index has %d", dimension,
                               int(ref->graph->params().dimension))));
    auto search = [&] {
        std::vector<lhv::SearchResult> found = ref->graph->search(query, size_t(k), size_t(ef));
        std::copy(found.begin(), found.end(), out);
        return int(found.size());
    };
    // On a primary the scan's heavyweight lock keeps the graph in place (DROP,
    // REINDEX, TRUNCATE need AccessExclusiveLock), so a search takes no lock.
    // A graph that may lag can be replaced by a catch-up (a standby reloading
    // it, a replayed reset) under the slot's lock: hold it shared and check.
    if (!lhv_graph_may_lag(ref->entry))
        return lhv::pg::lhv_guard(search);
    LWLock* lock = lhv::pg::lhv_guard([&] { return lhv::pg::registry_slot_lock(ref->entry); });
    LWLockAcquire(lock, LW_SHARED);
    bool valid = lhv::pg::lhv_guard([&] { return lhv::pg::registry_still_valid(ref->entry); });
    int found_count = valid ? lhv::pg::lhv_guard(search) : -1;
    LWLockRelease(lock);
    return found_count;
}

uint32 lhv_graph_live_count(const LhvGraphRef* ref)
{
    return ref->graph->size() - ref->graph->deleted_count();
}

bool lhv_graph_next_live(const LhvGraphRef* ref, uint32* next_id, uint64* label)
{
    return lhv::pg::lhv_guard([&] {
        uint32 size = ref->graph->size();
        while (*next_id < size) {
            uint32 id = (*next_id)++;
            if (!ref->graph->is_deleted(id)) {
                *label = ref->graph->label(id);
                return true;
            }
        }
        return false;
    });
}

void lhv_graph_delete(Relation index, const LhvGraphRef* ref, const uint32* ids, const uint64* labels,
                      int count)
{
    if (count == 0)
        return;
    LWLock* lock = lhv::pg::lhv_guard([&] { return lhv::pg::registry_slot_lock(ref->entry); });
    LWLockAcquire(lock, LW_SHARED);
    // Logged before the heap can reuse these TIDs (VACUUM's heap pass comes later).
    uint64 log_end = lhv_log_append_delete(index, labels, count);
    lhv::pg::lhv_guard([&] {
        for (int i = 0; i < count; i++)
            ref->graph->mark_deleted(ids[i]);
        lhv::pg::registry_note_log_end(ref->entry, log_end);
        lhv::pg::registry_set_needs_snapshot(ref->entry, true);
    });
    LWLockRelease(lock);
}

void lhv_graph_repair(Relation index, const LhvGraphRef* ref)
{
    LWLock* lock = lhv::pg::lhv_guard([&] { return lhv::pg::registry_slot_lock(ref->entry); });
    // The pass covers the elements deleted before it begins; they become
    // reusable when it ends (a cancelled pass leaves them to the next one).
    LWLockAcquire(lock, LW_EXCLUSIVE);
    lhv::HnswGraph::RepairPass pass{0, 0};
    bool valid = lhv::pg::lhv_guard([&] {
        if (!lhv::pg::registry_still_valid(ref->entry))
            return false;
        pass = ref->graph->begin_repair();
        return true;
    });
    LWLockRelease(lock);
    // Bounded steps over the elements there when the pass began, each under
    // the exclusive lock: an insert waits for one step at most, and between
    // steps, with no lock held, VACUUM can be cancelled (each step leaves the
    // graph consistent) or delayed. Elements inserted meanwhile link only to
    // live elements (see HnswGraph::begin_repair).
    uint32 next = 0;
    uint64 steps = 0, rewritten = 0;
    double longest_ms = 0;
    bool done = false;
    instr_time started;
    INSTR_TIME_SET_CURRENT(started);
    while (valid && !done) {
        CHECK_FOR_INTERRUPTS();
        vacuum_delay_point();
        LWLockAcquire(lock, LW_EXCLUSIVE);
        instr_time step_start, step_time;
        INSTR_TIME_SET_CURRENT(step_start);
        valid = lhv::pg::lhv_guard([&] { return lhv::pg::registry_still_valid(ref->entry); });
        if (valid) {
            done = lhv::pg::lhv_guard([&] {
                // An insert in flight when the pass began publishes its id soon.
                uint32 reachable_end = Min(pass.end, ref->graph->size());
                if (next < reachable_end) {
                    lhv::HnswGraph::RepairStep step =
                        ref->graph->repair_range(next, Min(reachable_end - next, uint32(LHV_REPAIR_STEP_ELEMENTS)),
                                                 SIZE_MAX, LHV_REPAIR_STEP_MICROSECONDS);
                    next = step.next_id;
                    rewritten += step.rewritten;
                    steps++;
                }
                if (next < pass.end)
                    return false;
                ref->graph->finish_repair();
                return true;
            });
        }
        INSTR_TIME_SET_CURRENT(step_time);
        INSTR_TIME_SUBTRACT(step_time, step_start);
        longest_ms = Max(longest_ms, INSTR_TIME_GET_MILLISEC(step_time));
        // An LWLock is not fair: released and taken again at once, it would
        // go on to this backend before a woken waiter runs. Let waiters in.
        bool waiters = !proclist_is_empty(&lock->waiters);
        bool behind_inserts = valid && !done && next >= ref->graph->size();
        LWLockRelease(lock);
        if ((waiters || behind_inserts) && !done)
            pg_usleep(LHV_REPAIR_HANDOFF_US);
    }
    if (!valid)
        return;  // dropped or replaced meanwhile: nothing left to repair
    instr_time total;
    INSTR_TIME_SET_CURRENT(total);
    INSTR_TIME_SUBTRACT(total, started);
    ereport(DEBUG1, (errmsg("lhv: repaired %llu neighbour lists of index \"%s\" in %llu steps over %.1f ms, "
                            "longest step %.2f ms",
                            (unsigned long long)rewritten, RelationGetRelationName(index),
                            (unsigned long long)steps, INSTR_TIME_GET_MILLISEC(total), longest_ms)));
}

bool lhv_graph_needs_repair(const LhvGraphRef* ref)
{
    return lhv::pg::lhv_guard([&] { return ref->graph->unrepaired_count() > 0; });
}
