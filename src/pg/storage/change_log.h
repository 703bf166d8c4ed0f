// change_log.h: the append-only change log of an lhv index, in its own
// pages (generic WAL), so that everything a graph needs after a restart,
// after a crash and on a hot standby reaches disk and replicas through WAL.
//
// The log is a stream of bytes spread over a chain of pages (pages.h); an
// entry's position is the stream offset of its first byte, so positions only
// grow and a graph knows exactly which entries it holds (every position
// below its applied end). Entries:
//   Insert  (heap TID label, vector)    every aminsert, before the graph add
//   Delete  (n heap TID labels)         every VACUUM, before the heap reuses them
//   Reset   ()                          VACUUM emptied the index: forget the graph
// Pages wholly before a committed snapshot's position are reclaimed onto a
// free list and reused.
//
// Appends hold the metapage's buffer lock exclusively (one appender at a
// time); readers lock one page at a time and check each page's position, so
// a page reclaimed under a reader is noticed, never misread.
//
// PostgreSQL-style functions: they ereport. Include postgres.h first.
#pragma once

extern "C" {
#include "postgres.h"

#include "utils/relcache.h"
}

enum class LhvLogKind : uint32 { Insert = 1, Delete = 2, Reset = 3 };

struct LhvLogEntryHeader {
    uint32 kind;   // LhvLogKind
    uint32 count;  // Insert: dimension; Delete: labels; Reset: 0
    uint64 label;  // Insert: the heap TID label; otherwise 0
};

// One entry as the reader hands it out; `payload` is valid during the call.
struct LhvLogEntry {
    LhvLogKind kind;
    uint32 count;
    uint64 label;
    const float* vector;   // Insert: count components
    const uint64* labels;  // Delete: count labels
    uint64 position;
    uint64 end;            // position after the entry
};

// Appends an Insert entry. Sets the metapage's dimension if it had none.
// Returns the log end after it.
uint64 lhv_log_append_insert(Relation index, uint64 label, const float* vector, int dimension);

// Appends a Delete entry for `count` labels (at most LHV_LOG_MAX_DELETES).
uint64 lhv_log_append_delete(Relation index, const uint64* labels, int count);
#define LHV_LOG_MAX_DELETES 1024

// Appends a Reset entry and clears the metapage's dimension.
uint64 lhv_log_append_reset(Relation index);

// Calls visit(entry, arg) for every entry in [from, to), in order, outside
// any buffer lock (visit may ereport). Returns false, having visited
// nothing more, if `from` is no longer in the log (reclaimed): the caller
// then needs a newer snapshot.
typedef void (*LhvLogVisitor)(const LhvLogEntry* entry, void* arg);
bool lhv_log_read(Relation index, uint64 from, uint64 to, LhvLogVisitor visit, void* arg);

// Moves the pages wholly below `position` (covered by a committed snapshot)
// to the free list and records `position` as the latest snapshot's.
// Returns the number of pages reclaimed.
int lhv_log_reclaim(Relation index, uint64 position);
