// metapage.h: block 0 of an lhv index: what the index is (dimension,
// metric, m, ef_construction), the identity of its change log, the log's
// bounds and the latest snapshot it knows of.
//
// The index relation is the part of lhv that reaches disk and replicas
// through WAL (generic WAL records). The metapage is written when the index
// is built (CREATE INDEX, REINDEX, TRUNCATE, VACUUM FULL, CLUSTER all build a
// new relfilenode) and whenever the change log's bounds move.
//
// PostgreSQL-style functions: they ereport. Include postgres.h first.
#pragma once

extern "C" {
#include "postgres.h"

#include "common/relpath.h"
#include "storage/block.h"
#include "utils/relcache.h"
}

#define LHV_META_MAGIC 0x4C485631u  // "LHV1" as a number
#define LHV_PAGE_FORMAT_VERSION 1
#define LHV_METAPAGE_BLKNO 0

// Set in the metapage of an unlogged index's init fork: after a crash resets
// the index to it, the first access gives the log a new identity, so a
// snapshot of the lost contents can never be applied.
#define LHV_META_NEEDS_IDENTITY 0x1u
// The log alone rebuilds the graph: the index was built empty, so every
// vector it holds was logged. Otherwise (a build that read rows from the
// table) only a snapshot plus the log can, and without a usable snapshot the
// graph must be rebuilt from the table.
#define LHV_META_LOG_COMPLETE 0x2u

struct LhvMetaPageData {
    uint32 magic;
    uint32 version;
    uint64 log_id;             // random identity of this relfilenode's log: the snapshots' key
    uint32 flags;              // LHV_META_*
    uint32 dimension;          // 0 until the first vector is indexed
    uint32 metric;             // lhv::Metric
    uint32 m;
    uint32 ef_construction;
    BlockNumber head_block;    // first page of the log (InvalidBlockNumber: no page yet)
    BlockNumber tail_block;    // page being appended to
    BlockNumber free_head;     // first reclaimed page ready for reuse
    uint64 log_start;          // first position still in the log (older ones reclaimed)
    uint64 log_end;            // position after the last entry
    uint64 snapshot_position;  // the log position the latest reclaimed-to snapshot covers
    uint64 pages_in_log;       // pages from head to tail
    uint64 pages_free;         // pages on the free list
};

// Writes a new metapage into block 0 of `fork` (which must be empty) for an
// index of `dimension` (0 if unknown yet). `flags` as above. WAL-logged.
void lhv_meta_create(Relation index, ForkNumber fork, uint32 dimension, uint32 flags);

// A copy of the metapage, read under a share lock. Raises a clear error if
// block 0 is not an lhv metapage (an index built by an older lhv: REINDEX).
LhvMetaPageData lhv_meta_read(Relation index);

// Gives the log a fresh identity (LHV_META_NEEDS_IDENTITY set): a crash
// reset the unlogged index to its init fork. Returns the updated copy.
LhvMetaPageData lhv_meta_renew_identity(Relation index);

// The metapage contents inside a pinned, locked page (for the change log,
// which updates it in the same WAL record as its pages).
LhvMetaPageData* lhv_meta_from_page(char* page);
