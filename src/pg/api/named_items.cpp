// named_items.cpp: lhv_add of one item, lhv_get and lhv_delete, in C so that
// no statement is parsed or planned per call: each runs the catalog query and
// one kept statement (named_plans.cpp) through SPI, as its caller.
//
//   lhv_named_add(name, id, vector anyarray, metadata jsonb) -> boolean
//       upsert; NULL (or JSON null) metadata keeps what is stored; true when
//       the id was new;
//   lhv_named_get(name, id) -> TABLE(vector real[], metadata jsonb)
//   lhv_named_delete(name, id) -> boolean, false when the id was absent.
//
// Errors, in this order: NULL name 22004, unknown name 42704, NULL id 22004,
// empty id 22023, then the vector's (named_input.cpp).
//
// Plain PostgreSQL-style code: it ereports directly and holds no C++ object.
extern "C" {
#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"

PG_FUNCTION_INFO_V1(lhv_named_add);
PG_FUNCTION_INFO_V1(lhv_named_get);
PG_FUNCTION_INFO_V1(lhv_named_delete);
}

#include "api/named.h"

// Connects SPI and reads the catalog row of argument 0; checks argument 1, the id.
static void lhv_named_begin(FunctionCallInfo fcinfo, LhvNamedIndex* index)
{
    if (PG_ARGISNULL(0))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                        errmsg("named index name must not be NULL")));
    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "lhv: SPI_connect failed");
    lhv_named_find(get_func_namespace(fcinfo->flinfo->fn_oid), PG_GETARG_TEXT_PP(0), index);
    if (PG_ARGISNULL(1))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("id must not be NULL")));
    if (VARSIZE_ANY_EXHDR(PG_GETARG_TEXT_PP(1)) == 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("id must not be empty")));
}

// Runs `kind` on `index` with `args`; returns SPI's result code.
static int lhv_named_run(FunctionCallInfo fcinfo, LhvNamedStatement kind, const LhvNamedIndex* index,
                         Datum* args, const char* nulls, bool read_only)
{
    SPIPlanPtr plan = lhv_named_plan(get_func_namespace(fcinfo->flinfo->fn_oid), kind, index, 0);
    return SPI_execute_plan(plan, args, nulls, read_only, 0);
}

extern "C" Datum lhv_named_add(PG_FUNCTION_ARGS)
{
    LhvNamedIndex index;
    lhv_named_begin(fcinfo, &index);
    if (PG_ARGISNULL(2))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("vector must not be NULL")));
    ArrayType* vector = lhv_named_check_vector(PG_GETARG_ARRAYTYPE_P(2),
                                               get_fn_expr_argtype(fcinfo->flinfo, 2), index.dimension,
                                               index.cosine, "vector");
    Datum args[3] = {PointerGetDatum(PG_GETARG_TEXT_PP(1)), PointerGetDatum(vector), (Datum)0};
    char nulls[3] = {' ', ' ', 'n'};
    if (!PG_ARGISNULL(3)) {
        Jsonb* metadata = PG_GETARG_JSONB_P(3);
        JsonbValue scalar;
        bool json_null = JB_ROOT_IS_SCALAR(metadata) && JsonbExtractScalar(&metadata->root, &scalar) &&
                         scalar.type == jbvNull;
        if (!json_null) {
            args[2] = JsonbPGetDatum(metadata);
            nulls[2] = ' ';
        }
    }
    int rc = lhv_named_run(fcinfo, LHV_NAMED_ADD, &index, args, nulls, false);
    if (rc != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
        elog(ERROR, "lhv_add: the upsert failed: %s", SPI_result_code_string(rc));
    bool isnull;
    bool inserted = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    SPI_finish();
    PG_RETURN_BOOL(inserted);
}

extern "C" Datum lhv_named_get(PG_FUNCTION_ARGS)
{
    InitMaterializedSRF(fcinfo, 0);
    ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    LhvNamedIndex index;
    lhv_named_begin(fcinfo, &index);
    Datum args[1] = {PointerGetDatum(PG_GETARG_TEXT_PP(1))};
    int rc = lhv_named_run(fcinfo, LHV_NAMED_GET, &index, args, NULL, true);
    if (rc != SPI_OK_SELECT)
        elog(ERROR, "lhv_get: the query failed: %s", SPI_result_code_string(rc));
    for (uint64 i = 0; i < SPI_processed; i++)
        tuplestore_puttuple(rsinfo->setResult, SPI_tuptable->vals[i]);
    SPI_finish();
    return (Datum)0;
}

extern "C" Datum lhv_named_delete(PG_FUNCTION_ARGS)
{
    LhvNamedIndex index;
    lhv_named_begin(fcinfo, &index);
    Datum args[1] = {PointerGetDatum(PG_GETARG_TEXT_PP(1))};
    int rc = lhv_named_run(fcinfo, LHV_NAMED_DELETE, &index, args, NULL, false);
    if (rc != SPI_OK_DELETE)
        elog(ERROR, "lhv_delete: the delete failed: %s", SPI_result_code_string(rc));
    bool deleted = SPI_processed > 0;
    SPI_finish();
    PG_RETURN_BOOL(deleted);
}
