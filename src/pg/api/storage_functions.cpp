// storage_functions.cpp: SQL functions about what lhv stores and holds:
// lhv_snapshot(regclass) writes a snapshot now; lhv_index_status() lists
// every lhv index of this database whose graph is in shared memory, with
// its log and snapshot positions (the lhv_indexes view);
// lhv_index_storage(regclass) reads an index's metapage.
extern "C" {
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/pg_class.h"
#include "commands/defrem.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/tuplestore.h"

PG_FUNCTION_INFO_V1(lhv_snapshot);
PG_FUNCTION_INFO_V1(lhv_index_status);
PG_FUNCTION_INFO_V1(lhv_index_storage);
}

#include "am/index_graph.h"
#include "guard.h"
#include "storage/graph_loader.h"
#include "storage/graph_snapshot.h"
#include "storage/metapage.h"

using lhv::pg::GraphSource;
using lhv::pg::RegistrySlotInfo;
using lhv::pg::SlotState;

// Opens `relid` as an lhv index the current user owns (or errors).
static Relation open_owned_lhv_index(Oid relid, LOCKMODE mode)
{
    Relation index = relation_open(relid, mode);
    if (index->rd_rel->relkind != RELKIND_INDEX || index->rd_rel->relam != get_index_am_oid("lhv", false))
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                        errmsg("\"%s\" is not an lhv index", RelationGetRelationName(index))));
    if (!pg_class_ownercheck(relid, GetUserId()))
        aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_INDEX, RelationGetRelationName(index));
    return index;
}

// lhv_snapshot(index regclass) RETURNS bigint: writes a snapshot of the
// index's graph in this transaction; returns its size in bytes (0: the index
// holds no vector, or is temporary).
Datum lhv_snapshot(PG_FUNCTION_ARGS)
{
    Oid relid = PG_GETARG_OID(0);
    Relation index = open_owned_lhv_index(relid, AccessShareLock);
    Size bytes = 0;
    uint64 position = 0;
    if (!lhv_graph_write_snapshot(index, &bytes, &position))
        bytes = 0;
    relation_close(index, AccessShareLock);
    PG_RETURN_INT64(int64(bytes));
}

static const char* state_name(SlotState state)
{
    switch (state) {
        case SlotState::Loading:
            return "loading";
        case SlotState::Ready:
            return "ready";
        default:
            return "free";
    }
}

static const char* source_name(GraphSource source)
{
    switch (source) {
        case GraphSource::Build:
            return "build";
        case GraphSource::Snapshot:
            return "snapshot";
        case GraphSource::Log:
            return "log";
        case GraphSource::Table:
            return "table";
        default:
            return "none";
    }
}

// lhv_index_status(): one row per lhv index of this database whose graph is
// in shared memory.
Datum lhv_index_status(PG_FUNCTION_ARGS)
{
    ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    InitMaterializedSRF(fcinfo, 0);
    lhv_standby_sweep();
    int n = 0;
    RegistrySlotInfo* slots = lhv::pg::lhv_guard([&] { return lhv::pg::registry_list_palloc(MyDatabaseId, &n); });
    for (int i = 0; i < n; i++) {
        const lhv::pg::RegistryEntry& e = slots[i].entry;
        Datum values[11];
        bool nulls[11] = {false};
        values[0] = ObjectIdGetDatum(e.index);
        values[1] = CStringGetTextDatum(state_name(e.state));
        values[2] = CStringGetTextDatum(source_name(e.source));
        int64 elements = 0, deleted = 0;
        if (e.state == SlotState::Ready && DsaPointerIsValid(e.graph)) {
            lhv::pg::lhv_guard([&] {
                lhv::HnswGraph* graph = lhv_graph_view(e);
                elements = graph->size();
                deleted = graph->deleted_count();
            });
        }
        values[3] = Int64GetDatum(elements);
        values[4] = Int64GetDatum(deleted);
        values[5] = Int64GetDatum(int64(e.bytes));
        values[6] = CStringGetTextDatum(psprintf("%016llx", (unsigned long long)e.log_id));
        values[7] = Int64GetDatum(int64(e.applied_end));
        values[8] = Int64GetDatum(int64(Max(slots[i].log_end_hint, e.applied_end)));
        values[9] = Int64GetDatum(int64(slots[i].snapshot_position));
        values[10] = BoolGetDatum(slots[i].needs_snapshot);
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    return (Datum)0;
}

// lhv_index_storage(index regclass): the metapage of an lhv index: its log's
// identity and bounds, its pages, the snapshot position it was reclaimed to.
Datum lhv_index_storage(PG_FUNCTION_ARGS)
{
    Oid relid = PG_GETARG_OID(0);
    Relation index = relation_open(relid, AccessShareLock);
    if (index->rd_rel->relkind != RELKIND_INDEX || index->rd_rel->relam != get_index_am_oid("lhv", false))
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                        errmsg("\"%s\" is not an lhv index", RelationGetRelationName(index))));
    LhvMetaPageData meta = lhv_meta_read(index);
    int64 blocks = RelationGetNumberOfBlocks(index);
    relation_close(index, AccessShareLock);

    TupleDesc desc;
    if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
        elog(ERROR, "lhv_index_storage: return type must be a row type");
    Datum values[9];
    bool nulls[9] = {false};
    values[0] = CStringGetTextDatum(psprintf("%016llx", (unsigned long long)meta.log_id));
    values[1] = Int32GetDatum(int32(meta.dimension));
    values[2] = Int64GetDatum(int64(meta.log_start));
    values[3] = Int64GetDatum(int64(meta.log_end));
    values[4] = Int64GetDatum(int64(meta.log_end - meta.log_start));
    values[5] = Int64GetDatum(int64(meta.pages_in_log));
    values[6] = Int64GetDatum(int64(meta.pages_free));
    values[7] = Int64GetDatum(int64(meta.snapshot_position));
    values[8] = Int64GetDatum(blocks);
    PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
