// index_graph.h: the shared graph of one lhv index, as the access method uses
// it: find it in the registry (loading it from its snapshot and change log on
// first access after a restart, catching up with the log on a hot standby),
// and search, insert and vacuum it. Inserts and VACUUM write the change log
// (storage/change_log.h) before they change the graph.
//
// These are PostgreSQL-style functions: they ereport, and run their C++ work
// inside lhv_guard. Call them from access method callbacks, never from C++.
#pragma once

extern "C" {
#include "postgres.h"

#include "nodes/execnodes.h"
#include "storage/itemptr.h"
#include "utils/relcache.h"
}

#include "core/hnsw_graph.h"
#include "am/view_cache.h"
#include "shmem/registry.h"

// A statement's handle on an index's graph. Trivially copyable: the view it
// points to is owned by this backend's view cache (lhv_graph_view in
// view_cache.h), which keeps it at least until the transaction ends.
struct LhvGraphRef {
    lhv::pg::RegistryEntry entry;
    lhv::HnswGraph* graph;  // NULL while the index holds no vector
};

// Heap TIDs are the graph's labels.
static inline uint64 lhv_tid_to_label(ItemPointer tid)
{
    return (uint64(ItemPointerGetBlockNumberNoCheck(tid)) << 16) |
           uint64(ItemPointerGetOffsetNumberNoCheck(tid));
}

static inline void lhv_label_to_tid(uint64 label, ItemPointer tid)
{
    ItemPointerSet(tid, BlockNumber(label >> 16), OffsetNumber(label & 0xFFFF));
}

// The engine parameters of `index` (options, metric from its operator class)
// for vectors of `dimension`.
lhv::GraphParams lhv_index_params(Relation index, int dimension);

// The graph of `index`, loaded if it is not in memory (first access after a
// restart) and caught up with the log where it may lag (hot standby).
// Returns false when the index holds no vector.
bool lhv_graph_open(Relation index, LhvGraphRef* ref);

// Like lhv_graph_open, but never loads: false if the graph is not in memory.
bool lhv_graph_open_if_loaded(Relation index, LhvGraphRef* ref);

// Adds one vector (already checked finite) under `label`; creates the graph
// if this is the index's first vector. Rejects a dimension other than the
// index's with 22000.
void lhv_graph_insert(Relation index, const float* vector, int dimension,
                      uint64 label);

// Up to k nearest live elements into `out` (room for k), nearest first.
// Returns -1 if the graph was replaced meanwhile (only a graph that may lag
// behind its log, on a hot standby or just promoted, can be): open it again.
int lhv_graph_search(const LhvGraphRef* ref, const float* query, int dimension, int k, int ef,
                     lhv::SearchResult* out);

// Live elements (added and not deleted).
uint32 lhv_graph_live_count(const LhvGraphRef* ref);

// The next live element at or after *next_id, advancing *next_id past it.
bool lhv_graph_next_live(const LhvGraphRef* ref, uint32* next_id, uint64* label);

// Logs the deletion of `count` labels (at most LHV_LOG_MAX_DELETES), then
// marks the elements `ids` deleted (VACUUM).
void lhv_graph_delete(Relation index, const LhvGraphRef* ref, const uint32* ids, const uint64* labels,
                      int count);

// Rewires neighbour lists around deleted elements (VACUUM), in bounded steps
// that each exclude inserts, checking for interrupts between them: a cancel
// leaves a consistent, partly repaired graph. A pass that finishes makes the
// elements deleted before it began reusable by later inserts.
void lhv_graph_repair(Relation index, const LhvGraphRef* ref);

// Are there deleted elements that no finished repair pass covered?
bool lhv_graph_needs_repair(const LhvGraphRef* ref);

// Frees the graph of `index` if it holds no live element, so that the next
// row indexed fixes the dimension again. The caller holds AccessExclusiveLock
// on the index (no scan or insert is using the graph). Returns true if freed.
bool lhv_graph_forget_if_empty(Relation index);

// Builds the graph of `index` from every row of `heap` and publishes it.
// CREATE INDEX / REINDEX / TRUNCATE pass `replace` (any old graph is freed;
// the new one belongs to the transaction); the rebuild after a restart does
// not, and returns false if another backend claimed the index first.
// Sets the rows seen and the vectors indexed.
bool lhv_graph_build(Relation heap, Relation index, IndexInfo* indexInfo, bool replace,
                     double* heap_tuples, double* index_tuples);

// Gives up a slot this backend claimed (Loading) and wakes its waiters.
void lhv_graph_unclaim(const lhv::pg::RegistryEntry& entry);

// For lhv_graph_build: claims the registry slot of `index` for a graph being
// built (freeing any graph it had when `replace`), and tracks it so that an
// abort frees it. Returns false if another backend already holds the slot
// (only possible without `replace`).
bool lhv_graph_claim(Relation index, bool replace, lhv::pg::RegistryEntry* entry);

// Makes a claimed slot usable with `header` (InvalidDsaPointer: no vector yet).
void lhv_graph_publish(const lhv::pg::RegistryEntry& entry, dsa_pointer header, bool transactional);
