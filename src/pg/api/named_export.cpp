// named_export.cpp: lhv_export(name) -> bytea, a named index as LHV1 bytes
// that stock hnswlib loads (after the envelope) and lhv_import reads back.
//
//   "LHV1" | u32 big-endian length | {"version": 1, "params": {...},
//   "metadata": {id: metadata}, "labels": {"<label>": id},
//   "vectors": {"<label>": base64 float32}} | hnswlib graph bytes
//
// What is exported is what the caller sees: the rows visible in its snapshot
// (read as the caller, so SELECT on the table is needed). The graph's
// elements are matched with them as an index scan does, by following each
// element's heap TID (through HOT chains) to the visible row version. An
// element whose TID leads to no visible row (a deleted or uncommitted row),
// or to a row an earlier element already leads to (a row indexed twice), is
// marked deleted in the exported bytes. Labels become the element ids,
// small integers hnswlib users can hold; "labels" maps the live ones to ids.
// Under cosine the graph holds unit vectors: "vectors" carries the stored
// vector of each row whose vector is not already the graph's, so lhv_get
// answers the same after an import.
//
// The graph is read without a lock (its elements' labels, marks and vectors
// never change once published), and copied under the slot's exclusive lock
// (no insert or VACUUM is half way through a neighbour list). The element
// count is taken under that lock before anything else: every element of a
// row this snapshot sees is then below it (inserts run under the lock in
// shared mode, and a row's insert finishes before it commits), so elements
// added later are simply marked deleted.
//
// PostgreSQL-style code; C++ work runs inside lhv_guard (guard.h).
extern "C" {
#include "postgres.h"

#include "access/genam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/lwlock.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(lhv_export);
}

#include <cstring>
#include <string>

#include "am/index_graph.h"
#include "api/named.h"
#include "core/lhv1_codec.h"
#include "guard.h"
#include "shmem/registry.h"
#include "storage/graph_loader.h"

// Elements examined per step of the matching pass; a graph that may lag is
// locked per step, and interrupts are checked between steps.
#define LHV_EXPORT_STEP 1024

