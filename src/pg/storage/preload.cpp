// preload.cpp: the preload worker and its per-database loaders (preload.h).
extern "C" {
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_class.h"
#include "catalog/pg_database.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

PGDLLEXPORT void lhv_preload_main(Datum arg);
PGDLLEXPORT void lhv_preload_database_main(Datum arg);
}

#include "am/index_graph.h"
#include "lhv_config.h"
#include "storage/background.h"
#include "storage/preload.h"

namespace {

// The databases a loader can connect to, in a palloc'd array.
Oid* list_databases(int* count)
{
    *count = 0;
    int capacity = 16;
    Oid* databases = static_cast<Oid*>(palloc(sizeof(Oid) * capacity));
    StartTransactionCommand();
    (void)GetTransactionSnapshot();
    Relation rel = table_open(DatabaseRelationId, AccessShareLock);
    TableScanDesc scan = table_beginscan_catalog(rel, 0, NULL);
    HeapTuple tuple;
    while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL) {
        Form_pg_database db = reinterpret_cast<Form_pg_database>(GETSTRUCT(tuple));
        // A worker connected to a template would make CREATE DATABASE fail.
        if (db->datistemplate || !db->datallowconn || database_is_invalid_form(db))
            continue;
        if (*count == capacity) {
            capacity *= 2;
            databases = static_cast<Oid*>(repalloc(databases, sizeof(Oid) * capacity));
        }
        databases[(*count)++] = db->oid;
    }
    table_endscan(scan);
    table_close(rel, AccessShareLock);
    CommitTransactionCommand();
    return databases;
}

// The lhv indexes of this database that queries may use (valid, not
// temporary), in a palloc'd array in `context`.
Oid* list_indexes(Oid am, MemoryContext context, int* count)
{
    *count = 0;
    int capacity = 16;
    Oid* indexes = static_cast<Oid*>(MemoryContextAlloc(context, sizeof(Oid) * capacity));
    Relation rel = table_open(RelationRelationId, AccessShareLock);
    TableScanDesc scan = table_beginscan_catalog(rel, 0, NULL);
    HeapTuple tuple;
    while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL) {
        Form_pg_class c = reinterpret_cast<Form_pg_class>(GETSTRUCT(tuple));
        if (c->relkind != RELKIND_INDEX || c->relam != am || c->relpersistence == RELPERSISTENCE_TEMP)
            continue;
        // A hot standby cannot read unlogged relations.
        if (c->relpersistence == RELPERSISTENCE_UNLOGGED && RecoveryInProgress())
            continue;
        if (*count == capacity) {
            capacity *= 2;
            indexes = static_cast<Oid*>(repalloc(indexes, sizeof(Oid) * capacity));
        }
        indexes[(*count)++] = c->oid;
    }
    table_endscan(scan);
    table_close(rel, AccessShareLock);
    return indexes;
}

// True while a loader loads a graph.
volatile sig_atomic_t loading = false;

// SIGTERM in a loader: a shutdown. Cancels the load under way, if any (its
// abort frees the registry slot, as for any cancelled load), and makes the
// loader exit quietly, rather than with the FATAL that die() reports.
void handle_shutdown(SIGNAL_ARGS)
{
    ShutdownRequestPending = true;
    if (loading) {
        StatementCancelHandler(postgres_signal_arg);
    } else {
        int saved_errno = errno;
        SetLatch(MyLatch);
        errno = saved_errno;
    }
}

// Says which index a preload error is about.
void preload_error_context(void* arg)
{
    errcontext("lhv preload of index %u", *static_cast<Oid*>(arg));
}

