// graph_loader.cpp: loading a graph from its snapshot and change log, and
// catching a standby's graph up with the log (graph_loader.h).
extern "C" {
#include "postgres.h"

#include "access/relation.h"
#include "catalog/pg_class.h"
#include "access/xlog.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/syscache.h"
#include "miscadmin.h"
#include "storage/lwlock.h"
#include "utils/builtins.h"
#include "utils/rel.h"
}

#include <unordered_set>

#include "am/index_graph.h"
#include "core/lhv1_codec.h"
#include "guard.h"
#include "shmem/dsa_memory.h"
#include "storage/change_log.h"
#include "storage/graph_loader.h"
#include "storage/metapage.h"
#include "storage/snapshot_source.h"
#include "storage/snapshot_store.h"

using lhv::pg::GraphSource;
using lhv::pg::RegistryEntry;
using lhv::pg::SlotState;

namespace {

// The state of a replay of log entries into one graph.
struct Replay {
    Relation index;
    RegistryEntry entry;   // entry.graph follows the graph as it is created or reset
    SlotState state;       // the slot's state while replaying (Loading or Ready)
    uint64* deletes;       // Delete labels not applied yet
    int delete_count;
    int delete_capacity;
};

// Applies the pending deletes: marks every element with such a label
// deleted, then rewires the lists around them.
void flush_deletes(Replay* r)
{
    if (r->delete_count == 0)
        return;
    if (DsaPointerIsValid(r->entry.graph)) {
        lhv::pg::lhv_guard([&] {
            lhv::HnswGraph* graph = lhv_graph_view(r->entry);
            std::unordered_set<uint64> dead(r->deletes, r->deletes + r->delete_count);
            const uint32 size = graph->size();
            uint32 marked = 0;
            for (uint32 id = 0; id < size; id++)
                if (!graph->is_deleted(id) && dead.count(graph->label(id))) {
                    graph->mark_deleted(id);
                    marked++;
                }
            // VACUUM repairs the lists right after logging these deletes (in
            // steps, so inserts may interleave): repair here too, before the
            // inserts that follow, or they link to unrepaired lists and can
            // end up unreachable.
            if (marked > 0)
                graph->repair();
        });
    }
    r->delete_count = 0;
}

// Frees the graph (a Reset entry, or a load that must start over).
void drop_graph(Replay* r)
{
    if (!DsaPointerIsValid(r->entry.graph))
        return;
    lhv::pg::lhv_guard([&] {
        lhv_graph_view(r->entry)->destroy();
        if (!lhv::pg::registry_update(r->entry, InvalidDsaPointer, 0, r->state))
            throw lhv::Error(lhv::ErrorKind::Internal, "lhv: registry slot vanished during a replay");
    });
    r->entry.graph = InvalidDsaPointer;
}

// Applies one log entry; called by lhv_log_read.
void replay_visit(const LhvLogEntry* e, void* arg)
{
    Replay* r = static_cast<Replay*>(arg);
    switch (e->kind) {
        case LhvLogKind::Delete:
            if (r->delete_count + int(e->count) > r->delete_capacity) {
                int capacity = Max(r->delete_capacity * 2, r->delete_count + int(e->count));
                r->deletes = static_cast<uint64*>(
                    r->deletes ? repalloc_huge(r->deletes, sizeof(uint64) * capacity)
                               : MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint64) * capacity));
                r->delete_capacity = capacity;
            }
            memcpy(r->deletes + r->delete_count, e->labels, sizeof(uint64) * e->count);
            r->delete_count += int(e->count);
            return;
        case LhvLogKind::Reset:
            r->delete_count = 0;
            drop_graph(r);
            return;
        case LhvLogKind::Insert:
            break;
    }

    // A TID deleted before this insert may be the one it reuses.
    flush_deletes(r);
    if (!DsaPointerIsValid(r->entry.graph)) {
        lhv::GraphParams params = lhv_index_params(r->index, int(e->count));
        r->entry.graph = lhv::pg::lhv_guard([&] {
            dsa_pointer header = dsa_pointer(lhv::HnswGraph::create(lhv::pg::dsa_memory(), params));
            if (!lhv::pg::registry_update(r->entry, header, 0, r->state))
                throw lhv::Error(lhv::ErrorKind::Internal, "lhv: registry slot vanished during a replay");
            return header;
        });
    }
    lhv::pg::lhv_guard([&] {
        lhv::HnswGraph* graph = lhv_graph_view(r->entry);
        if (graph->params().dimension != e->count)
            return;  // cannot happen in a sound log; the insert was rejected then
        try {
            graph->add(e->vector, e->label);
        } catch (const lhv::Error& error) {
            // The insert that logged it failed the same way and rolled back.
            if (error.kind() != lhv::ErrorKind::InvalidVector)
                throw;
        }
        lhv::pg::registry_set_bytes(r->entry, graph->memory_bytes());
    });
}

