// background.h: running one dynamic background worker and waiting for it,
// for lhv's own workers (the snapshot launcher's writers, the preload
// worker's per-database loaders).
//
// PostgreSQL-style functions: they ereport. Include postgres.h first.
#pragma once

extern "C" {
#include "postgres.h"

#include "postmaster/bgworker.h"
}

// Fills `worker` for one of lhv's workers: zeroes it, names its entry point
// `function` in lhv's library, and sets its flags, start and restart times,
// type, and name (a printf format and its arguments).
void lhv_describe_worker(BackgroundWorker* worker, const char* function, int flags,
                         BgWorkerStartTime start, int restart_seconds, const char* type,
                         const char* name_format, ...) pg_attribute_printf(7, 8);

// Registers `worker` (its bgw_notify_pid is set to this process) and waits
// until it has stopped, or gives up at once if this process is asked to shut
// down (a shutting-down postmaster never starts it). Returns false, with a
// LOG message naming `purpose`, if no worker slot was free.
bool lhv_run_worker(BackgroundWorker* worker, const char* purpose);
