// named_create.cpp: lhv_create(name, dimension, distance, m, ef_search,
// ef_construction), which makes a named index: a catalog row, the data table
// lhv_data."<name>" and its lhv index, owned by the calling role. lhv_import
// (named_import.cpp) makes one the same way, filling the table before its
// index is created (lhv_named_create).
//
// Why C: the data tables live in a schema where ordinary roles cannot create
// anything, and the catalog table is not writable by them either, yet the
// new table must belong to the role that called lhv_create. A SECURITY
// DEFINER function cannot know its caller (current_user is the definer), so
// this function runs as its caller, records GetUserId(), and switches to the
// extension's owner only around the SPI statements it composes itself (no
// user-supplied SQL or object runs while switched), then hands the table to
// the caller with ALTER TABLE ... OWNER TO.
//
// Plain PostgreSQL-style code: it ereports directly and holds no C++ object,
// so no destructor is ever skipped by a longjmp.
extern "C" {
#include "postgres.h"

#include "catalog/pg_type.h"
#include "catalog/namespace.h"
#include "commands/extension.h"
#include "common/md5.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

PG_FUNCTION_INFO_V1(lhv_create);
}

#include <cstring>

#include "api/named.h"

// Raises 22023 unless `name` is a valid named-index name.
static void lhv_named_check_name(const char* name)
{
    size_t length = strlen(name);
    bool ok = length >= 1 && length <= LHV_NAMED_NAME_MAX;
    for (size_t i = 0; ok && i < length; i++) {
        char c = name[i];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '_' || c == '-' || c == '.';
    }
    if (!ok)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("invalid named index name \"%s\"", name),
                        errdetail("A name is 1 to %d characters from letters, digits, '_', '-' and '.'.",
                                  LHV_NAMED_NAME_MAX)));
}

// Raises 22023 unless lo <= value <= hi.
static void lhv_named_check_range(const char* what, int value, int lo, int hi)
{
    if (value < lo || value > hi)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("%s must be between %d and %d, not %d", what, lo, hi, value)));
}

// Raises 22004 if argument `n` (called `what`) is NULL.
static void lhv_named_require(FunctionCallInfo fcinfo, int n, const char* what)
{
    if (PG_ARGISNULL(n))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s must not be NULL", what)));
}

// Runs one statement composed here, failing loudly on an SPI error code.
static void lhv_named_spi(const char* sql, int expected)
{
    int rc = SPI_execute(sql, false, 0);
    if (rc != expected)
        elog(ERROR, "lhv: \"%s\" failed: %s", sql, SPI_result_code_string(rc));
}

// The operator class of a distance, or NULL if there is no such distance.
static const char* lhv_named_opclass(const char* distance)
{
    if (strcmp(distance, "cosine") == 0)
        return "lhv_cosine_ops";
    if (strcmp(distance, "euclidean") == 0)
        return "lhv_l2_ops";
    if (strcmp(distance, "inner_product") == 0)
        return "lhv_ip_ops";
    return NULL;
}

void lhv_named_check_spec(const LhvNamedSpec* spec)
{
    lhv_named_check_name(spec->name);
    lhv_named_check_range("dimension", spec->dimension, LHV_NAMED_DIMENSION_MIN, LHV_NAMED_DIMENSION_MAX);
    if (lhv_named_opclass(spec->distance) == NULL)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("unknown distance \"%s\"", spec->distance),
                        errhint("Use 'cosine', 'euclidean' or 'inner_product'.")));
    lhv_named_check_range("m", spec->m, LHV_M_MIN, LHV_M_MAX);
    lhv_named_check_range("ef_search", spec->ef_search, LHV_EF_SEARCH_MIN, LHV_EF_SEARCH_MAX);
    lhv_named_check_range("ef_construction", spec->ef_construction, LHV_EF_CONSTRUCTION_MIN,
                          LHV_EF_CONSTRUCTION_MAX);
}

extern "C" Datum lhv_create(PG_FUNCTION_ARGS)
{
    lhv_named_require(fcinfo, 0, "name");
    lhv_named_require(fcinfo, 1, "dimension");
    lhv_named_require(fcinfo, 2, "distance");
    lhv_named_require(fcinfo, 3, "m");
    lhv_named_require(fcinfo, 4, "ef_search");
    lhv_named_require(fcinfo, 5, "ef_construction");

    LhvNamedSpec spec;
    spec.name = text_to_cstring(PG_GETARG_TEXT_PP(0));
    spec.dimension = PG_GETARG_INT32(1);
    spec.distance = text_to_cstring(PG_GETARG_TEXT_PP(2));
    spec.m = PG_GETARG_INT32(3);
    spec.ef_search = PG_GETARG_INT32(4);
    spec.ef_construction = PG_GETARG_INT32(5);
    lhv_named_check_spec(&spec);
    lhv_named_create(get_func_namespace(fcinfo->flinfo->fn_oid), &spec, NULL, NULL);
    PG_RETURN_VOID();
}