// Loads the graph of `index_oid` in its own transaction, if it is still a
// valid lhv index. Returns true if its graph is in memory afterwards; an
// error is reported to the server log and gives false.
bool preload_index(Oid index_oid, Oid am)
{
    MemoryContext context = CurrentMemoryContext;
    volatile bool loaded = false;
    ErrorContextCallback callback;
    callback.callback = preload_error_context;
    callback.arg = &index_oid;
    callback.previous = error_context_stack;
    error_context_stack = &callback;
    PG_TRY();
    {
        StartTransactionCommand();
        PushActiveSnapshot(GetTransactionSnapshot());
        Relation index = try_relation_open(index_oid, AccessShareLock);
        if (index != NULL) {
            if (index->rd_rel->relkind == RELKIND_INDEX && index->rd_rel->relam == am &&
                index->rd_index->indisvalid) {
                pgstat_report_activity(STATE_RUNNING, "lhv: preloading a graph");
                loading = true;
                if (!ShutdownRequestPending) {
                    LhvGraphRef ref;
                    (void)lhv_graph_open(index, &ref);
                    loaded = true;
                }
                loading = false;
            }
            relation_close(index, AccessShareLock);
        }
        PopActiveSnapshot();
        CommitTransactionCommand();
    }
    PG_CATCH();
    {
        // Report it (unless it is the cancel of a shutdown), and go on with
        // the next index.
        loading = false;
        MemoryContextSwitchTo(context);
        HOLD_INTERRUPTS();
        if (!ShutdownRequestPending)
            EmitErrorReport();
        AbortOutOfAnyTransaction();
        FlushErrorState();
        RESUME_INTERRUPTS();
        loaded = false;
    }
    PG_END_TRY();
    error_context_stack = callback.previous;
    pgstat_report_activity(STATE_IDLE, NULL);
    return loaded;
}

// Runs a loader in `database` and waits for it.
void preload_database(Oid database)
{
    BackgroundWorker worker;
    lhv_describe_worker(&worker, "lhv_preload_database_main",
                        BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION,
                        BgWorkerStart_ConsistentState, BGW_NEVER_RESTART, "lhv preload",
                        "lhv preload for database %u", database);
    worker.bgw_main_arg = ObjectIdGetDatum(database);
    (void)lhv_run_worker(&worker, "lhv preload");
}

}  // namespace

void lhv_preload_register(void)
{
    if (!lhv_preload)
        return;
    // Once per server start: not again after a crash re-initialised memory.
    BackgroundWorker worker;
    lhv_describe_worker(&worker, "lhv_preload_main", BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION,
                        BgWorkerStart_ConsistentState, BGW_NEVER_RESTART, "lhv preload", "lhv preload");
    RegisterBackgroundWorker(&worker);
}

void lhv_preload_main(Datum arg)
{
    (void)arg;
    // A shutdown stops the round quietly rather than with a FATAL.
    pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
    BackgroundWorkerUnblockSignals();
    // Connected to no database: only the shared catalogs (pg_database).
    BackgroundWorkerInitializeConnection(NULL, NULL, 0);
    int count = 0;
    Oid* databases = list_databases(&count);
    for (int i = 0; i < count && !ShutdownRequestPending; i++)
        preload_database(databases[i]);
    pfree(databases);
    proc_exit(0);
}

void lhv_preload_database_main(Datum arg)
{
    pqsignal(SIGTERM, handle_shutdown);
    BackgroundWorkerUnblockSignals();
    Oid database = DatumGetObjectId(arg);
    BackgroundWorkerInitializeConnectionByOid(database, InvalidOid, 0);

    TimestampTz started = GetCurrentTimestamp();
    StartTransactionCommand();
    (void)GetTransactionSnapshot();
    Oid am = get_index_am_oid("lhv", true);  // InvalidOid: lhv is not installed here
    int count = 0;
    Oid* indexes = OidIsValid(am) ? list_indexes(am, TopMemoryContext, &count) : NULL;
    char* name = get_database_name(database);
    name = name ? MemoryContextStrdup(TopMemoryContext, name) : NULL;
    CommitTransactionCommand();

    int loaded = 0;
    for (int i = 0; i < count && !ShutdownRequestPending; i++)
        if (preload_index(indexes[i], am))
            loaded++;
    if (count > 0 && !ShutdownRequestPending) {
        long seconds;
        int microseconds;
        TimestampDifference(started, GetCurrentTimestamp(), &seconds, &microseconds);
        ereport(LOG, (errmsg("lhv: preloaded the graphs of %d of %d lhv indexes in database \"%s\" in %ld.%03d s",
                             loaded, count, name ? name : "?", seconds, microseconds / 1000)));
    }
    proc_exit(0);
}
