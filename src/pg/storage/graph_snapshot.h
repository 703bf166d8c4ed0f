// graph_snapshot.h: writing the LHV1 snapshot of an index's graph into lhv's
// catalog (at the end of CREATE INDEX / REINDEX, by the snapshot worker, and
// on demand with lhv_snapshot(regclass)), and reclaiming the log it covers.
//
// PostgreSQL-style functions: they ereport. Include postgres.h first.
#pragma once

extern "C" {
#include "postgres.h"

#include "utils/relcache.h"
}

// Writes a snapshot of the graph of `index` (loading the graph first if it
// is not in memory) in the current transaction. Inserts wait only while the
// graph is copied in memory; searches never wait. Returns false, writing
// nothing, when the index holds no vector or is temporary. Sets the bytes
// written and the log position covered.
bool lhv_graph_write_snapshot(Relation index, Size* bytes, uint64* position);

// Moves the log pages covered by the newest committed snapshot to the free
// list. Returns the pages reclaimed.
int lhv_graph_reclaim_log(Relation index);
