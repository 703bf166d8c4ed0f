// snapshot_store.cpp: reading and writing lhv_snapshot rows through SPI
// (snapshot_store.h).
extern "C" {
#include "postgres.h"

#include "access/detoast.h"
#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "commands/defrem.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
}

#include "lhv_config.h"
#include "storage/snapshot_store.h"

namespace {

// Where lhv's catalog table is, and who owns it.
struct SnapshotTable {
    Oid relid;        // InvalidOid when the extension (or the table) is gone
    Oid owner;
    const char* qualified_name;  // "schema.lhv_snapshot", quoted
};

SnapshotTable find_table()
{
    SnapshotTable table = {InvalidOid, InvalidOid, NULL};
    // The extension's schema is that of its access method's handler.
    Oid am = get_index_am_oid("lhv", true);
    if (!OidIsValid(am))
        return table;
    HeapTuple am_tuple = SearchSysCache1(AMOID, ObjectIdGetDatum(am));
    if (!HeapTupleIsValid(am_tuple))
        return table;
    Oid handler = ((Form_pg_am)GETSTRUCT(am_tuple))->amhandler;
    ReleaseSysCache(am_tuple);
    Oid schema = get_func_namespace(handler);
    if (!OidIsValid(schema))
        return table;
    table.relid = get_relname_relid(LHV_SNAPSHOT_TABLE, schema);
    if (!OidIsValid(table.relid))
        return table;
    HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(table.relid));
    if (!HeapTupleIsValid(tuple)) {
        table.relid = InvalidOid;
        return table;
    }
    table.owner = ((Form_pg_class)GETSTRUCT(tuple))->relowner;
    ReleaseSysCache(tuple);
    table.qualified_name = quote_qualified_identifier(get_namespace_name(schema), LHV_SNAPSHOT_TABLE);
    return table;
}

SnapshotTable require_table()
{
    SnapshotTable table = find_table();
    if (!OidIsValid(table.relid))
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                        errmsg("lhv's catalog table %s is missing", LHV_SNAPSHOT_TABLE),
                        errhint("Run CREATE EXTENSION lhv in this database.")));
    return table;
}

// SPI as the table's owner, with a search_path that no user controls.
// Errors inside are fine: aborting the (sub)transaction restores the user
// and the GUCs.
struct SpiSession {
    Oid saved_user;
    int saved_context;
    int guc_level;
};

SpiSession spi_begin(const SnapshotTable& table)
{
    SpiSession session;
    GetUserIdAndSecContext(&session.saved_user, &session.saved_context);
    SetUserIdAndSecContext(table.owner, session.saved_context | SECURITY_LOCAL_USERID_CHANGE |
                                            SECURITY_RESTRICTED_OPERATION);
    session.guc_level = NewGUCNestLevel();
    set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
                      GUC_ACTION_SAVE, true, 0, false);
    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "lhv: SPI_connect failed");
    return session;
}

void spi_end(const SpiSession& session)
{
    SPI_finish();
    AtEOXact_GUC(true, session.guc_level);
    SetUserIdAndSecContext(session.saved_user, session.saved_context);
}

// Runs a statement that must succeed with `expected`.
void spi_run(const char* sql, int nargs, Oid* types, Datum* values, int expected)
{
    int rc = SPI_execute_with_args(sql, nargs, types, values, NULL, false, 0);
    if (rc != expected)
        elog(ERROR, "lhv: snapshot statement failed (%s): %s", SPI_result_code_string(rc), sql);
}

// Runs an INSERT of large values with a generic plan: a custom plan would
// fold the parameters into constants, copying every part once more.
void spi_run_generic(const char* sql, int nargs, Oid* types, Datum* values, int expected)
{
    SPIPlanPtr plan = SPI_prepare_cursor(sql, nargs, types, CURSOR_OPT_GENERIC_PLAN);
    if (plan == NULL)
        elog(ERROR, "lhv: could not prepare a snapshot statement (%s): %s",
             SPI_result_code_string(SPI_result), sql);
    int rc = SPI_execute_plan(plan, values, NULL, false, 0);
    if (rc != expected)
        elog(ERROR, "lhv: snapshot statement failed (%s): %s", SPI_result_code_string(rc), sql);
    SPI_freeplan(plan);
}

