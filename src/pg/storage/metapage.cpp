// metapage.cpp: creating and reading block 0 of an lhv index (metapage.h).
extern "C" {
#include "postgres.h"

#include "access/generic_xlog.h"
#include "access/xloginsert.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/smgr.h"
#include "utils/builtins.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
}

#include "am/index_graph.h"
#include "am/lhv_am.h"
#include "storage/metapage.h"
#include "storage/pages.h"

// A log identity no other relfilenode will have.
static uint64 new_log_id()
{
    uint64 id = 0;
    if (!pg_strong_random(&id, sizeof(id)))
        id = uint64(GetCurrentTimestamp()) ^ (uint64(MyProcPid) << 40);
    return id == 0 ? 1 : id;
}

LhvMetaPageData* lhv_meta_from_page(char* page)
{
    return reinterpret_cast<LhvMetaPageData*>(PageGetContents(page));
}

// Fills `page` as a new metapage.
static void fill_metapage(Relation index, Page page, uint32 dimension, uint32 flags)
{
    lhv_page_init(page, LHV_PAGE_META);
    LhvMetaPageData* meta = lhv_meta_from_page(page);
    memset(meta, 0, sizeof(*meta));
    meta->magic = LHV_META_MAGIC;
    meta->version = LHV_PAGE_FORMAT_VERSION;
    meta->log_id = new_log_id();
    meta->flags = flags;
    meta->dimension = dimension;
    meta->metric = uint32(lhv_index_params(index, 1).metric);
    meta->m = uint32(lhv_index_m(index));
    meta->ef_construction = uint32(lhv_index_ef_construction(index));
    meta->head_block = InvalidBlockNumber;
    meta->tail_block = InvalidBlockNumber;
    meta->free_head = InvalidBlockNumber;
    // pd_lower past the struct, so generic WAL and page compaction keep it.
    reinterpret_cast<PageHeader>(page)->pd_lower =
        uint16(reinterpret_cast<char*>(meta) + sizeof(*meta) - reinterpret_cast<char*>(page));
}

void lhv_meta_create(Relation index, ForkNumber fork, uint32 dimension, uint32 flags)
{
    if (fork == INIT_FORKNUM) {
        // As contrib/bloom: the init fork is written and WAL-logged directly.
        Page page = static_cast<Page>(palloc(BLCKSZ));
        fill_metapage(index, page, dimension, flags);
        PageSetChecksumInplace(page, LHV_METAPAGE_BLKNO);
        smgrwrite(RelationGetSmgr(index), INIT_FORKNUM, LHV_METAPAGE_BLKNO, page, true);
        log_newpage(&(RelationGetSmgr(index))->smgr_rnode.node, INIT_FORKNUM, LHV_METAPAGE_BLKNO, page,
                    true);
        smgrimmedsync(RelationGetSmgr(index), INIT_FORKNUM);
        pfree(page);
        return;
    }

    Buffer buffer = ReadBufferExtended(index, fork, P_NEW, RBM_NORMAL, NULL);
    LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
    if (BufferGetBlockNumber(buffer) != LHV_METAPAGE_BLKNO)
        elog(ERROR, "lhv: index \"%s\" is not empty at build", RelationGetRelationName(index));
    GenericXLogState* state = GenericXLogStart(index);
    Page page = GenericXLogRegisterBuffer(state, buffer, GENERIC_XLOG_FULL_IMAGE);
    fill_metapage(index, page, dimension, flags);
    GenericXLogFinish(state);
    UnlockReleaseBuffer(buffer);
}

// Raises the error for a block 0 that is not an lhv metapage.
static void report_bad_metapage(Relation index, const char* why)
{
    ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                    errmsg("lhv index \"%s\" has no valid metapage: %s", RelationGetRelationName(index), why),
                    errhint("REINDEX INDEX %s; indexes built by lhv before its storage format "
                            "existed must be rebuilt once.",
                            quote_identifier(RelationGetRelationName(index)))));
}

LhvMetaPageData lhv_meta_read(Relation index)
{
    if (RelationGetNumberOfBlocks(index) == 0)
        report_bad_metapage(index, "the relation is empty");
    Buffer buffer = ReadBuffer(index, LHV_METAPAGE_BLKNO);
    LockBuffer(buffer, BUFFER_LOCK_SHARE);
    Page page = BufferGetPage(buffer);
    bool valid = lhv_page_is(page, LHV_PAGE_META);
    LhvMetaPageData meta;
    if (valid)
        meta = *lhv_meta_from_page(page);
    UnlockReleaseBuffer(buffer);
    if (!valid)
        report_bad_metapage(index, "block 0 is not an lhv metapage");
    if (meta.magic != LHV_META_MAGIC)
        report_bad_metapage(index, "bad magic number");
    if (meta.version != LHV_PAGE_FORMAT_VERSION)
        report_bad_metapage(index, "unknown page format version");
    return meta;
}

LhvMetaPageData lhv_meta_renew_identity(Relation index)
{
    Buffer buffer = ReadBuffer(index, LHV_METAPAGE_BLKNO);
    LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
    GenericXLogState* state = GenericXLogStart(index);
    Page page = GenericXLogRegisterBuffer(state, buffer, 0);
    LhvMetaPageData* meta = lhv_meta_from_page(page);
    if (meta->flags & LHV_META_NEEDS_IDENTITY) {
        meta->log_id = new_log_id();
        meta->flags &= ~LHV_META_NEEDS_IDENTITY;
    }
    LhvMetaPageData copy = *meta;
    GenericXLogFinish(state);
    UnlockReleaseBuffer(buffer);
    return copy;
}