void lhv_named_create(Oid ext_schema, const LhvNamedSpec* spec, LhvNamedFill fill, void* fill_arg)
{
    const char* name = spec->name;
    const char* opclass = lhv_named_opclass(spec->distance);
    if (opclass == NULL)
        elog(ERROR, "lhv: unknown distance \"%s\"", spec->distance);  // checked by lhv_named_check_spec

    // Who asked, and who owns the extension (and so its schemas and catalog).
    Oid caller = GetUserId();
    Oid extension = get_extension_oid("lhv", false);
    const char* schema = quote_identifier(get_namespace_name(ext_schema));
    const char* table = quote_identifier(name);
    const char* owner_name = quote_identifier(GetUserNameFromId(caller, false));

    // The data table's index and key get names no valid index name can take
    // ('#' is not allowed in one), unique per name even when it is 63
    // characters long: "<kind>#<md5 of the name>".
    char hash[33];
    const char* md5_error = NULL;
    if (!pg_md5_hash(name, strlen(name), hash, &md5_error))
        elog(ERROR, "lhv: md5 failed: %s", md5_error ? md5_error : "unknown error");

    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "lhv: SPI_connect failed");

    StringInfoData sql;
    initStringInfo(&sql);
    appendStringInfo(&sql, "SELECT e.extowner FROM pg_catalog.pg_extension e WHERE e.oid = %u", extension);
    lhv_named_spi(sql.data, SPI_OK_SELECT);
    if (SPI_processed != 1)
        elog(ERROR, "lhv: extension lhv not found");
    bool isnull;
    Oid ext_owner = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

    // From here to the end, run as the extension's owner. An error rolls the
    // (sub)transaction back, which restores the caller's identity too.
    Oid saved_user;
    int saved_context;
    GetUserIdAndSecContext(&saved_user, &saved_context);
    SetUserIdAndSecContext(ext_owner,
                           saved_context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);

    // A catalog row whose table is gone (possible only if the drop event
    // trigger was disabled) must not block the name.
    resetStringInfo(&sql);
    appendStringInfo(&sql,
                     "DELETE FROM %s." LHV_NAMED_CATALOG " c WHERE c.name = %s"
                     " AND pg_catalog.to_regclass(%s) IS NULL",
                     schema, quote_literal_cstr(name),
                     quote_literal_cstr(psprintf(LHV_NAMED_DATA_SCHEMA ".%s", table)));
    lhv_named_spi(sql.data, SPI_OK_DELETE);

    // The catalog row first: a concurrent lhv_create of the same name waits
    // here for this one to commit or roll back.
    resetStringInfo(&sql);
    appendStringInfo(&sql,
                     "INSERT INTO %s." LHV_NAMED_CATALOG
                     " (name, dimension, distance, m, ef_search, ef_construction)"
                     " VALUES (%s, %d, %s, %d, %d, %d) ON CONFLICT (name) DO NOTHING",
                     schema, quote_literal_cstr(name), spec->dimension, quote_literal_cstr(spec->distance),
                     spec->m, spec->ef_search, spec->ef_construction);
    lhv_named_spi(sql.data, SPI_OK_INSERT);
    if (SPI_processed != 1) {
        SetUserIdAndSecContext(saved_user, saved_context);
        ereport(ERROR, (errcode(ERRCODE_DUPLICATE_OBJECT),
                        errmsg("named index \"%s\" already exists", name)));
    }

    // The data table. The CHECKs hold direct writes to what lhv_add checks.
    resetStringInfo(&sql);
    appendStringInfo(&sql,
                     "CREATE TABLE " LHV_NAMED_DATA_SCHEMA ".%s ("
                     " id text NOT NULL CONSTRAINT \"key#%s\" PRIMARY KEY"
                     "  CONSTRAINT \"id#%s\" CHECK (id OPERATOR(pg_catalog.<>) ''),"
                     " embedding real[] NOT NULL CONSTRAINT \"dimension#%s\" CHECK ("
                     "  pg_catalog.array_ndims(embedding) OPERATOR(pg_catalog.=) 1 AND"
                     "  pg_catalog.array_length(embedding, 1) OPERATOR(pg_catalog.=) %d),"
                     " metadata jsonb)",
                     table, hash, hash, hash, spec->dimension);
    lhv_named_spi(sql.data, SPI_OK_UTILITY);
    resetStringInfo(&sql);
    appendStringInfo(&sql, "ALTER TABLE " LHV_NAMED_DATA_SCHEMA ".%s ALTER COLUMN embedding SET STORAGE %s", table,
                     spec->dimension <= LHV_NAMED_PLAIN_DIMENSION_MAX ? "PLAIN" : "EXTERNAL");
    lhv_named_spi(sql.data, SPI_OK_UTILITY);

    // Rows go in before the index exists (lhv_import: the index build then
    // takes over their graph instead of building one).
    if (fill != NULL) {
        Oid data_schema = get_namespace_oid(LHV_NAMED_DATA_SCHEMA, false);
        Oid table_oid = get_relname_relid(name, data_schema);
        if (!OidIsValid(table_oid))
            elog(ERROR, "lhv: the table of named index \"%s\" vanished", name);
        fill(table_oid, fill_arg);
    }

    resetStringInfo(&sql);
    appendStringInfo(&sql,
                     "CREATE INDEX \"lhv#%s\" ON " LHV_NAMED_DATA_SCHEMA ".%s USING lhv"
                     " (embedding %s.%s) WITH (m = %d, ef_construction = %d)",
                     hash, table, schema, opclass, spec->m, spec->ef_construction);
    lhv_named_spi(sql.data, SPI_OK_UTILITY);

    resetStringInfo(&sql);
    appendStringInfo(&sql,
                     "COMMENT ON TABLE " LHV_NAMED_DATA_SCHEMA ".%s IS %s", table,
                     quote_literal_cstr(psprintf("lhv named index %s (see lhv_info)", name)));
    lhv_named_spi(sql.data, SPI_OK_UTILITY);

    resetStringInfo(&sql);
    appendStringInfo(&sql, "ALTER TABLE " LHV_NAMED_DATA_SCHEMA ".%s OWNER TO %s", table, owner_name);
    lhv_named_spi(sql.data, SPI_OK_UTILITY);

    SetUserIdAndSecContext(saved_user, saved_context);
    SPI_finish();
}