// Runs a SELECT against the latest committed state, not the transaction's
// snapshot: a REPEATABLE READ transaction must still load the newest
// snapshot, since the log below it may already be reclaimed.
void spi_select_latest(const char* sql, int nargs, Oid* types, Datum* values)
{
    SPIPlanPtr plan = SPI_prepare(sql, nargs, types);
    if (plan == NULL)
        elog(ERROR, "lhv: could not prepare a snapshot query (%s): %s", SPI_result_code_string(SPI_result), sql);
    int rc = SPI_execute_snapshot(plan, values, NULL, GetLatestSnapshot(), InvalidSnapshot, true, false, 0);
    if (rc != SPI_OK_SELECT)
        elog(ERROR, "lhv: snapshot query failed (%s): %s", SPI_result_code_string(rc), sql);
    SPI_freeplan(plan);
}

}  // namespace

void lhv_snapshot_store(Relation index, uint64 log_id, uint64 position, const LhvSnapshotParts& snapshot)
{
    SnapshotTable table = require_table();
    // One writer per index at a time, until it commits.
    LockDatabaseObject(table.relid, RelationGetRelid(index), 0, ExclusiveLock);

    SpiSession session = spi_begin(table);
    Oid key_types[1] = {INT8OID};
    Datum key[1] = {Int64GetDatum(int64(log_id))};

    // The next snapshot number of this log.
    char* sql = psprintf("SELECT coalesce(max(snapshot_no), 0) + 1 FROM %s WHERE log_id = $1",
                         table.qualified_name);
    spi_run(sql, 1, key_types, key, SPI_OK_SELECT);
    bool isnull;
    int64 number = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

    int parts = snapshot.count;
    sql = psprintf("INSERT INTO %s (log_id, snapshot_no, part, parts, index_oid, position, data) "
                   "VALUES ($1, $2, $3, $4, $5, $6, $7)",
                   table.qualified_name);
    Oid types[7] = {INT8OID, INT8OID, INT4OID, INT4OID, OIDOID, INT8OID, BYTEAOID};
    for (int part = 0; part < parts; part++) {
        Datum values[7] = {Int64GetDatum(int64(log_id)), Int64GetDatum(number), Int32GetDatum(part),
                           Int32GetDatum(parts), ObjectIdGetDatum(RelationGetRelid(index)),
                           Int64GetDatum(int64(position)), PointerGetDatum(snapshot.parts[part])};
        spi_run_generic(sql, 7, types, values, SPI_OK_INSERT);
    }

    // Older snapshots of this log, and those of the index's earlier logs.
    sql = psprintf("DELETE FROM %s WHERE (log_id = $1 AND snapshot_no < $2) OR (index_oid = $3 AND log_id <> $1)",
                   table.qualified_name);
    Oid delete_types[3] = {INT8OID, INT8OID, OIDOID};
    Datum delete_values[3] = {Int64GetDatum(int64(log_id)), Int64GetDatum(number),
                              ObjectIdGetDatum(RelationGetRelid(index))};
    spi_run(sql, 3, delete_types, delete_values, SPI_OK_DELETE);
    // Those of indexes dropped without a clean-up (DROP INDEX CONCURRENTLY).
    sql = psprintf("DELETE FROM %s s WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_class c "
                   "WHERE c.oid OPERATOR(pg_catalog.=) s.index_oid)",
                   table.qualified_name);
    spi_run(sql, 0, NULL, NULL, SPI_OK_DELETE);
    spi_end(session);
}

