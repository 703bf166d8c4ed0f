// index_graph.cpp: finding, creating and using the shared graph of an lhv
// index from a backend (index_graph.h), with a per-backend cache of graph
// views so a statement pays nothing to reach an index it used before.
extern "C" {
#include "postgres.h"

#include "access/genam.h"
#include "access/table.h"
#include "catalog/index.h"
#include "miscadmin.h"
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

using lhv::pg::RegistryEntry;
using lhv::pg::SlotState;

namespace {

// This backend's view of one registry slot's graph.
struct CachedView {
    uint64 generation;
    dsa_pointer header;
    lhv::AtomicGraphLocks* locks;
    lhv::HnswGraph* graph;
};

CachedView* view_cache = nullptr;  // lhv.max_indexes entries, for the backend's life
int view_cache_size = 0;

// The view of the graph `entry` names, made or refreshed as needed. C++: call
// inside lhv_guard.
lhv::HnswGraph* view_for(const RegistryEntry& entry)
{
    if (view_cache == nullptr) {
        int slots = lhv::pg::pg_call([] { return lhv::pg::control()->max_indexes; });
        view_cache = new CachedView[slots]();
        view_cache_size = slots;
    }
    if (entry.slot < 0 || entry.slot >= view_cache_size)
        throw lhv::Error(lhv::ErrorKind::Internal, "lhv: registry slot out of range");

    CachedView& cached = view_cache[entry.slot];
    if (cached.graph && cached.generation == entry.generation && cached.header == entry.graph)
        return cached.graph;

    delete cached.graph;
    delete cached.locks;
    cached = CachedView{};
    if (!DsaPointerIsValid(entry.graph))
        return nullptr;

    lhv::pg::DsaChunkMemory& memory = lhv::pg::dsa_memory();
    cached.locks = new lhv::AtomicGraphLocks(lhv::HnswGraph::lock_words(memory, entry.graph));
    cached.graph = new lhv::HnswGraph(memory, *cached.locks, entry.graph);
    cached.generation = entry.generation;
    cached.header = entry.graph;
    return cached.graph;
}

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
    ref->graph = lhv::pg::lhv_guard([&] { return view_for(entry); });
    return ref->graph != NULL;
}

// Rebuilds the graph of `index` from `heap` after a restart. The table may be
// written meanwhile; the build indexes in-progress rows too (a row added twice
// is returned once by scans), so its warnings about them are silenced.
void rebuild_from_heap(Relation index, Relation heap)
{
    int nest_level = NewGUCNestLevel();
    set_config_option("client_min_messages", "error", PGC_SUSET, PGC_S_SESSION,
                      GUC_ACTION_SAVE, true, 0, false);
    set_config_option("log_min_messages", "error", PGC_SUSET, PGC_S_SESSION, GUC_ACTION_SAVE,
                      true, 0, false);
    IndexInfo* info = BuildIndexInfo(index);
    double heap_tuples, index_tuples;
    lhv_graph_build(heap, index, info, false, &heap_tuples, &index_tuples);
    AtEOXact_GUC(true, nest_level);
}

// The graph of `index`, waiting for another backend's load and rebuilding
// from the heap if allowed.
bool open_graph(Relation index, Relation heap, LhvGraphRef* ref)
{
    for (;;) {
        RegistryEntry entry;
        if (lookup(index, &entry)) {
            if (entry.state == SlotState::Ready)
                return fill_ref(entry, ref);
            // Another backend is building or loading it: wait for it.
            pg_usleep(10000L);
            CHECK_FOR_INTERRUPTS();
            continue;
        }
        if (heap == NULL)
            return false;
        rebuild_from_heap(index, heap);
    }
}

}  // namespace

lhv::GraphParams lhv_index_params(Relation index, int dimension)
{
    lhv::GraphParams params;
    params.dimension = uint32(dimension);
    params.m = uint32(lhv_index_m(index));
    params.ef_construction = uint32(lhv_index_ef_construction(index));
    FmgrInfo* metric_proc = index_getprocinfo(index, 1, LHV_METRIC_PROC);
    int32 metric = DatumGetInt32(FunctionCall1(metric_proc, PointerGetDatum(NULL)));
    if (metric < int(lhv::Metric::L2) || metric > int(lhv::Metric::Cosine))
        elog(ERROR, "lhv: operator class of index \"%s\" names unknown metric %d",
             RelationGetRelationName(index), metric);
    params.metric = lhv::Metric(metric);
    return params;
}

bool lhv_graph_open(Relation index, Relation heap, LhvGraphRef* ref)
{
    return open_graph(index, heap, ref);
}

bool lhv_graph_open_if_loaded(Relation index, LhvGraphRef* ref)
{
    return open_graph(index, NULL, ref);
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
            lhv::HnswGraph* graph = view_for(RegistryEntry{entry.slot, entry.generation,
                                                           entry.database, entry.index,
                                                           SlotState::Ready, header, 0});
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

void lhv_graph_insert(Relation index, Relation heap, const float* vector, int dimension,
                      uint64 label)
{
    LhvGraphRef ref;
    for (;;) {
        bool has_graph = lhv_graph_open(index, heap, &ref);
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
        lhv::pg::lhv_guard([&] {
            ref.graph->add(vector, label);
            lhv::pg::registry_set_bytes(ref.entry, ref.graph->memory_bytes());
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
    // (whose graph is freed), and it outlives this transaction.
    lhv::pg::RegistryEntry entry;
    if (!lhv_graph_claim(index, true, &entry))
        return false;
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
    return lhv::pg::lhv_guard([&] {
        std::vector<lhv::SearchResult> found = ref->graph->search(query, size_t(k), size_t(ef));
        std::copy(found.begin(), found.end(), out);
        return int(found.size());
    });
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

void lhv_graph_mark_deleted(const LhvGraphRef* ref, uint32 id)
{
    lhv::pg::lhv_guard([&] { ref->graph->mark_deleted(id); });
}

void lhv_graph_repair(const LhvGraphRef* ref)
{
    LWLock* lock = lhv::pg::lhv_guard([&] { return lhv::pg::registry_slot_lock(ref->entry); });
    LWLockAcquire(lock, LW_EXCLUSIVE);
    lhv::pg::lhv_guard([&] { ref->graph->repair(); });
    LWLockRelease(lock);
}
