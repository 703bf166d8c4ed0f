// am_scan.cpp: index scans: ORDER BY vector <op> query, nearest first.
//
// A scan searches the shared graph for the lhv.ef_search nearest elements and
// returns their heap TIDs in order. When the executor wants more (rows were
// filtered out by a WHERE clause, invisible to the snapshot, or LIMIT is
// larger), the scan searches again with twice the candidates, skipping TIDs it
// already returned, until lhv.max_scan_tuples entries have been returned or
// the graph has no more. Rows found by a wider search that are nearer than
// one already returned come out later: within one search the order is exact
// up to float precision (the graph's distances are single precision).
extern "C" {
#include "postgres.h"

#include "access/relscan.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/rel.h"
}

#include <new>

#include "guard.h"
#include "am/index_graph.h"
#include "am/lhv_am.h"
#include "vector_datum.h"

// A scan's widest search returns lhv.max_scan_tuples results, which the
// engine must accept as k and ef.
static_assert(LHV_MAX_SCAN_TUPLES_MAX <= lhv::kMaxEfSearch,
              "lhv.max_scan_tuples must not exceed the engine's largest search");
static_assert(LHV_EF_SEARCH_MAX <= lhv::kMaxEfSearch,
              "lhv.ef_search must not exceed the engine's largest search");

struct LhvScanState {
    MemoryContext context;       // everything the scan allocates
    float* query;                // copy of the query vector; NULL for a NULL query
    int dimension;
    bool started;
    bool exhausted;
    LhvGraphRef ref;             // the graph (ref.graph NULL when the index holds no vector)
    Relation ref_index;          // the index, to open the graph again
    lhv::SearchResult* batch;    // results of the latest search
    int batch_size;
    int batch_position;
    int searched_k;              // k of the latest search
    uint32 next_id;              // NULL query: the next element id to return
    int64 returned;
    HTAB* returned_labels;       // labels already returned
};

IndexScanDesc lhv_begin_scan(Relation index, int nkeys, int norderbys)
{
    IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
    LhvScanState* so = new (palloc0(sizeof(LhvScanState))) LhvScanState();
    so->context = AllocSetContextCreate(CurrentMemoryContext, "lhv scan", ALLOCSET_DEFAULT_SIZES);
    scan->opaque = so;
    return scan;
}

// Forgets the previous query's results (the context keeps its blocks).
static void lhv_scan_reset(LhvScanState* so)
{
    MemoryContextReset(so->context);
    so->query = NULL;
    so->dimension = 0;
    so->started = false;
    so->exhausted = false;
    so->ref.graph = NULL;
    so->batch = NULL;
    so->batch_size = 0;
    so->batch_position = 0;
    so->searched_k = 0;
    so->next_id = 0;
    so->returned = 0;
    so->returned_labels = NULL;
}

void lhv_rescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys)
{
    LhvScanState* so = static_cast<LhvScanState*>(scan->opaque);
    lhv_scan_reset(so);

    if (keys && scan->numberOfKeys > 0)
        memmove(scan->keyData, keys, scan->numberOfKeys * sizeof(ScanKeyData));
    if (orderbys && scan->numberOfOrderBys > 0)
        memmove(scan->orderByData, orderbys, scan->numberOfOrderBys * sizeof(ScanKeyData));

    if (scan->numberOfOrderBys == 0 || (scan->orderByData[0].sk_flags & SK_ISNULL))
        return;

    MemoryContext old = MemoryContextSwitchTo(so->context);
    LhvVector query = lhv_vector_from_datum_finite(scan->orderByData[0].sk_argument,
                                                   lhv_index_vector_format(scan->indexRelation),
                                                   "query vector");
    so->dimension = query.dimension;
    so->query = static_cast<float*>(palloc(sizeof(float) * query.dimension));
    memcpy(so->query, query.values, sizeof(float) * query.dimension);
    MemoryContextSwitchTo(old);
}

