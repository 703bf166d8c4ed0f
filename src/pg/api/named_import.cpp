// named_import.cpp: lhv_import(name, snapshot bytea) -> integer, which makes
// a named index from LHV1 bytes without rebuilding their graph: bytes from
// lhv_export, or an index saved by stock hnswlib behind an envelope with its
// params (then, without "labels", the ids are the graph labels in decimal).
//
// Everything is decoded and checked first (the envelope, every byte of the
// graph, ids, metadata, vectors: core/lhv1_import.h); malformed bytes give a
// class 22 error and nothing is created. Then the index is created as lhv_create does
// (lhv_named_create), with its table filled before its lhv index exists:
// one row per element not marked deleted, with the element's vector (or,
// under cosine, the vector as stored from "vectors"). The index build then
// takes over the graph, each element relabelled to its row's heap TID and
// the elements marked deleted kept as such (named_import.h), and writes its
// snapshot like any build.
//
// PostgreSQL-style code; the decoding is C++ inside lhv_guard (guard.h). The
// decoded plan lives in the C++ heap and is deleted with the memory context
// of the call, on error too.
extern "C" {
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(lhv_import);
}

#include <memory>
#include <string>
#include <vector>

#include "am/index_graph.h"
#include "api/named.h"
#include "api/named_import.h"
#include "core/errors.h"
#include "core/lhv1_codec.h"
#include "core/lhv1_import.h"
#include "guard.h"

namespace {

// What lhv_import decoded and checked before creating anything, and what it
// hands to the index build.
struct ImportPlan {
    std::unique_ptr<lhv::Lhv1Import> decoded;
    std::vector<lhv::ElementRewrite> rewrite;  // per element; TIDs set as rows go in
    LhvImportOffer offer;
};

// Memory context callback: deletes the plan (no PostgreSQL call).
void delete_plan(void* arg)
{
    delete static_cast<ImportPlan*>(arg);
}

// The named-index distance of a graph metric.
const char* distance_of(lhv::Metric metric)
{
    switch (metric) {
        case lhv::Metric::L2: return "euclidean";
        case lhv::Metric::InnerProduct: return "inner_product";
        case lhv::Metric::Cosine: return "cosine";
    }
    return "cosine";
}

// Decodes and checks a whole snapshot. C++: runs inside lhv_guard.
ImportPlan* decode_snapshot(const char* data, std::size_t size)
{
    auto plan = std::make_unique<ImportPlan>();
    plan->decoded = lhv::decode_lhv1_import(data, size);
    if (plan->decoded->ef_search > LHV_EF_SEARCH_MAX)
        throw lhv::Error(lhv::ErrorKind::InvalidParameter,
                         "lhv_import: params.ef_search is " + std::to_string(plan->decoded->ef_search) +
                             ", but a named index's is between " + std::to_string(LHV_EF_SEARCH_MIN) + " and " +
                             std::to_string(LHV_EF_SEARCH_MAX));
    // Every element starts deleted; fill_rows relabels each row's.
    plan->rewrite.assign(plan->decoded->elements, lhv::ElementRewrite{0, true});
    return plan.release();
}

// What fill_rows needs.
struct FillState {
    ImportPlan* plan;
    MemoryContext owner;  // lives as long as the plan
};

// Inserts the plan's rows into the new table and offers the graph,
// relabelled to their TIDs, to the build of its index (LhvNamedFill).
void fill_rows(Oid table, void* arg)
{
    FillState* state = static_cast<FillState*>(arg);
    ImportPlan* plan = state->plan;
    const lhv::Lhv1Import* decoded = plan->decoded.get();
    int dimension = int(decoded->params.dimension);
    const char* sql = psprintf("INSERT INTO " LHV_NAMED_DATA_SCHEMA ".%s (id, embedding, metadata)"
                               " VALUES ($1, $2, $3) RETURNING ctid",
                               quote_identifier(get_rel_name(table)));
    Oid types[3] = {TEXTOID, FLOAT4ARRAYOID, JSONBOID};
    SPIPlanPtr insert = SPI_prepare(sql, 3, types);
    if (insert == NULL)
        elog(ERROR, "lhv_import: preparing \"%s\" failed: %s", sql, SPI_result_code_string(SPI_result));

    MemoryContext row_context = AllocSetContextCreate(CurrentMemoryContext, "lhv_import row", ALLOCSET_DEFAULT_SIZES);
    Datum* components = static_cast<Datum*>(palloc(sizeof(Datum) * dimension));
    size_t count = decoded->rows.size();
    for (size_t i = 0; i < count; i++) {
        CHECK_FOR_INTERRUPTS();
        const lhv::Lhv1ImportRow& row = decoded->rows[i];
        MemoryContext old = MemoryContextSwitchTo(row_context);
        char* id = pg_any_to_server(row.id.c_str(), int(row.id.size()), PG_UTF8);
        for (int j = 0; j < dimension; j++) {
            float value;
            memcpy(&value, row.vector + 4 * size_t(j), sizeof value);
            components[j] = Float4GetDatum(value);
        }
        Datum values[3];
        char nulls[3] = {' ', ' ', 'n'};
        values[0] = PointerGetDatum(cstring_to_text(id));
        values[1] = PointerGetDatum(construct_array(components, dimension, FLOAT4OID, sizeof(float4), true,
                                                    TYPALIGN_INT));
        values[2] = (Datum)0;
        if (row.has_metadata) {
            char* metadata = pg_any_to_server(row.metadata.c_str(), int(row.metadata.size()), PG_UTF8);
            values[2] = DirectFunctionCall1(jsonb_in, CStringGetDatum(metadata));
            nulls[2] = ' ';
        }
        int rc = SPI_execute_plan(insert, values, nulls, false, 0);
        if (rc != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
            elog(ERROR, "lhv_import: inserting a row failed: %s", SPI_result_code_string(rc));
        bool isnull;
        ItemPointer tid = reinterpret_cast<ItemPointer>(
            DatumGetPointer(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)));
        plan->rewrite[row.element] = lhv::ElementRewrite{lhv_tid_to_label(tid), false};
        SPI_freetuptable(SPI_tuptable);
        MemoryContextSwitchTo(old);
        MemoryContextReset(row_context);
    }
    MemoryContextDelete(row_context);
    SPI_freeplan(insert);

    if (count == 0)
        return;  // nothing to adopt: the build makes an empty index
    plan->offer.table = table;
    plan->offer.graph_bytes = decoded->graph_bytes;
    plan->offer.graph_size = decoded->graph_size;
    plan->offer.params = decoded->params;
    plan->offer.rewrite = plan->rewrite.data();
    plan->offer.rows = int64(count);
    lhv_import_offer(&plan->offer, state->owner);
}

}  // namespace