namespace {

// The catalog row of the named index being exported.
struct ExportIndex {
    LhvNamedIndex named;
    int m;
    int ef_construction;
    lhv::Metric metric;
    Oid table;
};

// What the matching pass found: the elements kept (one per visible row) and,
// per kept element, its id (UTF-8) and, under cosine, where its stored
// vector is in `vectors` (-1 when the graph's unit vector is that vector).
struct ExportRows {
    int64 expected;  // visible rows, counted by SQL
    int64 kept;
    uint32* elements;
    char** ids;
    int32* vector_slots;
    int64 vector_count;
    float* vectors;  // expected x dimension under cosine
    char* metadata_json;  // the "metadata" object, UTF-8
};

// Writes into a buffer allocated beforehand for exactly the bytes expected.
class FixedSink final : public lhv::ByteSink {
public:
    FixedSink(char* buffer, std::size_t capacity) : buffer_(buffer), capacity_(capacity) {}
    void write(const void* data, std::size_t size) override
    {
        if (size > capacity_ - used_)
            throw lhv::Error(lhv::ErrorKind::Internal, "lhv_export: the graph grew while it was copied");
        memcpy(buffer_ + used_, data, size);
        used_ += size;
    }
    std::size_t used() const { return used_; }

private:
    char* buffer_;
    std::size_t capacity_;
    std::size_t used_ = 0;
};

// Reads the catalog row of `name` (42704 if none); SPI is connected.
void read_catalog(Oid ext_namespace, text* name, ExportIndex* out)
{
    lhv_named_find(ext_namespace, name, &out->named);
    const char* sql = psprintf("SELECT n.m, n.ef_construction, n.distance FROM %s." LHV_NAMED_CATALOG " n"
                               " WHERE n.name OPERATOR(pg_catalog.=) $1",
                               quote_identifier(get_namespace_name(ext_namespace)));
    Oid types[1] = {TEXTOID};
    Datum args[1] = {PointerGetDatum(name)};
    if (SPI_execute_with_args(sql, 1, types, args, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
        elog(ERROR, "lhv_export: the catalog row of \"%s\" vanished", out->named.name);
    bool isnull;
    out->m = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    out->ef_construction = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
    const char* distance = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
    out->metric = strcmp(distance, "cosine") == 0      ? lhv::Metric::Cosine
                  : strcmp(distance, "euclidean") == 0 ? lhv::Metric::L2
                                                       : lhv::Metric::InnerProduct;
    out->table = get_relname_relid(out->named.name, get_namespace_oid(LHV_NAMED_DATA_SCHEMA, false));
    if (!OidIsValid(out->table))
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                        errmsg("the table of named index \"%s\" does not exist", out->named.name)));
}

// Counts the visible rows and gathers their metadata as one JSON object, as
// the caller, in its snapshot: 42501 without SELECT on the table.
void read_visible_rows(const ExportIndex* index, ExportRows* rows)
{
    const char* sql =
        psprintf("SELECT pg_catalog.count(*), COALESCE(pg_catalog.jsonb_object_agg(t.id, t.metadata)"
                 " FILTER (WHERE t.metadata IS NOT NULL), '{}'::pg_catalog.jsonb)::pg_catalog.text"
                 " FROM " LHV_NAMED_DATA_SCHEMA ".%s t",
                 quote_identifier(index->named.name));
    if (SPI_execute(sql, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
        elog(ERROR, "lhv_export: reading the rows of \"%s\" failed", index->named.name);
    bool isnull;
    rows->expected = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    const char* metadata = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
    rows->metadata_json = pg_server_to_any(metadata, int(strlen(metadata)), PG_UTF8);
}

// The lhv index on the table; the table is locked by the caller.
Oid find_lhv_index(Relation heap)
{
    Oid am = get_am_oid("lhv", false);
    List* indexes = RelationGetIndexList(heap);
    ListCell* cell;
    foreach (cell, indexes) {
        Oid index = lfirst_oid(cell);
        HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(index));
        if (!HeapTupleIsValid(tuple))
            continue;
        bool is_lhv = reinterpret_cast<Form_pg_class>(GETSTRUCT(tuple))->relam == am;
        ReleaseSysCache(tuple);
        if (is_lhv)
            return index;
    }
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                    errmsg("the table of named index \"%s\" has no lhv index", RelationGetRelationName(heap))));
    return InvalidOid;
}

// Takes the graph's slot lock in `mode` and checks that the graph is still
// the one `ref` names; false (lock released) if it was replaced.
bool lock_graph(const LhvGraphRef* ref, LWLockMode mode)
{
    LWLock* lock = lhv::pg::lhv_guard([&] { return lhv::pg::registry_slot_lock(ref->entry); });
    LWLockAcquire(lock, mode);
    bool valid = lhv::pg::lhv_guard([&] { return lhv::pg::registry_still_valid(ref->entry); });
    if (!valid)
        LWLockRelease(lock);
    return valid;
}

void unlock_graph(const LhvGraphRef* ref)
{
    LWLockRelease(lhv::pg::lhv_guard([&] { return lhv::pg::registry_slot_lock(ref->entry); }));
}

// The number of elements of a graph whose rows this snapshot may see.
uint32 elements_before_now(const LhvGraphRef* ref, bool* valid)
{
    *valid = lock_graph(ref, LW_EXCLUSIVE);
    if (!*valid)
        return 0;
    uint32 size = lhv::pg::lhv_guard([&] { return ref->graph->size(); });
    unlock_graph(ref);
    return size;
}

