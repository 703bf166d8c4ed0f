// snapshot_store.h: LHV1 snapshots of graphs, as bytea parts in lhv's
// catalog table lhv_snapshot (an extension-owned table, WAL-logged, so a
// snapshot is written atomically with its transaction and replicated).
//
// A snapshot is keyed by the log identity in the index's metapage (a random
// number each new relfilenode gets), never by the index oid alone, so it can
// never be applied to another relfilenode: TRUNCATE, REINDEX, VACUUM FULL,
// CLUSTER and swaps of relfilenodes all come with a new identity.
//
// Access goes through SPI as the table's owner with a safe search_path, so
// the user who triggers a snapshot needs no privilege on the table.
//
// PostgreSQL-style functions: they ereport. Include postgres.h first.
#pragma once

extern "C" {
#include "postgres.h"

#include "utils/relcache.h"
}

// A snapshot's bytes as the bytea values of its rows, in order.
struct LhvSnapshotParts {
    bytea** parts;
    int count;
    Size total;  // bytes in all parts
};

// Stores `parts` as the newest snapshot of log `log_id` of `index`,
// covering log positions below `position`, in the current transaction.
// Deletes the older snapshots of that log and any of the index's other logs
// (a REINDEX commits with its new snapshot, or keeps the old one).
void lhv_snapshot_store(Relation index, uint64 log_id, uint64 position, const LhvSnapshotParts& parts);

// The newest snapshot of a log, as its parts are stored: TOAST pointers,
// not their bytes, so that it can be decoded slice by slice
// (snapshot_source.h) and never joined in memory. A part that is not an
// uncompressed TOAST pointer (inline, or compressed) holds its plain bytes.
struct LhvSnapshotRef {
    uint64 position;        // log positions below it are in the snapshot
    int count;
    struct varlena** parts; // in order
    Size total;             // bytes of all parts
};

// Finds the newest committed snapshot of `log_id` (the latest committed
// state, not the transaction's snapshot) and fills `ref`, palloc'd in the
// current memory context. False if there is none or it lacks parts (with a
// WARNING). Its TOAST values stay readable until the transaction ends.
bool lhv_snapshot_find(uint64 log_id, LhvSnapshotRef* ref);

// The position of the newest snapshot of `log_id`, or -1 if none.
int64 lhv_snapshot_latest_position(uint64 log_id);

// Deletes every snapshot of `log_id` (the index is dropped). Does nothing
// when lhv's catalog table is gone (DROP EXTENSION).
void lhv_snapshot_forget(uint64 log_id);

// Deletes the snapshots of the index's other logs (an empty REINDEX or
// TRUNCATE writes no snapshot of its own), in the current transaction.
void lhv_snapshot_forget_other_logs(Relation index, uint64 log_id);
