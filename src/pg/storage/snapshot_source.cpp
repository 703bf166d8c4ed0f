// snapshot_source.cpp: SnapshotSource, an LHV1 snapshot read slice by slice
// from its lhv_snapshot parts (snapshot_source.h).
extern "C" {
#include "postgres.h"

#include "access/detoast.h"
#include "access/genam.h"
#include "access/heapam.h"
#include "access/heaptoast.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/toast_internals.h"
#include "storage/bufmgr.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
}

#include "guard.h"
#include "storage/snapshot_source.h"

namespace lhv::pg {

namespace {

// The bytes of a part.
Size part_bytes(struct varlena* part)
{
    if (VARATT_IS_EXTERNAL_ONDISK(part)) {
        struct varatt_external pointer;
        VARATT_EXTERNAL_GET_POINTER(pointer, part);
        return VARATT_EXTERNAL_GET_EXTSIZE(pointer);
    }
    return VARSIZE_ANY_EXHDR(part);
}

// Copies bytes [offset, offset + length) of the TOAST value `pointer` to
// `into`, as heap_fetch_toast_slice does (the chunks by the TOAST index, each
// checked), but reading the TOAST table's pages through `strategy`, a small
// ring of buffers: a snapshot read once at load time then neither faults in
// fresh shared buffers (after a restart, the dearest part of the read) nor
// evicts the pages other queries use.
void read_toast_slice(const struct varatt_external& pointer, int32 offset, int32 length, char* into,
                      BufferAccessStrategy strategy)
{
    const int32 size = int32(VARATT_EXTERNAL_GET_EXTSIZE(pointer));
    const int32 chunks = (size - 1) / TOAST_MAX_CHUNK_SIZE + 1;
    const int32 first = offset / TOAST_MAX_CHUNK_SIZE;
    const int32 last = (offset + length - 1) / TOAST_MAX_CHUNK_SIZE;

    Relation toast = table_open(pointer.va_toastrelid, AccessShareLock);
    Relation* indexes;
    int index_count;
    int valid = toast_open_indexes(toast, AccessShareLock, &indexes, &index_count);
    SnapshotData toast_snapshot;
    init_toast_snapshot(&toast_snapshot);
    ScanKeyData keys[3];
    ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(pointer.va_valueid));
    ScanKeyInit(&keys[1], 2, BTGreaterEqualStrategyNumber, F_INT4GE, Int32GetDatum(first));
    ScanKeyInit(&keys[2], 2, BTLessEqualStrategyNumber, F_INT4LE, Int32GetDatum(last));
    IndexScanDesc scan = index_beginscan(toast, indexes[valid], &toast_snapshot, 3, 0);
    index_rescan(scan, keys, 3, NULL, 0);

