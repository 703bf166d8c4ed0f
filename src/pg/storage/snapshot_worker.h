// snapshot_worker.h: the background workers that write snapshots.
//
// A launcher (started with the server, not on a hot standby) wakes every
// lhv.snapshot_naptime seconds, looks through the registry, and for each
// graph whose log has grown by lhv.snapshot_threshold since its last
// snapshot, or that VACUUM or a rebuild changed, starts a worker connected
// to that index's database: it writes the snapshot, commits, then reclaims
// the log pages the snapshot covers. One worker at a time.
#pragma once

// Registers the launcher (from _PG_init, while preloading).
void lhv_snapshot_worker_register(void);
