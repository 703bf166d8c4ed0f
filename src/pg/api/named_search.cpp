// named_search.cpp: lhv_search(name, query, k, ef_search), the hot path of
// named indexes, in C so that no statement is parsed or planned per call.
//
// In the common case it scans the lhv index directly, with no SPI at all
// (named_search_direct.cpp). Otherwise (column grants, row-level security, a
// table changed by hand) it runs, through SPI and as its caller, the catalog
// query and then
//   SELECT t.id, t.embedding <op> $1, t.metadata FROM lhv_data."<name>" t
//   ORDER BY t.embedding <op> $1 LIMIT <k>
// both kept per backend (named_plans.cpp): the search once per (table,
// operator, k), as a generic plan. LIMIT is a constant in the text, so the
// planner sees it and uses the lhv index; the query vector is $1.
//
// lhv.ef_search is set for the search only (max(ef_search, k), at most 1000)
// inside a GUC nest level that ends with the call; an error unwinds it with
// the (sub)transaction.
//
// Plain PostgreSQL-style code: it ereports directly and holds no C++ object.
extern "C" {
#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"

PG_FUNCTION_INFO_V1(lhv_named_search);
}

#include <cstdio>

#include "api/named.h"

// lhv_named_search(name text, query anyarray, k int, ef_search int)
//   -> TABLE(id text, distance float8, metadata jsonb)
extern "C" Datum lhv_named_search(PG_FUNCTION_ARGS)
{
    if (PG_ARGISNULL(0))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                        errmsg("named index name must not be NULL")));
    text* name = PG_GETARG_TEXT_PP(0);
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

    // The common case needs no SPI (named_search_direct.cpp).
    if (lhv_named_search_direct(ext_namespace, name, PG_ARGISNULL(1) ? NULL : PG_GETARG_ARRAYTYPE_P(1),
                                get_fn_expr_argtype(fcinfo->flinfo, 1), k,
                                PG_ARGISNULL(3) ? 0 : PG_GETARG_INT32(3), rsinfo->setResult, rsinfo->setDesc))
        return (Datum)0;

    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "lhv_search: SPI_connect failed");
    LhvNamedIndex index;
    lhv_named_find(ext_namespace, name, &index);

    // The query, checked against the index.
    if (PG_ARGISNULL(1))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("query must not be NULL")));
    ArrayType* query = lhv_named_check_vector(PG_GETARG_ARRAYTYPE_P(1),
                                              get_fn_expr_argtype(fcinfo->flinfo, 1), index.dimension,
                                              index.cosine, "query");

    // As in hnswlib, a search looks at no fewer than k candidates.
    int ef = PG_ARGISNULL(3) ? index.ef_search : PG_GETARG_INT32(3);
    ef = Min(Max(ef, k), LHV_EF_SEARCH_MAX);
    char ef_text[16];
    snprintf(ef_text, sizeof ef_text, "%d", ef);
    int nest = NewGUCNestLevel();
    (void)set_config_option("lhv.ef_search", ef_text, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true,
                            0, false);

    Datum args[1] = {PointerGetDatum(query)};
    int rc = SPI_execute_plan(lhv_named_plan(ext_namespace, LHV_NAMED_SEARCH, &index, k), args, NULL, true, 0);
    if (rc != SPI_OK_SELECT)
        elog(ERROR, "lhv_search: the search failed: %s", SPI_result_code_string(rc));
    for (uint64 i = 0; i < SPI_processed; i++)
        tuplestore_puttuple(rsinfo->setResult, SPI_tuptable->vals[i]);

    AtEOXact_GUC(true, nest);
    SPI_finish();
    return (Datum)0;
}