// Keeps element `element`, reached row in `slot`: its id and, under cosine,
// its stored vector unless it is exactly the graph's. Values are detoasted
// in `scratch`, which the caller resets.
void keep_element(const ExportIndex* index, const LhvGraphRef* ref, TupleTableSlot* slot, uint32 element,
                  ExportRows* rows, MemoryContext scratch)
{
    if (rows->kept >= rows->expected)
        ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                        errmsg("the graph of named index \"%s\" leads to more rows than the table shows",
                               index->named.name)));
    bool isnull;
    MemoryContext keep = MemoryContextSwitchTo(scratch);
    text* id = DatumGetTextPP(slot_getattr(slot, 1, &isnull));
    char* utf8_id = pg_server_to_any(VARDATA_ANY(id), int(VARSIZE_ANY_EXHDR(id)), PG_UTF8);
    int64 k = rows->kept++;
    rows->elements[k] = element;
    rows->ids[k] = MemoryContextStrdup(keep, utf8_id == VARDATA_ANY(id)
                                                 ? pnstrdup(VARDATA_ANY(id), VARSIZE_ANY_EXHDR(id))
                                                 : utf8_id);
    rows->vector_slots[k] = -1;
    if (index->metric != lhv::Metric::Cosine) {
        MemoryContextSwitchTo(keep);
        return;
    }
    ArrayType* vector = DatumGetArrayTypeP(slot_getattr(slot, 2, &isnull));
    int dimension = index->named.dimension;
    if (ARR_NDIM(vector) != 1 || ARR_HASNULL(vector) || ARR_ELEMTYPE(vector) != FLOAT4OID ||
        ARR_DIMS(vector)[0] != dimension)
        ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                        errmsg("named index \"%s\" holds a vector that is not %d reals", index->named.name,
                               dimension)));
    const float* stored = reinterpret_cast<const float*>(ARR_DATA_PTR(vector));
    bool same = lhv::pg::lhv_guard(
        [&] { return memcmp(ref->graph->vector(element), stored, sizeof(float) * dimension) == 0; });
    if (!same) {
        memcpy(rows->vectors + rows->vector_count * dimension, stored, sizeof(float) * dimension);
        rows->vector_slots[k] = int32(rows->vector_count++);
    }
    MemoryContextSwitchTo(keep);
}

// Matches elements [0, count) with the rows visible in the active snapshot.
// False if the graph was replaced meanwhile (a hot standby reloading it).
bool match_elements(const ExportIndex* index, Relation heap, const LhvGraphRef* ref, uint32 count,
                    ExportRows* rows)
{
    HASHCTL ctl;
    memset(&ctl, 0, sizeof ctl);
    ctl.keysize = sizeof(ItemPointerData);  // the TIDs of the row versions already matched
    ctl.entrysize = sizeof(ItemPointerData);
    ctl.hcxt = CurrentMemoryContext;
    HTAB* seen = hash_create("lhv_export rows", Max(rows->expected, 16), &ctl,
                             HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
    Snapshot snapshot = GetActiveSnapshot();
    IndexFetchTableData* fetch = table_index_fetch_begin(heap);
    TupleTableSlot* slot = table_slot_create(heap, NULL);
    uint64* labels = static_cast<uint64*>(palloc(sizeof(uint64) * LHV_EXPORT_STEP));
    bool* deleted = static_cast<bool*>(palloc(sizeof(bool) * LHV_EXPORT_STEP));
    bool may_lag = lhv_graph_may_lag(ref->entry);
    MemoryContext scratch = AllocSetContextCreate(CurrentMemoryContext, "lhv_export row", ALLOCSET_DEFAULT_SIZES);
    rows->kept = 0;
    rows->vector_count = 0;

    for (uint32 first = 0; first < count; first += LHV_EXPORT_STEP) {
        CHECK_FOR_INTERRUPTS();
        uint32 n = Min(uint32(LHV_EXPORT_STEP), count - first);
        if (may_lag && !lock_graph(ref, LW_SHARED)) {
            table_index_fetch_end(fetch);
            ExecDropSingleTupleTableSlot(slot);
            return false;
        }
        lhv::pg::lhv_guard([&] {
            for (uint32 i = 0; i < n; i++) {
                labels[i] = ref->graph->label(first + i);
                deleted[i] = ref->graph->is_deleted(first + i);
            }
        });
        for (uint32 i = 0; i < n; i++) {
            if (deleted[i])
                continue;
            ItemPointerData tid;
            lhv_label_to_tid(labels[i], &tid);
            bool call_again = false;
            bool all_dead = false;
            if (!table_index_fetch_tuple(fetch, &tid, snapshot, slot, &call_again, &all_dead))
                continue;  // no row version this snapshot sees
            bool found;
            hash_search(seen, &slot->tts_tid, HASH_ENTER, &found);
            if (found)
                continue;  // indexed twice: the first element stands for the row
            keep_element(index, ref, slot, first + i, rows, scratch);
            MemoryContextReset(scratch);
        }
        if (may_lag)
            unlock_graph(ref);
    }
    table_index_fetch_end(fetch);
    ExecDropSingleTupleTableSlot(slot);
    MemoryContextDelete(scratch);
    return true;
}

// The envelope (preamble included), palloc'd in the current memory context.
char* envelope_bytes(const ExportIndex* index, const lhv::GraphParams& params, const ExportRows* rows,
                     Size* size)
{
    return lhv::pg::lhv_guard([&] {
        lhv::Lhv1Envelope envelope;
        envelope.name = index->named.name;
        envelope.ef_search = uint32(index->named.ef_search);
        envelope.metadata_json = rows->metadata_json;
        envelope.has_labels = true;
        envelope.labels.reserve(size_t(rows->kept));
        for (int64 k = 0; k < rows->kept; k++)
            envelope.labels.push_back(lhv::Lhv1Label{rows->elements[k], rows->ids[k]});
        for (int64 k = 0; k < rows->kept; k++) {
            if (rows->vector_slots[k] < 0)
                continue;
            const float* v = rows->vectors + size_t(rows->vector_slots[k]) * params.dimension;
            envelope.vector_labels.push_back(rows->elements[k]);
            envelope.vector_values.insert(envelope.vector_values.end(), v, v + params.dimension);
        }
        const std::string bytes = lhv::encode_lhv1_envelope(envelope, params);
        const Size n = bytes.size();
        char* out = lhv::pg::pg_call([n] { return static_cast<char*>(MemoryContextAllocHuge(CurrentMemoryContext, n)); });
        memcpy(out, bytes.data(), n);
        *size = n;
        return out;
    });
}

// Raises 54000 unless `bytes` fit one bytea.
void check_bytea_size(const char* name, Size bytes)
{
    if (bytes > MaxAllocSize - VARHDRSZ)
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("the export of named index \"%s\" would take %zu bytes, more than a bytea holds",
                               name, bytes),
                        errhint("pg_dump keeps named indexes of any size.")));
}

