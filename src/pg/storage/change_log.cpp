// change_log.cpp: appending to, reading and reclaiming an lhv index's change
// log (change_log.h).
//
// WAL: each generic WAL record covers the metapage and at most two log
// pages, so an entry larger than a page takes several records. Only the
// last one moves the metapage's log_end: if a crash falls in between, the
// bytes written past log_end are ignored and overwritten by the next append.
extern "C" {
#include "postgres.h"

#include "access/generic_xlog.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/rel.h"
}

#include "core/hnsw_graph.h"
#include "storage/change_log.h"
#include "storage/metapage.h"
#include "storage/pages.h"

namespace {

// The bytes of one entry: a header, then its payload.
struct EntryBytes {
    const char* header;
    size_t header_size;
    const char* payload;
    size_t payload_size;

    size_t size() const { return header_size + payload_size; }
    // Copies bytes [offset, offset + n) of the entry to `out`.
    void copy(size_t offset, size_t n, char* out) const
    {
        while (n > 0) {
            if (offset < header_size) {
                size_t k = Min(n, header_size - offset);
                memcpy(out, header + offset, k);
                out += k, offset += k, n -= k;
            } else {
                memcpy(out, payload + (offset - header_size), n);
                return;
            }
        }
    }
};

// A new page for the log: off the free list, or by extending the relation.
// Returns it pinned and exclusively locked; updates the metapage copy `meta`
// (registered in the caller's WAL record) if it came off the free list.
Buffer new_log_page(Relation index, LhvMetaPageData* meta)
{
    if (meta->free_head != InvalidBlockNumber) {
        Buffer buffer = ReadBuffer(index, meta->free_head);
        LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
        Page page = BufferGetPage(buffer);
        if (!lhv_page_is(page, LHV_PAGE_FREE))
            ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                            errmsg("lhv index \"%s\": block %u on the free list is not free",
                                   RelationGetRelationName(index), meta->free_head)));
        meta->free_head = lhv_page_opaque(page)->next;
        meta->pages_free--;
        return buffer;
    }
    LockRelationForExtension(index, ExclusiveLock);
    Buffer buffer = ReadBuffer(index, P_NEW);
    UnlockRelationForExtension(index, ExclusiveLock);
    LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
    return buffer;
}

// Makes `page` an empty log page starting at `first_position`.
void init_log_page(Page page, uint64 first_position)
{
    lhv_page_init(page, LHV_PAGE_LOG);
    lhv_page_opaque(page)->first_position = first_position;
}

// Sets pd_lower after the page's log bytes, so generic WAL logs only them.
void set_used(Page page, uint32 used)
{
    lhv_page_opaque(page)->used = used;
    reinterpret_cast<PageHeader>(page)->pd_lower = uint16(MAXALIGN(SizeOfPageHeaderData) + used);
}

