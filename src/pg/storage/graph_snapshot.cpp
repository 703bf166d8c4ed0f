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

// A snapshot's bytes go straight into bytea parts of at most
// lhv.snapshot_part_size, palloc'd in the current context: the parts are the
// rows' values, so the snapshot is copied once on its way to the table.
// Fresh memory costs page faults, the dearest part of a snapshot write, and
// the encoding runs under the graph's exclusive lock: the parts the graph
// needs are allocated and touched before the lock is taken, so that inserts
// wait only for the copy. Plain data, as it lives in a PostgreSQL frame.
struct PartBuffers {
    bytea** parts;
    int count;     // parts written to
    int ready;     // parts allocated (count <= ready)
    int capacity;  // room in parts
    Size used;     // bytes in the last part written to
    Size total;
    Size part_bytes;
};

// Allocates one more part at parts[ready]. C++: call inside lhv_guard.
void add_ready_part(PartBuffers& b)
{
    if (b.ready == b.capacity) {
        int capacity = b.capacity == 0 ? 8 : b.capacity * 2;
        bytea** old = b.parts;
        b.parts = lhv::pg::pg_call([old, capacity] {
            return static_cast<bytea**>(old ? repalloc(old, sizeof(bytea*) * capacity)
                                            : palloc(sizeof(bytea*) * capacity));
        });
        b.capacity = capacity;
    }
    Size bytes = b.part_bytes;
    b.parts[b.ready++] = lhv::pg::pg_call([bytes] {
        return static_cast<bytea*>(MemoryContextAllocHuge(CurrentMemoryContext, VARHDRSZ + bytes));
    });
}

// Parts for at least `bytes`, their first `bytes` written once so that
// those pages are mapped (a small graph touches only what it needs). C++:
// call inside lhv_guard.
void reserve_parts(PartBuffers& b, Size bytes)
{
    Size touched = 0;
    while (touched < bytes) {
        add_ready_part(b);
        Size n = Min(bytes - touched, b.part_bytes);
        memset(VARDATA(b.parts[b.ready - 1]), 0, n);
        touched += n;
    }
}

// The parts written; frees the reserved ones left unused.
LhvSnapshotParts finish_parts(PartBuffers& b)
{
    for (int i = b.count; i < b.ready; i++)
        pfree(b.parts[i]);
    b.ready = b.count;
    return LhvSnapshotParts{b.parts, b.count, b.total};
}

// The encoder's sink into the parts (made inside lhv_guard only).
class PartSink final : public lhv::ByteSink {
public:
    explicit PartSink(PartBuffers& buffers) : b_(buffers) {}

    void write(const void* bytes, std::size_t n) override
    {
        const char* from = static_cast<const char*>(bytes);
        while (n > 0) {
            if (b_.count == 0 || b_.used == b_.part_bytes) {
                if (b_.count == b_.ready)
                    add_ready_part(b_);
                SET_VARSIZE(b_.parts[b_.count], VARHDRSZ);
                b_.count++;
                b_.used = 0;
            }
            Size k = Min(n, b_.part_bytes - b_.used);
            memcpy(VARDATA(b_.parts[b_.count - 1]) + b_.used, from, k);
            b_.used += k, from += k, n -= k;
            b_.total += k;
            SET_VARSIZE(b_.parts[b_.count - 1], VARHDRSZ + b_.used);
        }
    }

private:
    PartBuffers& b_;
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
        PartBuffers buffers{nullptr, 0, 0, 0, 0, 0, Size(lhv_snapshot_part_size_kb) * 1024};
        lhv::pg::lhv_guard([&] {
            // The graph's level-0 records as counted now, and the envelope.
            reserve_parts(buffers, lhv::hnswlib_graph_bytes_at_least(*ref.graph) + (Size(1) << 20));
        });
        // Exclusive: no insert or VACUUM is between its log entry and its
        // graph change, so the graph holds exactly the log up to its end.
        LWLock* lock = lhv::pg::lhv_guard([&] { return lhv::pg::registry_slot_lock(ref.entry); });
        LWLockAcquire(lock, LW_EXCLUSIVE);
        bool valid = lhv::pg::lhv_guard([&] { return lhv::pg::registry_still_valid(ref.entry); });
        if (!valid) {
            LWLockRelease(lock);
            LhvSnapshotParts unused = finish_parts(buffers);
            if (unused.parts)
                pfree(unused.parts);
            continue;
        }
        LhvMetaPageData meta = lhv_meta_read(index);
        const char* name = RelationGetRelationName(index);
        lhv::pg::lhv_guard([&] {
            lhv::Lhv1Envelope envelope;
            envelope.name = name;
            envelope.ef_search = uint32(lhv_ef_search);
            PartSink sink(buffers);
            lhv::encode_lhv1(envelope, *ref.graph, sink);
        });
        LWLockRelease(lock);
        LhvSnapshotParts encoded = finish_parts(buffers);

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
