// graph_snapshot.cpp: a graph's LHV1 snapshot into lhv's catalog, and the
// log pages it makes unnecessary (graph_snapshot.h).
extern "C" {
#include "postgres.h"

#include "access/xlog.h"
#include "miscadmin.h"
#include "storage/lwlock.h"
#include "utils/memutils.h"
#include "utils/rel.h"
}

#include "am/index_graph.h"
#include "am/lhv_am.h"
#include "core/lhv1_codec.h"
#include "guard.h"
#include "lhv_config.h"
#include "storage/change_log.h"
#include "storage/graph_snapshot.h"
#include "storage/metapage.h"
#include "storage/snapshot_store.h"

namespace {

// Encoded bytes straight into bytea parts of at most lhv.snapshot_part_size,
// palloc'd in the current context: the parts are the rows' values, so the
// snapshot is copied once on its way to the table (fresh memory costs page
// faults, which are the dearest part of a snapshot write).
class PartSink final : public lhv::ByteSink {
public:
    void write(const void* bytes, std::size_t n) override
    {
        const char* from = static_cast<const char*>(bytes);
        while (n > 0) {
            if (count_ == 0 || used_ == part_bytes_)
                add_part();
            Size k = Min(n, part_bytes_ - used_);
            memcpy(VARDATA(parts_[count_ - 1]) + used_, from, k);
            used_ += k, from += k, n -= k;
            total_ += k;
            SET_VARSIZE(parts_[count_ - 1], VARHDRSZ + used_);
        }
    }
    LhvSnapshotParts parts() const { return LhvSnapshotParts{parts_, count_, total_}; }

private:
    void add_part()
    {
        if (count_ == capacity_) {
            int capacity = capacity_ == 0 ? 8 : capacity_ * 2;
            bytea** old = parts_;
            parts_ = lhv::pg::pg_call([old, capacity] {
                return static_cast<bytea**>(old ? repalloc(old, sizeof(bytea*) * capacity)
                                                : palloc(sizeof(bytea*) * capacity));
            });
            capacity_ = capacity;
        }
        Size bytes = part_bytes_;
        parts_[count_++] = lhv::pg::pg_call([bytes] {
            return static_cast<bytea*>(MemoryContextAllocHuge(CurrentMemoryContext, VARHDRSZ + bytes));
        });
        SET_VARSIZE(parts_[count_ - 1], VARHDRSZ);
        used_ = 0;
    }

    const Size part_bytes_ = Size(lhv_snapshot_part_size_kb) * 1024;
    bytea** parts_ = nullptr;
    int count_ = 0;
    int capacity_ = 0;
    Size used_ = 0;
    Size total_ = 0;
};

}  // namespace

bool lhv_graph_write_snapshot(Relation index, Size* bytes, uint64* position)
{
    if (index->rd_rel->relpersistence == RELPERSISTENCE_TEMP)
        return false;  // gone with the session: nothing to restart from
    if (RecoveryInProgress())
        ereport(ERROR, (errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
                        errmsg("cannot write an lhv snapshot during recovery"),
                        errhint("Snapshots written on the primary reach the standby through WAL.")));

    for (;;) {
        LhvGraphRef ref;
        if (!lhv_graph_open(index, &ref))
            return false;
        // Exclusive: no insert or VACUUM is between its log entry and its
        // graph change, so the graph holds exactly the log up to its end.
        LWLock* lock = lhv::pg::lhv_guard([&] { return lhv::pg::registry_slot_lock(ref.entry); });
        LWLockAcquire(lock, LW_EXCLUSIVE);
        bool valid = lhv::pg::lhv_guard([&] { return lhv::pg::registry_still_valid(ref.entry); });
        if (!valid) {
            LWLockRelease(lock);
            continue;
        }
        LhvMetaPageData meta = lhv_meta_read(index);
        const char* name = RelationGetRelationName(index);
        LhvSnapshotParts encoded = lhv::pg::lhv_guard([&] {
            lhv::Lhv1Envelope envelope;
            envelope.name = name;
            envelope.ef_search = uint32(lhv_ef_search);
            PartSink sink;
            lhv::encode_lhv1(envelope, *ref.graph, sink);
            return sink.parts();
        });
        LWLockRelease(lock);

        lhv_snapshot_store(index, meta.log_id, meta.log_end, encoded);
        for (int i = 0; i < encoded.count; i++)
            pfree(encoded.parts[i]);
        pfree(encoded.parts);
        lhv::pg::registry_note_snapshot(ref.entry, meta.log_end);
        lhv::pg::registry_set_needs_snapshot(ref.entry, false);
        *bytes = encoded.total;
        *position = meta.log_end;
        return true;
    }
}

int lhv_graph_reclaim_log(Relation index)
{
    if (RecoveryInProgress())
        return 0;
    LhvMetaPageData meta = lhv_meta_read(index);
    int64 position = lhv_snapshot_latest_position(meta.log_id);
    if (position <= 0 || uint64(position) <= meta.log_start)
        return 0;
    return lhv_log_reclaim(index, uint64(position));
}