bool lhv_snapshot_find(uint64 log_id, LhvSnapshotRef* ref)
{
    SnapshotTable table = find_table();
    if (!OidIsValid(table.relid))
        return false;
    MemoryContext caller = CurrentMemoryContext;
    SpiSession session = spi_begin(table);
    char* sql = psprintf("SELECT part, parts, position, data FROM %s WHERE log_id = $1 AND snapshot_no = "
                         "(SELECT max(snapshot_no) FROM %s WHERE log_id = $1) ORDER BY part",
                         table.qualified_name, table.qualified_name);
    Oid types[1] = {INT8OID};
    Datum values[1] = {Int64GetDatum(int64(log_id))};
    spi_select_latest(sql, 1, types, values);

    bool found = false;
    uint64 rows = SPI_processed;
    if (rows > 0) {
        TupleDesc desc = SPI_tuptable->tupdesc;
        bool isnull;
        int parts = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], desc, 2, &isnull));
        bool complete = uint64(parts) == rows;
        for (uint64 i = 0; complete && i < rows; i++)
            complete = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i], desc, 1, &isnull)) == int(i);
        if (!complete) {
            ereport(WARNING, (errmsg("lhv: the newest snapshot of log %llu has missing parts",
                                     (unsigned long long)log_id)));
        } else {
            MemoryContext old = MemoryContextSwitchTo(caller);
            ref->position = uint64(DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], desc, 3, &isnull)));
            ref->count = int(rows);
            ref->parts = static_cast<struct varlena**>(palloc(sizeof(struct varlena*) * rows));
            ref->total = 0;
            for (uint64 i = 0; i < rows; i++) {
                struct varlena* value =
                    reinterpret_cast<struct varlena*>(DatumGetPointer(SPI_getbinval(SPI_tuptable->vals[i], desc, 4, &isnull)));
                bool sliceable = false;
                if (VARATT_IS_EXTERNAL_ONDISK(value)) {
                    struct varatt_external pointer;
                    VARATT_EXTERNAL_GET_POINTER(pointer, value);
                    // Uncompressed (VARATT_EXTERNAL_IS_COMPRESSED, without
                    // its signed/unsigned comparison).
                    sliceable = int64(VARATT_EXTERNAL_GET_EXTSIZE(pointer)) == int64(pointer.va_rawsize) - VARHDRSZ;
                }
                // The pointer is copied out of SPI's memory; anything else is
                // read whole now (lhv_snapshot stores parts uncompressed and
                // out of line, so this is only ever a small last part).
                ref->parts[i] = sliceable ? reinterpret_cast<struct varlena*>(
                                                DatumGetPointer(datumCopy(PointerGetDatum(value), false, -1)))
                                          : pg_detoast_datum_copy(value);
                ref->total += toast_raw_datum_size(PointerGetDatum(value)) - VARHDRSZ;
            }
            MemoryContextSwitchTo(old);
            found = true;
        }
    }
    spi_end(session);
    return found;
}

int64 lhv_snapshot_latest_position(uint64 log_id)
{
    SnapshotTable table = find_table();
    if (!OidIsValid(table.relid))
        return -1;
    SpiSession session = spi_begin(table);
    char* sql = psprintf("SELECT position FROM %s WHERE log_id = $1 ORDER BY snapshot_no DESC LIMIT 1",
                         table.qualified_name);
    Oid types[1] = {INT8OID};
    Datum values[1] = {Int64GetDatum(int64(log_id))};
    spi_select_latest(sql, 1, types, values);
    int64 position = -1;
    if (SPI_processed > 0) {
        bool isnull;
        position = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    }
    spi_end(session);
    return position;
}

void lhv_snapshot_forget(uint64 log_id)
{
    SnapshotTable table = find_table();
    if (!OidIsValid(table.relid))
        return;
    SpiSession session = spi_begin(table);
    char* sql = psprintf("DELETE FROM %s WHERE log_id = $1", table.qualified_name);
    Oid types[1] = {INT8OID};
    Datum values[1] = {Int64GetDatum(int64(log_id))};
    spi_run(sql, 1, types, values, SPI_OK_DELETE);
    spi_end(session);
}

void lhv_snapshot_forget_other_logs(Relation index, uint64 log_id)
{
    SnapshotTable table = find_table();
    if (!OidIsValid(table.relid))
        return;
    SpiSession session = spi_begin(table);
    char* sql = psprintf("DELETE FROM %s WHERE index_oid = $1 AND log_id <> $2", table.qualified_name);
    Oid types[2] = {OIDOID, INT8OID};
    Datum values[2] = {ObjectIdGetDatum(RelationGetRelid(index)), Int64GetDatum(int64(log_id))};
    spi_run(sql, 2, types, values, SPI_OK_DELETE);
    spi_end(session);
}