// Appends one entry; `set_dimension` is written to the metapage with it
// (-1: leave it; with only_if_unset, only if it has none). Returns the new
// log end.
uint64 append(Relation index, const EntryBytes& entry, int64 set_dimension, bool only_if_unset)
{
    Buffer meta_buffer = ReadBuffer(index, LHV_METAPAGE_BLKNO);
    LockBuffer(meta_buffer, BUFFER_LOCK_EXCLUSIVE);
    LhvMetaPageData meta = *lhv_meta_from_page(BufferGetPage(meta_buffer));
    const uint64 start = meta.log_end;
    const size_t total = entry.size();
    const size_t capacity = LHV_LOG_PAGE_CAPACITY;

    // The first page of an empty log.
    Buffer current = InvalidBuffer;
    if (meta.tail_block == InvalidBlockNumber) {
        GenericXLogState* state = GenericXLogStart(index);
        Page meta_page = GenericXLogRegisterBuffer(state, meta_buffer, 0);
        current = new_log_page(index, &meta);
        Page page = GenericXLogRegisterBuffer(state, current, GENERIC_XLOG_FULL_IMAGE);
        init_log_page(page, meta.log_end);
        meta.head_block = meta.tail_block = BufferGetBlockNumber(current);
        meta.log_start = meta.log_end;
        meta.pages_in_log = 1;
        *lhv_meta_from_page(meta_page) = meta;
        GenericXLogFinish(state);
    } else {
        current = ReadBuffer(index, meta.tail_block);
        LockBuffer(current, BUFFER_LOCK_EXCLUSIVE);
    }

    size_t written = 0;
    BlockNumber tail = BufferGetBlockNumber(current);
    for (;;) {
        GenericXLogState* state = GenericXLogStart(index);
        Page meta_page = GenericXLogRegisterBuffer(state, meta_buffer, 0);
        Page page = GenericXLogRegisterBuffer(state, current, 0);
        LhvPageOpaque* opaque = lhv_page_opaque(page);
        if (!lhv_page_is(page, LHV_PAGE_LOG) || start + written < opaque->first_position ||
            start + written > opaque->first_position + capacity)
            ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                            errmsg("lhv index \"%s\": log tail block %u does not hold position %llu",
                                   RelationGetRelationName(index), BufferGetBlockNumber(current),
                                   (unsigned long long)(start + written))));
        size_t offset = size_t(start + written - opaque->first_position);
        size_t n = Min(capacity - offset, total - written);
        entry.copy(written, n, PageGetContents(page) + offset);
        set_used(page, uint32(offset + n));
        written += n;

        if (written == total) {
            meta.log_end = start + total;
            meta.tail_block = tail;
            if (set_dimension >= 0 && !(only_if_unset && meta.dimension != 0))
                meta.dimension = uint32(set_dimension);
            *lhv_meta_from_page(meta_page) = meta;
            GenericXLogFinish(state);
            UnlockReleaseBuffer(current);
            break;
        }

        // The page is full: continue on the next one, a spare page left
        // linked by an append a crash cut short, or a new one.
        Buffer next;
        if (opaque->next != InvalidBlockNumber) {
            next = ReadBuffer(index, opaque->next);
            LockBuffer(next, BUFFER_LOCK_EXCLUSIVE);
        } else {
            next = new_log_page(index, &meta);
            meta.pages_in_log++;
        }
        Page next_page = GenericXLogRegisterBuffer(state, next, GENERIC_XLOG_FULL_IMAGE);
        init_log_page(next_page, opaque->first_position + capacity);
        opaque->next = BufferGetBlockNumber(next);
        *lhv_meta_from_page(meta_page) = meta;
        GenericXLogFinish(state);
        UnlockReleaseBuffer(current);
        current = next;
        tail = BufferGetBlockNumber(next);
    }
    UnlockReleaseBuffer(meta_buffer);
    return start + total;
}

// Payload bytes of an entry with this header, or -1 if it makes no sense.
int64 payload_size(const LhvLogEntryHeader& header)
{
    switch (LhvLogKind(header.kind)) {
        case LhvLogKind::Insert:
            return header.count >= 1 && header.count <= lhv::kMaxDimension ? int64(header.count) * 4 : -1;
        case LhvLogKind::Delete:
            return header.count <= LHV_LOG_MAX_DELETES ? int64(header.count) * 8 : -1;
        case LhvLogKind::Reset:
            return header.count == 0 ? 0 : -1;
    }
    return -1;
}

// Assembles entries from the log's bytes, which arrive a page at a time.
struct Assembler {
    Relation index;
    char* buffer;        // the entry being assembled
    size_t size;         // bytes in buffer
    size_t capacity;
    uint64 position;     // log position of buffer[0]
    LhvLogVisitor visit;
    void* arg;
};

void assembler_fail(Assembler* a, const char* why)
{
    ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                    errmsg("lhv index \"%s\": change log entry at position %llu is corrupt: %s",
                           RelationGetRelationName(a->index), (unsigned long long)a->position, why),
                    errhint("REINDEX the index.")));
}

