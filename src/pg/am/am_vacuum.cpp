// am_vacuum.cpp: VACUUM: log the TIDs of dead rows and mark their graph
// elements deleted (ambulkdelete), then rewire the neighbour lists around
// them (amvacuumcleanup), so that a heap TID reused later never returns a
// wrong row and recall holds after heavy churn; the rewired elements are
// then reused by later inserts, so the graph does not grow under churn. The log entries come before
// the heap reuses the TIDs, so a graph loaded or replayed later (restart,
// crash, hot standby) deletes them too.
extern "C" {
#include "postgres.h"

#include "commands/vacuum.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
}

#include "guard.h"
#include "am/index_graph.h"
#include "am/lhv_am.h"
#include "storage/change_log.h"

IndexBulkDeleteResult* lhv_bulk_delete(IndexVacuumInfo* info, IndexBulkDeleteResult* stats,
                                       IndexBulkDeleteCallback callback, void* callback_state)
{
    if (stats == NULL)
        stats = static_cast<IndexBulkDeleteResult*>(palloc0(sizeof(IndexBulkDeleteResult)));

    // A graph not in memory (not used since the restart) is loaded first:
    // the deletions must reach the log, and only the graph knows the TIDs.
    LhvGraphRef ref;
    if (!lhv_graph_open(info->index, &ref))
        return stats;  // no vector indexed

    // Read labels in batches inside the guard; ask the callback outside it.
    const uint32 batch = LHV_LOG_MAX_DELETES;
    uint64* labels = static_cast<uint64*>(palloc(sizeof(uint64) * batch));
    bool* deleted = static_cast<bool*>(palloc(sizeof(bool) * batch));
    uint32* dead_ids = static_cast<uint32*>(palloc(sizeof(uint32) * batch));
    uint64* dead_labels = static_cast<uint64*>(palloc(sizeof(uint64) * batch));
    uint32 size = lhv::pg::lhv_guard([&] { return ref.graph->size(); });
    for (uint32 base = 0; base < size; base += batch) {
        uint32 n = Min(batch, size - base);
        lhv::pg::lhv_guard([&] {
            for (uint32 j = 0; j < n; j++) {
                deleted[j] = ref.graph->is_deleted(base + j);
                labels[j] = ref.graph->label(base + j);
            }
        });
        vacuum_delay_point();
        int dead = 0;
        for (uint32 j = 0; j < n; j++) {
            if (deleted[j])
                continue;
            ItemPointerData tid;
            lhv_label_to_tid(labels[j], &tid);
            if (callback(&tid, callback_state)) {
                dead_ids[dead] = base + j;
                dead_labels[dead] = labels[j];
                dead++;
            } else {
                stats->num_index_tuples += 1;
            }
        }
        lhv_graph_delete(info->index, &ref, dead_ids, dead_labels, dead);
        stats->tuples_removed += dead;
    }
    pfree(dead_ids);
    pfree(dead_labels);
    pfree(labels);
    pfree(deleted);
    return stats;
}

IndexBulkDeleteResult* lhv_vacuum_cleanup(IndexVacuumInfo* info, IndexBulkDeleteResult* stats)
{
    if (info->analyze_only)
        return stats;

    LhvGraphRef ref;
    bool loaded = lhv_graph_open_if_loaded(info->index, &ref);

    // Only deleted elements that no finished repair pass covered have lists
    // to rewire: this VACUUM's, or those of a cancelled pass or a load.
    if (loaded && lhv_graph_needs_repair(&ref))
        lhv_graph_repair(info->index, &ref);

    // A graph left with no live element (every row deleted, or only rows of
    // rolled-back transactions) is freed, so that the next row fixes the
    // dimension again, as in a new index. That needs no scan or insert using
    // the graph: try for an exclusive lock on the index, never wait for it
    // (as VACUUM's heap truncation does), and release it at once.
    bool emptied = false;
    if (loaded && lhv_graph_live_count(&ref) == 0 &&
        ConditionalLockRelation(info->index, AccessExclusiveLock)) {
        emptied = lhv_graph_forget_if_empty(info->index);
        UnlockRelation(info->index, AccessExclusiveLock);
    }

    if (stats == NULL) {
        stats = static_cast<IndexBulkDeleteResult*>(palloc0(sizeof(IndexBulkDeleteResult)));
        if (emptied)
            stats->num_index_tuples = 0;
        else if (loaded)
            stats->num_index_tuples = lhv_graph_live_count(&ref);
        else
            stats->estimated_count = true;
    }
    stats->num_pages = RelationGetNumberOfBlocks(info->index);
    return stats;
}
