// named_search.cpp: lhv_search(name, query, k, ef_search), the hot path of
// named indexes, in C so that no statement is parsed or planned per call.
//
// It runs, through SPI and as its caller, the same two statements the
// plpgsql functions run: the catalog row, then
//   SELECT t.id, t.embedding <op> $1, t.metadata FROM lhv_data."<name>" t
//   ORDER BY t.embedding <op> $1 LIMIT <k>
// with every object schema-qualified, operators too (OPERATOR(schema.<->)),
// so the caller's search_path plays no part. Both are prepared once per
// backend and kept (SPI_keepplan): the catalog query once, the search once per
// (table, operator, k), as a generic plan (LIMIT is a constant in the text,
// so the planner sees it and uses the lhv index; the query vector is $1).
// The plan cache re-plans them when the table or catalog changes (DROP and
// CREATE of the same name included), and the executor checks the caller's
// privileges on every run, so GRANT/REVOKE and row-level security apply as
// for any query.
//
// lhv.ef_search is set for the search only (max(ef_search, k), at most 1000)
// inside a GUC nest level that ends with the call; an error unwinds it with
// the (sub)transaction.
//
// Plain PostgreSQL-style code: it ereports directly and holds no C++ object.
extern "C" {
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

PG_FUNCTION_INFO_V1(lhv_named_search);
}

#include <cstdio>
#include <cstring>

#include "am/lhv_am.h"
#include "api/named.h"

// More distinct (table, operator, k) plans than this and the cache starts over.
#define LHV_NAMED_SEARCH_PLANS_MAX 256

// A cached search plan's key; hashed as bytes, so always zeroed first.
struct LhvSearchPlanKey {
    Oid ext_namespace;
    int32 k;
    // The planner leaves a LIMIT past lhv.max_scan_tuples to a sort: a plan
    // made on one side of it is not reused on the other.
    bool past_scan_limit;
    char op[4];
    char name[NAMEDATALEN];
};

struct LhvSearchPlanEntry {
    LhvSearchPlanKey key;
    SPIPlanPtr plan;
};

static HTAB* lhv_search_plans = NULL;
static SPIPlanPtr lhv_lookup_plan = NULL;
static Oid lhv_lookup_plan_namespace = InvalidOid;

// The prepared catalog query for the extension in `ext_namespace`.
static SPIPlanPtr lhv_named_lookup_plan(Oid ext_namespace)
{
    if (lhv_lookup_plan != NULL && lhv_lookup_plan_namespace == ext_namespace)
        return lhv_lookup_plan;
    if (lhv_lookup_plan != NULL) {
        SPI_freeplan(lhv_lookup_plan);
        lhv_lookup_plan = NULL;
    }
    const char* schema = quote_identifier(get_namespace_name(ext_namespace));
    char* sql = psprintf("SELECT n.dimension, n.distance, n.ef_search FROM %s." LHV_NAMED_CATALOG " n"
                         " WHERE n.name OPERATOR(pg_catalog.=) $1",
                         schema);
    Oid types[1] = {TEXTOID};
    SPIPlanPtr plan = SPI_prepare(sql, 1, types);
    if (plan == NULL)
        elog(ERROR, "lhv_search: preparing the catalog query failed: %s",
             SPI_result_code_string(SPI_result));
    if (SPI_keepplan(plan) != 0)
        elog(ERROR, "lhv_search: SPI_keepplan failed");
    lhv_lookup_plan = plan;
    lhv_lookup_plan_namespace = ext_namespace;
    return plan;
}