// Takes `n` more bytes of the log and visits each entry they complete.
void assembler_feed(Assembler* a, const char* bytes, size_t n)
{
    for (;;) {
        // What the entry being assembled needs: its header, then its payload.
        size_t need = sizeof(LhvLogEntryHeader);
        LhvLogEntryHeader header;
        if (a->size >= sizeof(header)) {
            memcpy(&header, a->buffer, sizeof(header));
            int64 payload = payload_size(header);
            if (payload < 0)
                assembler_fail(a, "bad kind or count");
            need += size_t(payload);
        }
        if (a->size >= sizeof(header) && a->size == need) {
            LhvLogEntry entry;
            entry.kind = LhvLogKind(header.kind);
            entry.count = header.count;
            entry.label = header.label;
            // palloc'd, so the payload is aligned for floats and u64s.
            entry.vector = reinterpret_cast<const float*>(a->buffer + sizeof(header));
            entry.labels = reinterpret_cast<const uint64*>(a->buffer + sizeof(header));
            entry.position = a->position;
            entry.end = a->position + need;
            a->visit(&entry, a->arg);
            a->position += need;
            a->size = 0;
            continue;
        }
        if (n == 0)
            return;
        if (need > a->capacity) {
            a->buffer = static_cast<char*>(repalloc(a->buffer, need));
            a->capacity = need;
        }
        size_t k = Min(n, need - a->size);
        memcpy(a->buffer + a->size, bytes, k);
        a->size += k, bytes += k, n -= k;
    }
}

}  // namespace

uint64 lhv_log_append_insert(Relation index, uint64 label, const float* vector, int dimension)
{
#ifdef LHV_BENCH_WITHOUT_INSERT_LOG
    // Only bench/insert_ab.sh builds this, to measure what the log costs an
    // INSERT in one run: nothing is logged, so nothing added survives a restart.
    return 0;
#endif
    LhvLogEntryHeader header = {uint32(LhvLogKind::Insert), uint32(dimension), label};
    EntryBytes entry = {reinterpret_cast<const char*>(&header), sizeof(header),
                        reinterpret_cast<const char*>(vector), size_t(dimension) * sizeof(float)};
    // The first vector fixes the index's dimension.
    return append(index, entry, dimension, true);
}

uint64 lhv_log_append_delete(Relation index, const uint64* labels, int count)
{
    Assert(count >= 0 && count <= LHV_LOG_MAX_DELETES);
    LhvLogEntryHeader header = {uint32(LhvLogKind::Delete), uint32(count), 0};
    EntryBytes entry = {reinterpret_cast<const char*>(&header), sizeof(header),
                        reinterpret_cast<const char*>(labels), size_t(count) * sizeof(uint64)};
    return append(index, entry, -1, false);
}

uint64 lhv_log_append_reset(Relation index)
{
    LhvLogEntryHeader header = {uint32(LhvLogKind::Reset), 0, 0};
    EntryBytes entry = {reinterpret_cast<const char*>(&header), sizeof(header), nullptr, 0};
    return append(index, entry, 0, false);
}