// envelope + the graph's bytes, copied under the slot's exclusive lock with
// each element relabelled to its id and marked deleted unless kept. NULL if
// the graph was replaced meanwhile.
bytea* export_graph(const ExportIndex* index, const LhvGraphRef* ref, const ExportRows* rows, const char* envelope,
                    Size envelope_size, MemoryContext result_context)
{
    if (!lock_graph(ref, LW_EXCLUSIVE))
        return NULL;
    uint32 count = lhv::pg::lhv_guard([&] { return ref->graph->size(); });
    lhv::ElementRewrite* rewrite =
        static_cast<lhv::ElementRewrite*>(MemoryContextAllocHuge(CurrentMemoryContext, sizeof(lhv::ElementRewrite) * Max(count, 1)));
    for (uint32 e = 0; e < count; e++)
        rewrite[e] = lhv::ElementRewrite{e, true};
    for (int64 k = 0; k < rows->kept; k++)
        rewrite[rows->elements[k]].deleted = false;
    Size graph_size = lhv::pg::lhv_guard([&] { return lhv::hnswlib_graph_bytes(*ref->graph); });
    Size total = envelope_size + graph_size;
    if (total > MaxAllocSize - VARHDRSZ) {
        unlock_graph(ref);
        check_bytea_size(index->named.name, total);
    }
    bytea* result = static_cast<bytea*>(MemoryContextAllocHuge(result_context, VARHDRSZ + total));
    memcpy(VARDATA(result), envelope, envelope_size);
    Size written = lhv::pg::lhv_guard([&] {
        FixedSink sink(VARDATA(result) + envelope_size, graph_size);
        lhv::write_hnswlib_graph(*ref->graph, sink, rewrite, count);
        return sink.used();
    });
    unlock_graph(ref);
    if (written != graph_size)
        elog(ERROR, "lhv_export: %zu graph bytes written, %zu expected", written, graph_size);
    SET_VARSIZE(result, VARHDRSZ + total);
    return result;
}

