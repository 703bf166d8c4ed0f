// background.cpp: running one dynamic background worker and waiting for it
// (background.h).
extern "C" {
#include "postgres.h"

#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/interrupt.h"
#include "storage/latch.h"
}

#include "storage/background.h"

#include <cstdarg>

void lhv_describe_worker(BackgroundWorker* worker, const char* function, int flags,
                         BgWorkerStartTime start, int restart_seconds, const char* type,
                         const char* name_format, ...)
{
    memset(worker, 0, sizeof(*worker));
    worker->bgw_flags = flags;
    worker->bgw_start_time = start;
    worker->bgw_restart_time = restart_seconds;
    snprintf(worker->bgw_library_name, BGW_MAXLEN, "lhv");
    snprintf(worker->bgw_function_name, BGW_MAXLEN, "%s", function);
    snprintf(worker->bgw_type, BGW_MAXLEN, "%s", type);
    va_list args;
    va_start(args, name_format);
    vsnprintf(worker->bgw_name, BGW_MAXLEN, name_format, args);
    va_end(args);
}

bool lhv_run_worker(BackgroundWorker* worker, const char* purpose)
{
    worker->bgw_notify_pid = MyProcPid;
    BackgroundWorkerHandle* handle;
    if (!RegisterDynamicBackgroundWorker(worker, &handle)) {
        ereport(LOG, (errmsg("lhv: no background worker slot free for %s; raise max_worker_processes", purpose)));
        return false;
    }
    // Not WaitForBackgroundWorkerStartup/Shutdown: during a shutdown the
    // postmaster never starts the worker, and those would wait forever.
    for (;;) {
        pid_t pid;
        BgwHandleStatus status = GetBackgroundWorkerPid(handle, &pid);
        if (status == BGWH_STOPPED || status == BGWH_POSTMASTER_DIED)
            break;
        if (ShutdownRequestPending) {
            TerminateBackgroundWorker(handle);
            break;
        }
        (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 100L, PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
    }
    pfree(handle);
    return true;
}