bool lhv_log_read(Relation index, uint64 from, uint64 to, LhvLogVisitor visit, void* arg)
{
    if (from >= to)
        return true;
    LhvMetaPageData meta = lhv_meta_read(index);
    if (from < meta.log_start || meta.head_block == InvalidBlockNumber)
        return false;
    if (to > meta.log_end)
        elog(ERROR, "lhv: change log of \"%s\" read past its end", RelationGetRelationName(index));

    const size_t capacity = LHV_LOG_PAGE_CAPACITY;
    Assembler a = {index, static_cast<char*>(palloc(1024)), 0, 1024, from, visit, arg};
    char* copy = static_cast<char*>(palloc(capacity));
    BlockNumber block = meta.head_block;
    uint64 expected_first = meta.log_start;
    uint64 position = from;
    while (position < to) {
        if (block == InvalidBlockNumber)
            return false;  // the chain ended early: reclaimed and reused meanwhile
        Buffer buffer = ReadBuffer(index, block);
        LockBuffer(buffer, BUFFER_LOCK_SHARE);
        Page page = BufferGetPage(buffer);
        bool valid = lhv_page_is(page, LHV_PAGE_LOG) &&
                     lhv_page_opaque(page)->first_position == expected_first;
        size_t n = 0;
        BlockNumber next = InvalidBlockNumber;
        if (valid) {
            const LhvPageOpaque* opaque = lhv_page_opaque(page);
            uint64 page_end = Min(opaque->first_position + opaque->used, to);
            if (position < page_end) {
                n = size_t(page_end - position);
                memcpy(copy, PageGetContents(page) + (position - opaque->first_position), n);
            }
            next = opaque->next;
        }
        UnlockReleaseBuffer(buffer);
        if (!valid)
            return false;  // reclaimed under this reader
        assembler_feed(&a, copy, n);
        position += n;
        expected_first += capacity;
        block = next;
        CHECK_FOR_INTERRUPTS();
    }
    if (a.size != 0)
        elog(ERROR, "lhv: change log of \"%s\" ends inside an entry", RelationGetRelationName(index));
    pfree(copy);
    pfree(a.buffer);
    return true;
}

int lhv_log_reclaim(Relation index, uint64 position)
{
    const size_t capacity = LHV_LOG_PAGE_CAPACITY;
    int reclaimed = 0;
    Buffer meta_buffer = ReadBuffer(index, LHV_METAPAGE_BLKNO);
    LockBuffer(meta_buffer, BUFFER_LOCK_EXCLUSIVE);
    for (;;) {
        LhvMetaPageData* current = lhv_meta_from_page(BufferGetPage(meta_buffer));
        BlockNumber head = current->head_block;
        if (head == InvalidBlockNumber || head == current->tail_block ||
            current->log_start + capacity > position)
            break;
        Buffer buffer = ReadBuffer(index, head);
        LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
        GenericXLogState* state = GenericXLogStart(index);
        Page meta_page = GenericXLogRegisterBuffer(state, meta_buffer, 0);
        Page page = GenericXLogRegisterBuffer(state, buffer, 0);
        LhvMetaPageData* meta = lhv_meta_from_page(meta_page);
        LhvPageOpaque* opaque = lhv_page_opaque(page);
        if (!lhv_page_is(page, LHV_PAGE_LOG) || opaque->first_position != meta->log_start) {
            GenericXLogAbort(state);
            UnlockReleaseBuffer(buffer);
            UnlockReleaseBuffer(meta_buffer);
            ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                            errmsg("lhv index \"%s\": log head block %u is not at position %llu",
                                   RelationGetRelationName(index), head,
                                   (unsigned long long)meta->log_start)));
        }
        meta->head_block = opaque->next;
        meta->log_start += capacity;
        meta->pages_in_log--;
        opaque->flags = LHV_PAGE_FREE;
        opaque->next = meta->free_head;
        set_used(page, 0);
        meta->free_head = head;
        meta->pages_free++;
        GenericXLogFinish(state);
        UnlockReleaseBuffer(buffer);
        reclaimed++;
    }
    {
        // Remember the snapshot's position, even when no page was whole.
        LhvMetaPageData* current = lhv_meta_from_page(BufferGetPage(meta_buffer));
        if (current->snapshot_position < position) {
            GenericXLogState* state = GenericXLogStart(index);
            Page meta_page = GenericXLogRegisterBuffer(state, meta_buffer, 0);
            lhv_meta_from_page(meta_page)->snapshot_position = position;
            GenericXLogFinish(state);
        }
    }
    UnlockReleaseBuffer(meta_buffer);
    return reclaimed;
}
