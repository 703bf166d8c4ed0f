// snapshot_worker.cpp: the snapshot launcher and its per-database writers
// (snapshot_worker.h).
extern "C" {
#include "postgres.h"

#include "access/relation.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "commands/defrem.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

PGDLLEXPORT void lhv_snapshot_launcher_main(Datum arg);
PGDLLEXPORT void lhv_snapshot_writer_main(Datum arg);
}

#include "guard.h"
#include "lhv_config.h"
#include "shmem/registry.h"
#include "storage/background.h"
#include "storage/graph_snapshot.h"
#include "storage/snapshot_worker.h"

using lhv::pg::RegistryEntry;
using lhv::pg::RegistrySlotInfo;
using lhv::pg::SlotState;

namespace {

// What a writer is asked to do, in bgw_extra.
struct WriterTask {
    Oid database;
    Oid index;
};

// True if the graph of `slot` is due a snapshot.
bool snapshot_due(const RegistrySlotInfo& slot)
{
    const RegistryEntry& e = slot.entry;
    if (e.state != SlotState::Ready || e.log_id == 0)
        return false;
    if (slot.needs_snapshot)
        return true;
    uint64 threshold = uint64(lhv_snapshot_threshold_mb) * 1024 * 1024;
    return DsaPointerIsValid(e.graph) && slot.log_end_hint >= slot.snapshot_position + threshold;
}

// Starts a writer for `task` and waits until it has finished.
void run_writer(const WriterTask& task)
{
    BackgroundWorker worker;
    lhv_describe_worker(&worker, "lhv_snapshot_writer_main",
                        BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION,
                        BgWorkerStart_RecoveryFinished, BGW_NEVER_RESTART, "lhv snapshot writer",
                        "lhv snapshot writer for index %u", task.index);
    memcpy(worker.bgw_extra, &task, sizeof(task));
    (void)lhv_run_worker(&worker, "a snapshot");
}

// One round: a writer for each graph due a snapshot.
void launcher_round()
{
    int n = 0;
    RegistrySlotInfo* slots = lhv::pg::lhv_guard([&] { return lhv::pg::registry_list_palloc(InvalidOid, &n); });
    for (int i = 0; i < n; i++) {
        if (!snapshot_due(slots[i]))
            continue;
        WriterTask task = {slots[i].entry.database, slots[i].entry.index};
        run_writer(task);
        CHECK_FOR_INTERRUPTS();
    }
    pfree(slots);
}

// Opens `relid` if it is still an lhv index; NULL otherwise.
Relation open_lhv_index(Oid relid)
{
    Relation rel = try_relation_open(relid, AccessShareLock);
    if (rel == NULL)
        return NULL;
    if (rel->rd_rel->relkind != RELKIND_INDEX || rel->rd_rel->relam != get_index_am_oid("lhv", true)) {
        relation_close(rel, AccessShareLock);
        return NULL;
    }
    return rel;
}

}  // namespace

void lhv_snapshot_worker_register(void)
{
    BackgroundWorker worker;
    lhv_describe_worker(&worker, "lhv_snapshot_launcher_main", BGWORKER_SHMEM_ACCESS,
                        BgWorkerStart_RecoveryFinished, 10, "lhv snapshot launcher", "lhv snapshot launcher");
    RegisterBackgroundWorker(&worker);
}

void lhv_snapshot_launcher_main(Datum arg)
{
    (void)arg;
    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    // A shutdown ends the loop quietly rather than with a FATAL.
    pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
    BackgroundWorkerUnblockSignals();
    while (!ShutdownRequestPending) {
        (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
                        long(lhv_snapshot_naptime_s) * 1000L, PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
        CHECK_FOR_INTERRUPTS();
        if (ConfigReloadPending) {
            ConfigReloadPending = false;
            ProcessConfigFile(PGC_SIGHUP);
        }
        if (!ShutdownRequestPending)
            launcher_round();
    }
    proc_exit(0);
}

void lhv_snapshot_writer_main(Datum arg)
{
    (void)arg;
    pqsignal(SIGTERM, die);
    BackgroundWorkerUnblockSignals();
    WriterTask task;
    memcpy(&task, MyBgworkerEntry->bgw_extra, sizeof(task));
    BackgroundWorkerInitializeConnectionByOid(task.database, InvalidOid, 0);

    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    PushActiveSnapshot(GetTransactionSnapshot());
    pgstat_report_activity(STATE_RUNNING, "lhv: writing a snapshot");
    Relation index = open_lhv_index(task.index);
    bool written = false;
    if (index != NULL) {
        Size bytes;
        uint64 position;
        written = lhv_graph_write_snapshot(index, &bytes, &position);
        if (!written) {
            // No vector left: nothing to save; stop asking.
            RegistryEntry entry;
            if (lhv::pg::lhv_guard([&] { return lhv::pg::registry_lookup(task.database, task.index, &entry); }))
                lhv::pg::registry_set_needs_snapshot(entry, false);
        }
        relation_close(index, AccessShareLock);
    }
    PopActiveSnapshot();
    CommitTransactionCommand();

    // Now that the snapshot is committed, the log it covers can go.
    if (written) {
        StartTransactionCommand();
        PushActiveSnapshot(GetTransactionSnapshot());
        pgstat_report_activity(STATE_RUNNING, "lhv: reclaiming the change log");
        index = open_lhv_index(task.index);
        if (index != NULL) {
            lhv_graph_reclaim_log(index);
            relation_close(index, AccessShareLock);
        }
        PopActiveSnapshot();
        CommitTransactionCommand();
    }
    pgstat_report_activity(STATE_IDLE, NULL);
}
