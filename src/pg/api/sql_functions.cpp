// sql_functions.cpp: the SQL-callable functions of the module skeleton:
// lhv_version, lhv_simd, lhv_memory, lhv_backend_memory and
// lhv_snapshot_info. Each is a thin
// extern "C" wrapper; C++ work runs inside lhv_guard (guard.h).
extern "C" {
#include "postgres.h"
#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"

PG_FUNCTION_INFO_V1(lhv_version);
PG_FUNCTION_INFO_V1(lhv_simd);
PG_FUNCTION_INFO_V1(lhv_memory);
PG_FUNCTION_INFO_V1(lhv_backend_memory);
PG_FUNCTION_INFO_V1(lhv_snapshot_info);
}

#include <cstring>
#include <string>

#include <nlohmann/json.hpp>

#include "core/distance.h"
#include "core/lhv1_codec.h"
#include "guard.h"
#include "am/view_cache.h"
#include "shmem/registry.h"
#include "shmem/shmem.h"

#ifndef LHV_VERSION
#error "LHV_VERSION must be defined (the Makefile passes it from lhv.control)"
#endif

namespace {

// Decodes an LHV1 envelope and describes it as JSON text, palloc'd in the
// current memory context. Throws lhv::Error(CorruptSnapshot) on bad bytes.
char* snapshot_info_text(const char* data, std::size_t size) {
    std::size_t graph_offset = 0;
    const lhv::Lhv1Envelope envelope = lhv::decode_lhv1_envelope(data, size, &graph_offset);
    const nlohmann::json info = {
        {"version", envelope.version},
        {"name", envelope.name},
        {"params",
         {{"dimension", envelope.params.dimension},
          {"m", envelope.params.m},
          {"ef_construction", envelope.params.ef_construction},
          {"ef_search", envelope.ef_search},
          {"distance", lhv::metric_name(envelope.params.metric)}}},
        {"metadata", nlohmann::json::parse(envelope.metadata_json)},
        {"graph_bytes", size - graph_offset},
    };
    const std::string json_text = info.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    const std::size_t bytes = json_text.size() + 1;
    char* out = lhv::pg::pg_call([bytes] { return static_cast<char*>(palloc(bytes)); });
    std::memcpy(out, json_text.c_str(), bytes);
    return out;
}

}  // namespace

// lhv_version(): the extension's version, from lhv.control.
extern "C" Datum lhv_version(PG_FUNCTION_ARGS) {
    PG_RETURN_TEXT_P(cstring_to_text(LHV_VERSION));
}

// lhv_simd(): the distance kernels this CPU runs ("avx512", "avx2", "scalar").
extern "C" Datum lhv_simd(PG_FUNCTION_ARGS) {
    PG_RETURN_TEXT_P(cstring_to_text(lhv::simd_level()));
}

// lhv_memory(): one row describing lhv's shared memory area and the registry.
extern "C" Datum lhv_memory(PG_FUNCTION_ARGS) {
    TupleDesc tupdesc;
    if (get_call_result_type(fcinfo, nullptr, &tupdesc) != TYPEFUNC_COMPOSITE)
        elog(ERROR, "lhv_memory: return type must be a row type");
    tupdesc = BlessTupleDesc(tupdesc);

    lhv::pg::LhvControl* ctl = lhv::pg::control();
    const lhv::pg::RegistryTotals totals = lhv::pg::lhv_guard([] { return lhv::pg::registry_totals(); });
    const int64 total_bytes = lhv::pg::dsa_total_bytes();

    Datum values[5];
    bool nulls[5] = {false, false, false, false, false};
    values[0] = Int64GetDatum(static_cast<int64>(ctl->dsa_reserved));
    values[1] = Int64GetDatum(static_cast<int64>(ctl->dsa_limit));
    values[2] = Int64GetDatum(total_bytes);
    nulls[2] = total_bytes < 0;
    values[3] = Int64GetDatum(static_cast<int64>(totals.graph_bytes));
    values[4] = Int32GetDatum(totals.indexes);
    PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

// lhv_backend_memory(): what this backend keeps for lhv in its own memory:
// its views of graphs (after sweeping those of dropped or replaced indexes)
// and their bytes.
extern "C" Datum lhv_backend_memory(PG_FUNCTION_ARGS) {
    TupleDesc tupdesc;
    if (get_call_result_type(fcinfo, nullptr, &tupdesc) != TYPEFUNC_COMPOSITE)
        elog(ERROR, "lhv_backend_memory: return type must be a row type");
    tupdesc = BlessTupleDesc(tupdesc);

    const LhvViewCacheStats stats = lhv::pg::lhv_guard([] { return lhv_view_cache_stats(); });
    Datum values[3];
    bool nulls[3] = {false, false, false};
    values[0] = Int32GetDatum(stats.views);
    values[1] = Int32GetDatum(stats.retired);
    values[2] = Int64GetDatum(static_cast<int64>(stats.view_bytes));
    PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

// lhv_snapshot_info(bytea): the envelope of an LHV1 snapshot as jsonb.
extern "C" Datum lhv_snapshot_info(PG_FUNCTION_ARGS) {
    bytea* blob = PG_GETARG_BYTEA_PP(0);
    const char* data = VARDATA_ANY(blob);
    const std::size_t size = VARSIZE_ANY_EXHDR(blob);
    char* info = lhv::pg::lhv_guard([data, size] { return snapshot_info_text(data, size); });
    PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(info)));
}
