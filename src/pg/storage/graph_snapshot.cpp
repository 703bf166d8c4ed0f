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
#include "storage/change_log.h"
#include "storage/graph_snapshot.h"
#include "storage/metapage.h"
#include "storage/snapshot_store.h"

namespace {

// Encoded bytes into one growing palloc'd buffer of the current context.
class PallocSink final : public lhv::ByteSink {
public:
    explicit PallocSink(Size initial)
    {
        capacity_ = Max(initial, Size(1024));
        Size capacity = capacity_;
        data_ = lhv::pg::pg_call([capacity] {
            return static_cast<char*>(MemoryContextAllocHuge(CurrentMemoryContext, capacity));
        });
    }
    void write(const void* bytes, std::size_t n) override
    {
        if (size_ + n > capacity_) {
            Size capacity = Max(capacity_ * 2, size_ + n);
            char* old = data_;
            data_ = lhv::pg::pg_call([old, capacity] { return static_cast<char*>(repalloc_huge(old, capacity)); });
            capacity_ = capacity;
        }
        memcpy(data_ + size_, bytes, n);
        size_ += n;
    }
    char* data() const { return data_; }
    Size size() const { return size_; }

private:
    char* data_ = nullptr;
    Size size_ = 0;
    Size capacity_ = 0;
};

struct Encoded {
    char* data;
    Size size;
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
        if (!lhv_graph_open(index, NULL, &ref))
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
        Encoded encoded = lhv::pg::lhv_guard([&] {
            lhv::Lhv1Envelope envelope;
            envelope.name = name;
            envelope.ef_search = uint32(lhv_ef_search);
            PallocSink sink(ref.graph->memory_bytes() + 4096);
            lhv::encode_lhv1(envelope, *ref.graph, sink);
            return Encoded{sink.data(), sink.size()};
        });
        LWLockRelease(lock);

        lhv_snapshot_store(index, meta.log_id, meta.log_end, encoded.data, encoded.size);
        pfree(encoded.data);
        lhv::pg::registry_note_snapshot(ref.entry, meta.log_end);
        lhv::pg::registry_set_needs_snapshot(ref.entry, false);
        *bytes = encoded.size;
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