// The export of an index that holds no vector: its envelope and an empty graph.
bytea* export_empty(const ExportIndex* index, const ExportRows* rows, MemoryContext result_context)
{
    lhv::GraphParams params;
    params.dimension = uint32(index->named.dimension);
    params.m = uint32(index->m);
    params.ef_construction = uint32(index->ef_construction);
    params.metric = index->metric;
    Size envelope_size;
    char* envelope = envelope_bytes(index, params, rows, &envelope_size);
    char graph[128];
    Size graph_size = lhv::pg::lhv_guard([&] {
        FixedSink sink(graph, sizeof graph);
        lhv::write_empty_hnswlib_graph(params, sink);
        return sink.used();
    });
    bytea* result = static_cast<bytea*>(MemoryContextAllocHuge(result_context, VARHDRSZ + envelope_size + graph_size));
    memcpy(VARDATA(result), envelope, envelope_size);
    memcpy(VARDATA(result) + envelope_size, graph, graph_size);
    SET_VARSIZE(result, VARHDRSZ + envelope_size + graph_size);
    return result;
}

}  // namespace

// lhv_export(name text) -> bytea
extern "C" Datum lhv_export(PG_FUNCTION_ARGS)
{
    if (PG_ARGISNULL(0))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("named index name must not be NULL")));
    text* name = PG_GETARG_TEXT_PP(0);
    MemoryContext result_context = CurrentMemoryContext;
    MemoryContext work = AllocSetContextCreate(CurrentMemoryContext, "lhv_export", ALLOCSET_DEFAULT_SIZES);

    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "lhv_export: SPI_connect failed");
    ExportIndex index;
    read_catalog(get_func_namespace(fcinfo->flinfo->fn_oid), name, &index);
    if (check_enable_rls(index.table, InvalidOid, false) == RLS_ENABLED)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("lhv_export does not support row-level security"),
                        errdetail("Row-level security applies to the table of named index \"%s\" for this role.",
                                  index.named.name)));
    MemoryContext old = MemoryContextSwitchTo(work);
    ExportRows rows;
    memset(&rows, 0, sizeof rows);
    read_visible_rows(&index, &rows);  // the SPI result lives in SPI's context, copied out here
    size_t slots = size_t(Max(rows.expected, int64(1)));
    rows.elements = static_cast<uint32*>(MemoryContextAllocHuge(work, sizeof(uint32) * slots));
    rows.ids = static_cast<char**>(MemoryContextAllocHuge(work, sizeof(char*) * slots));
    rows.vector_slots = static_cast<int32*>(MemoryContextAllocHuge(work, sizeof(int32) * slots));
    if (index.metric == lhv::Metric::Cosine)
        rows.vectors = static_cast<float*>(MemoryContextAllocHuge(work, sizeof(float) * slots * index.named.dimension));

    Relation heap = table_open(index.table, AccessShareLock);
    Relation index_rel = index_open(find_lhv_index(heap), AccessShareLock);
    bytea* result = NULL;
    while (result == NULL) {
        LhvGraphRef ref;
        if (!lhv_graph_open(index_rel, &ref)) {
            rows.kept = 0;
            if (rows.expected == 0)
                result = export_empty(&index, &rows, result_context);
            break;
        }
        bool valid;
        uint32 count = elements_before_now(&ref, &valid);
        if (!valid || !match_elements(&index, heap, &ref, count, &rows))
            continue;
        if (rows.kept != rows.expected)
            break;
        lhv::GraphParams params = lhv::pg::lhv_guard([&] { return ref.graph->params(); });
        Size envelope_size;
        char* envelope = envelope_bytes(&index, params, &rows, &envelope_size);
        check_bytea_size(index.named.name, envelope_size);
        result = export_graph(&index, &ref, &rows, envelope, envelope_size, result_context);
        pfree(envelope);
    }
    if (result == NULL)
        ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                        errmsg("the graph of named index \"%s\" lacks %lld of its %lld rows", index.named.name,
                               (long long)(rows.expected - rows.kept), (long long)rows.expected),
                        errhint("REINDEX TABLE " LHV_NAMED_DATA_SCHEMA ".%s rebuilds it.",
                                quote_identifier(index.named.name))));
    index_close(index_rel, AccessShareLock);
    table_close(heap, AccessShareLock);
    MemoryContextSwitchTo(old);
    SPI_finish();
    MemoryContextDelete(work);
    PG_RETURN_BYTEA_P(result);
}