    TupleDesc desc = RelationGetDescr(toast);
    Buffer buffer = InvalidBuffer;
    int32 expected = first;
    ItemPointer tid;
    while ((tid = index_getnext_tid(scan, ForwardScanDirection)) != NULL) {
        BlockNumber block = ItemPointerGetBlockNumber(tid);
        if (!BufferIsValid(buffer) || BufferGetBlockNumber(buffer) != block) {
            if (BufferIsValid(buffer))
                ReleaseBuffer(buffer);
            buffer = ReadBufferExtended(toast, MAIN_FORKNUM, block, RBM_NORMAL, strategy);
        }
        LockBuffer(buffer, BUFFER_LOCK_SHARE);
        HeapTupleData tuple;
        // TOAST rows are never updated, so there is no HOT chain to follow.
        if (!heap_hot_search_buffer(tid, toast, buffer, &toast_snapshot, &tuple, NULL, true)) {
            LockBuffer(buffer, BUFFER_LOCK_UNLOCK);
            continue;
        }
        bool isnull;
        int32 chunk = DatumGetInt32(fastgetattr(&tuple, 2, desc, &isnull));
        Pointer data = DatumGetPointer(fastgetattr(&tuple, 3, desc, &isnull));
        int32 data_size;
        char* bytes;
        if (!VARATT_IS_EXTENDED(data)) {
            data_size = int32(VARSIZE(data) - VARHDRSZ);
            bytes = VARDATA(data);
        } else if (VARATT_IS_SHORT(data)) {
            data_size = int32(VARSIZE_SHORT(data) - VARHDRSZ_SHORT);
            bytes = VARDATA_SHORT(data);
        } else {
            elog(ERROR, "lhv: found a toasted TOAST chunk for value %u in %s", pointer.va_valueid,
                 RelationGetRelationName(toast));
        }
        int32 expected_size = chunk < chunks - 1 ? int32(TOAST_MAX_CHUNK_SIZE)
                                                 : size - (chunks - 1) * int32(TOAST_MAX_CHUNK_SIZE);
        if (chunk != expected || chunk > last || data_size != expected_size)
            ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                            errmsg_internal("lhv: unexpected chunk %d (expected %d, size %d, expected %d) of "
                                            "TOAST value %u in %s",
                                            chunk, expected, data_size, expected_size, pointer.va_valueid,
                                            RelationGetRelationName(toast))));
        int32 from = chunk == first ? offset % int32(TOAST_MAX_CHUNK_SIZE) : 0;
        int32 to = chunk == last ? (offset + length - 1) % int32(TOAST_MAX_CHUNK_SIZE) + 1 : data_size;
        memcpy(into + (chunk * int32(TOAST_MAX_CHUNK_SIZE) + from - offset), bytes + from, to - from);
        LockBuffer(buffer, BUFFER_LOCK_UNLOCK);
        expected++;
    }
    if (BufferIsValid(buffer))
        ReleaseBuffer(buffer);
    if (expected != last + 1)
        ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                        errmsg_internal("lhv: missing chunk %d of TOAST value %u in %s", expected,
                                        pointer.va_valueid, RelationGetRelationName(toast))));
    index_endscan(scan);
    toast_close_indexes(indexes, index_count, AccessShareLock);
    table_close(toast, AccessShareLock);
}

}  // namespace

SnapshotSource::SnapshotSource(const LhvSnapshotRef& ref, char* buffer, BufferAccessStrategy strategy)
    : ref_(ref), buffer_(buffer), strategy_(strategy) {}

void SnapshotSource::read_part(int part, Size offset, Size length, char* into)
{
    struct varlena* value = ref_.parts[part];
    if (!VARATT_IS_EXTERNAL_ONDISK(value)) {
        memcpy(into, VARDATA_ANY(value) + offset, length);
        return;
    }
    BufferAccessStrategy strategy = strategy_;
    pg_call([&] {
        struct varatt_external pointer;
        VARATT_EXTERNAL_GET_POINTER(pointer, value);
        read_toast_slice(pointer, int32(offset), int32(length), into, strategy);
    });
}

const char* SnapshotSource::view(std::size_t offset, std::size_t length)
{
    if (offset + length > ref_.total || length > lhv::kMaxSourceView)
        throw lhv::Error(lhv::ErrorKind::Internal, "lhv: a snapshot view past its end");
    // Reads go forward, mostly: move from the last view's part.
    while (part_ > 0 && offset < part_start_) {
        part_--;
        part_start_ -= part_bytes(ref_.parts[part_]);
    }
    while (part_ + 1 < ref_.count && offset >= part_start_ + part_bytes(ref_.parts[part_])) {
        part_start_ += part_bytes(ref_.parts[part_]);
        part_++;
    }
    // Within one part held in memory: no copy.
    if (offset + length <= part_start_ + part_bytes(ref_.parts[part_]) &&
        !VARATT_IS_EXTERNAL_ONDISK(ref_.parts[part_]))
        return VARDATA_ANY(ref_.parts[part_]) + (offset - part_start_);

    // Pieces of the parts the view spans.
    char* data = buffer_;
    int last = part_;
    Size last_start = part_start_;
    while (offset + length > last_start + part_bytes(ref_.parts[last])) {
        last_start += part_bytes(ref_.parts[last]);
        last++;
    }
    for (int part = last;; part--) {  // the order does not matter
        Size from = Max(offset, last_start);
        Size to = Min(Size(offset + length), last_start + part_bytes(ref_.parts[part]));
        if (to > from)
            read_part(part, from - last_start, to - from, data + (from - offset));
        if (part == part_)
            break;
        last_start -= part_bytes(ref_.parts[part - 1]);
    }
    return data;
}

}  // namespace lhv::pg