// Decodes a snapshot into a new graph, reading its parts slice by slice;
// InvalidDsaPointer (with a WARNING) if it is unusable.
dsa_pointer decode_snapshot(Relation index, const LhvMetaPageData& meta, const LhvSnapshotRef& snapshot)
{
    char message[512];
    message[0] = '\0';
    char* buffer = static_cast<char*>(palloc(lhv::kMaxSourceView));
    BufferAccessStrategy strategy = GetAccessStrategy(BAS_BULKREAD);
    dsa_pointer header = lhv::pg::lhv_guard([&]() -> dsa_pointer {
        lhv::pg::DsaChunkMemory& memory = lhv::pg::dsa_memory();
        lhv::pg::SnapshotSource source(snapshot, buffer, strategy);
        lhv::Lhv1Envelope envelope;
        lhv::ChunkHandle handle = lhv::kInvalidChunk;
        try {
            handle = lhv::decode_lhv1(source, memory, &envelope);
        } catch (const lhv::pg::PgError&) {
            throw;  // out of shared memory, a TOAST read that failed: not the bytes' fault
        } catch (const lhv::Error& error) {
            if (error.kind() == lhv::ErrorKind::OutOfMemory)
                throw;
            snprintf(message, sizeof(message), "%s", error.what());
            return InvalidDsaPointer;
        }
        const lhv::GraphParams& p = envelope.params;
        if ((meta.dimension != 0 && p.dimension != meta.dimension) || uint32(p.metric) != meta.metric ||
            p.m != meta.m) {
            snprintf(message, sizeof(message), "its parameters do not match the index");
            lhv::AtomicGraphLocks locks(lhv::HnswGraph::lock_words(memory, handle));
            lhv::HnswGraph(memory, locks, handle).destroy();
            return InvalidDsaPointer;
        }
        return dsa_pointer(handle);
    });
    FreeAccessStrategy(strategy);
    pfree(buffer);
    if (!DsaPointerIsValid(header))
        ereport(WARNING, (errcode(ERRCODE_DATA_CORRUPTED),
                          errmsg("lhv: the snapshot of index \"%s\" is unusable: %s",
                                 RelationGetRelationName(index), message)));
    return header;
}

}  // namespace

bool lhv_graph_load(Relation index, const RegistryEntry& claimed)
{
    LhvMetaPageData meta = lhv_meta_read(index);
    if ((meta.flags & LHV_META_NEEDS_IDENTITY) && !RecoveryInProgress())
        meta = lhv_meta_renew_identity(index);
    bool unsaved = index->rd_rel->relpersistence == RELPERSISTENCE_TEMP;

    Replay r = {index, claimed, SlotState::Loading, NULL, 0, 0};
    for (int attempt = 0;; attempt++) {
        GraphSource source = GraphSource::Log;
        uint64 from = meta.log_start;
        if (!unsaved) {
            LhvSnapshotRef snapshot;
            if (lhv_snapshot_find(meta.log_id, &snapshot)) {
                uint64 position = snapshot.position;
                dsa_pointer header = InvalidDsaPointer;
                if (position < meta.log_start || position > meta.log_end)
                    ereport(WARNING, (errmsg("lhv: the snapshot of index \"%s\" does not fit its log",
                                             RelationGetRelationName(index))));
                else
                    header = decode_snapshot(index, meta, snapshot);
                for (int i = 0; i < snapshot.count; i++)
                    pfree(snapshot.parts[i]);
                pfree(snapshot.parts);
                if (DsaPointerIsValid(header)) {
                    lhv::pg::lhv_guard([&] {
                        if (!lhv::pg::registry_update(r.entry, header, 0, SlotState::Loading))
                            throw lhv::Error(lhv::ErrorKind::Internal, "lhv: registry slot vanished during a load");
                    });
                    r.entry.graph = header;
                    source = GraphSource::Snapshot;
                    from = position;
                }
            }
        }
        if (source == GraphSource::Log && (meta.log_start != 0 || !(meta.flags & LHV_META_LOG_COMPLETE))) {
            // No snapshot, and the log alone does not hold every vector: its
            // beginning was reclaimed, or the build read rows from the table.
            ereport(WARNING, (errcode(ERRCODE_DATA_CORRUPTED),
                              errmsg("lhv: index \"%s\" has no usable snapshot; rebuilding it from its table",
                                     RelationGetRelationName(index)),
                              errhint("REINDEX INDEX %s writes a new snapshot.",
                                      quote_identifier(RelationGetRelationName(index)))));
            lhv_graph_unclaim(claimed);
            return false;
        }

        uint64 to = lhv_meta_read(index).log_end;
        if (lhv_log_read(index, from, to, replay_visit, &r)) {
            flush_deletes(&r);
            lhv::pg::lhv_guard([&] {
                lhv::pg::registry_set_log_state(r.entry, meta.log_id, to, RecoveryInProgress(), source);
                if (source == GraphSource::Snapshot)
                    lhv::pg::registry_note_snapshot(r.entry, from);
            });
            lhv_graph_publish(r.entry, r.entry.graph, false);
            return true;
        }
        // A hot standby whose primary reclaimed the log meanwhile: there is
        // a newer snapshot; start over from it.
        drop_graph(&r);
        r.delete_count = 0;
        if (attempt >= 5)
            ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                            errmsg("lhv: could not load index \"%s\": its change log keeps moving",
                                   RelationGetRelationName(index))));
        meta = lhv_meta_read(index);
    }
}