// The prepared search of index `name` with operator `op` and LIMIT k.
static SPIPlanPtr lhv_named_search_plan(Oid ext_namespace, const char* name, const char* op, int k)
{
    if (lhv_search_plans == NULL) {
        HASHCTL ctl;
        memset(&ctl, 0, sizeof ctl);
        ctl.keysize = sizeof(LhvSearchPlanKey);
        ctl.entrysize = sizeof(LhvSearchPlanEntry);
        ctl.hcxt = TopMemoryContext;
        lhv_search_plans = hash_create("lhv named search plans", 16, &ctl,
                                       HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
    }
    LhvSearchPlanKey key;
    memset(&key, 0, sizeof key);
    key.ext_namespace = ext_namespace;
    key.k = k;
    key.past_scan_limit = k > lhv_max_scan_tuples;
    strlcpy(key.op, op, sizeof key.op);
    strlcpy(key.name, name, sizeof key.name);

    bool found;
    LhvSearchPlanEntry* entry =
        static_cast<LhvSearchPlanEntry*>(hash_search(lhv_search_plans, &key, HASH_FIND, &found));
    if (found)
        return entry->plan;

    if (hash_get_num_entries(lhv_search_plans) >= LHV_NAMED_SEARCH_PLANS_MAX) {
        HASH_SEQ_STATUS status;
        hash_seq_init(&status, lhv_search_plans);
        LhvSearchPlanEntry* old;
        while ((old = static_cast<LhvSearchPlanEntry*>(hash_seq_search(&status))) != NULL) {
            SPI_freeplan(old->plan);
            hash_search(lhv_search_plans, &old->key, HASH_REMOVE, NULL);
        }
    }

    const char* schema = quote_identifier(get_namespace_name(ext_namespace));
    char* sql = psprintf("SELECT t.id, t.embedding OPERATOR(%s.%s) $1, t.metadata"
                         " FROM " LHV_NAMED_DATA_SCHEMA ".%s t"
                         " ORDER BY t.embedding OPERATOR(%s.%s) $1 LIMIT %d",
                         schema, op, quote_identifier(name), schema, op, k);
    Oid types[1] = {FLOAT4ARRAYOID};
    SPIPlanPtr plan = SPI_prepare_cursor(sql, 1, types, CURSOR_OPT_GENERIC_PLAN);
    if (plan == NULL)
        elog(ERROR, "lhv_search: preparing the search failed: %s", SPI_result_code_string(SPI_result));
    if (SPI_keepplan(plan) != 0)
        elog(ERROR, "lhv_search: SPI_keepplan failed");
    entry = static_cast<LhvSearchPlanEntry*>(hash_search(lhv_search_plans, &key, HASH_ENTER, &found));
    entry->plan = plan;
    return plan;
}

// lhv_named_search(name text, query anyarray, k int, ef_search int)
//   -> TABLE(id text, distance float8, metadata jsonb)
extern "C" Datum lhv_named_search(PG_FUNCTION_ARGS)
{
    if (PG_ARGISNULL(0))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                        errmsg("named index name must not be NULL")));
    text* name_text = PG_GETARG_TEXT_PP(0);
    char* name = text_to_cstring(name_text);
    if (PG_ARGISNULL(2) || PG_GETARG_INT32(2) <= 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("k must be a positive integer, not %s",
                               PG_ARGISNULL(2) ? "NULL" : psprintf("%d", PG_GETARG_INT32(2)))));
    int k = PG_GETARG_INT32(2);
    if (!PG_ARGISNULL(3) &&
        (PG_GETARG_INT32(3) < LHV_EF_SEARCH_MIN || PG_GETARG_INT32(3) > LHV_EF_SEARCH_MAX))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("ef_search must be between %d and %d, not %d", LHV_EF_SEARCH_MIN,
                               LHV_EF_SEARCH_MAX, PG_GETARG_INT32(3))));

    InitMaterializedSRF(fcinfo, 0);
    ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    Oid ext_namespace = get_func_namespace(fcinfo->flinfo->fn_oid);

    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "lhv_search: SPI_connect failed");

    // The catalog row.
    Datum lookup_args[1] = {PointerGetDatum(name_text)};
    int rc = SPI_execute_plan(lhv_named_lookup_plan(ext_namespace), lookup_args, NULL, true, 1);
    if (rc != SPI_OK_SELECT)
        elog(ERROR, "lhv_search: the catalog query failed: %s", SPI_result_code_string(rc));
    if (SPI_processed == 0)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                        errmsg("named index \"%s\" does not exist", name)));
    bool isnull;
    HeapTuple row = SPI_tuptable->vals[0];
    TupleDesc desc = SPI_tuptable->tupdesc;
    int dimension = DatumGetInt32(SPI_getbinval(row, desc, 1, &isnull));
    char* distance = SPI_getvalue(row, desc, 2);
    int index_ef_search = DatumGetInt32(SPI_getbinval(row, desc, 3, &isnull));
    bool cosine = strcmp(distance, "cosine") == 0;
    const char* op = cosine ? "<=>" : strcmp(distance, "euclidean") == 0 ? "<->" : "<#>";

    // The query, checked against the index.
    if (PG_ARGISNULL(1))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("query must not be NULL")));
    ArrayType* query = lhv_named_check_vector(PG_GETARG_ARRAYTYPE_P(1),
                                              get_fn_expr_argtype(fcinfo->flinfo, 1), dimension,
                                              cosine, "query");

    // As in hnswlib, a search looks at no fewer than k candidates.
    int ef = PG_ARGISNULL(3) ? index_ef_search : PG_GETARG_INT32(3);
    ef = Min(Max(ef, k), LHV_EF_SEARCH_MAX);
    char ef_text[16];
    snprintf(ef_text, sizeof ef_text, "%d", ef);
    int nest = NewGUCNestLevel();
    (void)set_config_option("lhv.ef_search", ef_text, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true,
                            0, false);

    Datum search_args[1] = {PointerGetDatum(query)};
    rc = SPI_execute_plan(lhv_named_search_plan(ext_namespace, name, op, k), search_args, NULL, true, 0);
    if (rc != SPI_OK_SELECT)
        elog(ERROR, "lhv_search: the search failed: %s", SPI_result_code_string(rc));
    for (uint64 i = 0; i < SPI_processed; i++)
        tuplestore_puttuple(rsinfo->setResult, SPI_tuptable->vals[i]);

    AtEOXact_GUC(true, nest);
    SPI_finish();
    return (Datum)0;
}