// Records `label` as returned; false if it was returned before.
static bool lhv_scan_first_return(LhvScanState* so, uint64 label)
{
    if (so->returned_labels == NULL) {
        HASHCTL ctl;
        ctl.keysize = sizeof(uint64);
        ctl.entrysize = sizeof(uint64);
        ctl.hcxt = so->context;
        so->returned_labels = hash_create("lhv returned labels", 256, &ctl,
                                          HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
    }
    bool found;
    hash_search(so->returned_labels, &label, HASH_ENTER, &found);
    return !found;
}

// Runs the next, wider search into so->batch; false when there is nothing more.
static bool lhv_scan_next_batch(LhvScanState* so)
{
    uint32 live = lhv_graph_live_count(&so->ref);
    // The engine bounds one search's candidate list; past that the scan stops.
    int64 budget = Min(int64(lhv_max_scan_tuples), int64(lhv::kMaxEfSearch));
    int k = so->searched_k == 0 ? lhv_ef_search : so->searched_k * 2;
    k = int(Min(int64(k), Min(budget, int64(live))));
    if (k <= so->searched_k || k <= 0)
        return false;

    MemoryContext old = MemoryContextSwitchTo(so->context);
    lhv::SearchResult* batch =
        static_cast<lhv::SearchResult*>(MemoryContextAllocHuge(so->context, sizeof(lhv::SearchResult) * k));
    MemoryContextSwitchTo(old);

    int ef = Max(k, lhv_ef_search);
    int found = lhv_graph_search(&so->ref, so->query, so->dimension, k, ef, batch);
    while (found < 0) {
        // A hot standby replaced the graph (its log moved on): search the new
        // one; TIDs already returned are skipped.
        if (!lhv_graph_open(so->ref_index, &so->ref)) {
            so->exhausted = true;
            return false;
        }
        found = lhv_graph_search(&so->ref, so->query, so->dimension, k, ef, batch);
    }
    if (so->batch)
        pfree(so->batch);
    so->batch = batch;
    so->batch_size = found;
    so->batch_position = 0;
    so->searched_k = k;
    if (found < k)
        so->exhausted = true;  // the graph holds no more live elements
    return found > 0;
}

// The next TID for a NULL query: every live element in id order.
static bool lhv_scan_next_unordered(IndexScanDesc scan, LhvScanState* so)
{
    if (so->returned >= lhv_max_scan_tuples)
        return false;
    uint64 label;
    if (!lhv_graph_next_live(&so->ref, &so->next_id, &label))
        return false;
    so->returned++;
    lhv_label_to_tid(label, &scan->xs_heaptid);
    return true;
}

bool lhv_get_tuple(IndexScanDesc scan, ScanDirection direction)
{
    LhvScanState* so = static_cast<LhvScanState*>(scan->opaque);
    (void)direction;  // the access method only scans forward

    if (scan->numberOfOrderBys == 0)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("an lhv index can only be scanned with ORDER BY a distance operator")));

    if (!so->started) {
        so->started = true;
        so->ref_index = scan->indexRelation;
        if (!lhv_graph_open(scan->indexRelation, &so->ref))
            so->ref.graph = NULL;
        pgstat_count_index_scan(scan->indexRelation);
    }
    if (so->ref.graph == NULL)
        return false;

    scan->xs_recheck = false;
    scan->xs_recheckorderby = false;

    if (so->query == NULL)
        return lhv_scan_next_unordered(scan, so);

    for (;;) {
        while (so->batch_position < so->batch_size) {
            const lhv::SearchResult& r = so->batch[so->batch_position++];
            if (!lhv_scan_first_return(so, r.label))
                continue;
            so->returned++;
            lhv_label_to_tid(r.label, &scan->xs_heaptid);
            return true;
        }
        CHECK_FOR_INTERRUPTS();
        if (so->exhausted || so->returned >= lhv_max_scan_tuples ||
            !lhv_scan_next_batch(so))
            return false;
    }
}

void lhv_end_scan(IndexScanDesc scan)
{
    LhvScanState* so = static_cast<LhvScanState*>(scan->opaque);
    MemoryContextDelete(so->context);
    pfree(so);
    scan->opaque = NULL;
}