// lhv_import(name text, snapshot bytea) -> integer, the rows imported
extern "C" Datum lhv_import(PG_FUNCTION_ARGS)
{
    if (PG_ARGISNULL(0))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("name must not be NULL")));
    if (PG_ARGISNULL(1))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("snapshot must not be NULL")));
    char* name = text_to_cstring(PG_GETARG_TEXT_PP(0));
    bytea* snapshot = PG_GETARG_BYTEA_PP(1);
    const char* data = VARDATA_ANY(snapshot);
    size_t size = VARSIZE_ANY_EXHDR(snapshot);

    MemoryContext owner = AllocSetContextCreate(CurrentMemoryContext, "lhv_import", ALLOCSET_DEFAULT_SIZES);
    MemoryContextCallback* callback =
        static_cast<MemoryContextCallback*>(MemoryContextAlloc(owner, sizeof(MemoryContextCallback)));
    ImportPlan* plan = lhv::pg::lhv_guard([&] { return decode_snapshot(data, size); });
    callback->func = delete_plan;
    callback->arg = plan;
    MemoryContextRegisterResetCallback(owner, callback);

    const lhv::Lhv1Import* decoded = plan->decoded.get();
    LhvNamedSpec spec;
    spec.name = name;
    spec.dimension = int(decoded->params.dimension);
    spec.distance = distance_of(decoded->params.metric);
    spec.m = int(decoded->params.m);
    spec.ef_search = int(decoded->ef_search);
    spec.ef_construction = int(decoded->params.ef_construction);
    lhv_named_check_spec(&spec);

    FillState state = {plan, owner};
    lhv_named_create(get_func_namespace(fcinfo->flinfo->fn_oid), &spec, fill_rows, &state);
    lhv_import_withdraw();
    int32 rows = int32(decoded->rows.size());
    MemoryContextDelete(owner);
    PG_RETURN_INT32(rows);
}
