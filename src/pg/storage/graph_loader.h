// graph_loader.h: bringing a graph into shared memory from what the index
// relation and lhv's catalog hold, and keeping a hot standby's graph in step
// with the log replayed from its primary.
//
//   load      = the newest snapshot of the index's log + the log entries after
//               it (never a read of the table), or the whole log when no
//               snapshot exists yet; the table only when neither is usable
//               (a corrupt snapshot row and a reclaimed log), with a WARNING.
//   catch up  = apply the entries appended since the graph's applied end:
//               on a hot standby before every scan, and once after promotion.
//
// PostgreSQL-style functions: they ereport. Include postgres.h first.
#pragma once

extern "C" {
#include "postgres.h"

#include "utils/relcache.h"
}

#include "shmem/registry.h"

// Loads the graph of `index` into `entry`, a slot this backend claimed
// (Loading), and publishes it Ready. Returns false if it gave the slot up to
// rebuild from the table instead (the caller looks the index up again).
bool lhv_graph_load(Relation index, const lhv::pg::RegistryEntry& entry);

// True if a Ready graph may be behind its log: on a hot standby, or a graph
// a standby applied before it was promoted.
bool lhv_graph_may_lag(const lhv::pg::RegistryEntry& entry);

// Applies the log entries the graph of `entry` lacks. Returns false if the
// graph must be reloaded instead: the log's identity changed (TRUNCATE,
// REINDEX on the primary) or the entries it needs were reclaimed.
bool lhv_graph_catch_up(Relation index, const lhv::pg::RegistryEntry& entry);

// On a hot standby, which sees DROP, TRUNCATE and REINDEX only through WAL
// replay: frees the graphs of this database whose index is gone or has a new
// log identity. Never waits for a lock (an index being replayed is skipped).
// Called when a graph is loaded and by lhv_index_status(). Returns how many
// graphs it freed.
int lhv_standby_sweep(void);
