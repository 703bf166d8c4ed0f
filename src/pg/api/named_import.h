// named_import.h: how lhv_import hands the graph of its snapshot to the build
// of the new index, so that the graph is taken over, not rebuilt.
//
// lhv_import (named_import.cpp) creates the data table, inserts the rows of
// the snapshot, then offers the graph, with each element relabelled to its
// row's heap TID, to the next build of an index on that table in this
// backend. It then creates the lhv index: the build (am_build.cpp) asks
// lhv_import_adopt first, which loads the offered graph into shared memory
// as the index's graph (named_import_graph.cpp). The build then writes its
// snapshot as any build does, so restarts, crashes and standbys need nothing
// more.
//
// PostgreSQL-style functions: they ereport. Include postgres.h first.
#pragma once

extern "C" {
#include "postgres.h"

#include "utils/palloc.h"
#include "utils/relcache.h"
}

#include "core/lhv1_codec.h"

// A graph offered to the build of an index on `table`.
struct LhvImportOffer {
    Oid table;
    const char* graph_bytes;  // hnswlib's layout, already checked against params
    Size graph_size;
    lhv::GraphParams params;
    const lhv::ElementRewrite* rewrite;  // per element: its row's TID label, or deleted
    int64 rows;                          // elements not deleted: the table's rows
};

// Offers `offer` (which must stay valid meanwhile) until lhv_import_withdraw,
// a build takes it, or the memory context `owner` goes away (an error).
void lhv_import_offer(const LhvImportOffer* offer, MemoryContext owner);
void lhv_import_withdraw(void);

// For the access method's build: if a graph was offered for `heap`, makes it
// the graph of `index` (owned by the transaction, as a built one), sets the
// tuple counts and returns true; otherwise returns false.
bool lhv_import_adopt(Relation heap, Relation index, double* heap_tuples, double* index_tuples);
