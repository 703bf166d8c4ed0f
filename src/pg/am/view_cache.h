// view_cache.h: this backend's views of the graphs it uses, one per index,
// made on first use and kept so that a statement pays nothing to reach an
// index it used before.
//
// A view holds only process-private memory: the graph's chunk addresses in
// this process (8 bytes per chunk it resolved) and the visited sets of its
// searches (sized by what a search visits). Views of graphs that were freed
// or replaced (DROP, REINDEX, TRUNCATE, a reload) are freed by a sweep
// whenever the registry changed since the last one: at the next lhv access
// and at the end of each transaction of this backend. A view swept during a
// transaction is only retired then, and freed at its end, since a scan of
// that transaction may still hold it (its searches check the registry before
// they use it).
//
// C++-style functions: they throw, never ereport; call them inside lhv_guard.
// Include postgres.h first.
#pragma once

#include <cstdint>

#include "core/hnsw_graph.h"
#include "shmem/registry.h"

// This backend's view of the graph `entry` names, or nullptr if it has
// none (an index with no vector yet).
lhv::HnswGraph* lhv_graph_view(const lhv::pg::RegistryEntry& entry);

// What this backend's views hold, for lhv_backend_memory().
struct LhvViewCacheStats {
    int views = 0;         // views of current graphs
    int retired = 0;       // views swept in this transaction, freed at its end
    uint64 view_bytes = 0; // their private memory (both kinds)
};

// Sweeps now (if the registry changed), then counts.
LhvViewCacheStats lhv_view_cache_stats();

// Registers the end-of-transaction sweep; called once by _PG_init.
void lhv_view_cache_init();
