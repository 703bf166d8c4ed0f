// pages.h: the page format of an lhv index relation. Every page is a
// standard PostgreSQL page whose special space is an LhvPageOpaque:
//   block 0        the metapage (metapage.h)
//   blocks 1 ..    change log pages (change_log.h): raw bytes of the log
//                  from PageGetContents() up to pd_lower, or free pages
//                  waiting for reuse.
// Include postgres.h first.
#pragma once

extern "C" {
#include "storage/block.h"
#include "storage/bufpage.h"
}

#define LHV_PAGE_ID 0xFF8Au  // in every page's special space, as pg_filedump expects

#define LHV_PAGE_META 0x1u
#define LHV_PAGE_LOG 0x2u
#define LHV_PAGE_FREE 0x4u

struct LhvPageOpaque {
    uint64 first_position;  // log pages: the log position of the page's first byte
    uint32 used;            // log pages: bytes of log held
    BlockNumber next;       // log pages: the next page of the log; free pages: of the free list
    uint16 flags;           // LHV_PAGE_*
    uint16 page_id;         // LHV_PAGE_ID
};

static inline LhvPageOpaque* lhv_page_opaque(Page page)
{
    return reinterpret_cast<LhvPageOpaque*>(PageGetSpecialPointer(page));
}

// Bytes of log one page holds.
#define LHV_LOG_PAGE_CAPACITY \
    (BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(LhvPageOpaque)))

// Initialises `page` as an lhv page of `flags`.
static inline void lhv_page_init(Page page, uint16 flags)
{
    PageInit(page, BLCKSZ, sizeof(LhvPageOpaque));
    LhvPageOpaque* opaque = lhv_page_opaque(page);
    opaque->first_position = 0;
    opaque->used = 0;
    opaque->next = InvalidBlockNumber;
    opaque->flags = flags;
    opaque->page_id = LHV_PAGE_ID;
}

// True if `page` is an lhv page with all of `flags`.
static inline bool lhv_page_is(Page page, uint16 flags)
{
    if (PageIsNew(page) || PageGetSpecialSize(page) != MAXALIGN(sizeof(LhvPageOpaque)))
        return false;
    const LhvPageOpaque* opaque = lhv_page_opaque(page);
    return opaque->page_id == LHV_PAGE_ID && (opaque->flags & flags) == flags;
}