bool lhv_graph_may_lag(const RegistryEntry& entry)
{
    return entry.applied_in_recovery || RecoveryInProgress();
}

bool lhv_graph_catch_up(Relation index, const RegistryEntry& seen)
{
    LhvMetaPageData meta = lhv_meta_read(index);
    if (meta.log_id != seen.log_id)
        return false;
    bool in_recovery = RecoveryInProgress();
    if (meta.log_end <= seen.applied_end && seen.applied_in_recovery == in_recovery)
        return true;

    LWLock* lock = lhv::pg::lhv_guard([&] { return lhv::pg::registry_slot_lock(seen); });
    LWLockAcquire(lock, LW_EXCLUSIVE);
    RegistryEntry entry;
    bool found = lhv::pg::lhv_guard([&] {
        return lhv::pg::registry_lookup(seen.database, seen.index, &entry) &&
               entry.generation == seen.generation;
    });
    bool ok = found;
    if (found && entry.applied_end < meta.log_end) {
        Replay r = {index, entry, SlotState::Ready, NULL, 0, 0};
        ok = lhv_log_read(index, entry.applied_end, meta.log_end, replay_visit, &r);
        if (ok)
            flush_deletes(&r);
        entry = r.entry;
    }
    if (ok)
        lhv::pg::lhv_guard([&] {
            lhv::pg::registry_set_log_state(entry, meta.log_id, Max(meta.log_end, entry.applied_end),
                                            in_recovery, entry.source);
        });
    LWLockRelease(lock);
    return ok;
}

int lhv_standby_sweep(void)
{
    if (!RecoveryInProgress())
        return 0;  // a primary frees graphs when the DROP or REINDEX commits
    int n = 0;
    lhv::pg::RegistrySlotInfo* slots = lhv::pg::lhv_guard([&] { return lhv::pg::registry_list_palloc(MyDatabaseId, &n); });
    int freed = 0;
    for (int i = 0; i < n; i++) {
        const RegistryEntry& entry = slots[i].entry;
        if (entry.state != SlotState::Ready)
            continue;
        if (!ConditionalLockRelationOid(entry.index, AccessShareLock))
            continue;  // being replayed: next time
        bool stale = !SearchSysCacheExists1(RELOID, ObjectIdGetDatum(entry.index));
        if (!stale && entry.log_id != 0) {
            Relation index = relation_open(entry.index, NoLock);
            stale = index->rd_rel->relkind != RELKIND_INDEX || RelationGetNumberOfBlocks(index) == 0 ||
                    lhv_meta_read(index).log_id != entry.log_id;
            relation_close(index, NoLock);
        }
        UnlockRelationOid(entry.index, AccessShareLock);
        if (stale && lhv::pg::lhv_guard([&] { return lhv::pg::registry_remove_entry(entry); }))
            freed++;
    }
    pfree(slots);
    return freed;
}
