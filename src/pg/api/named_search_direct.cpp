// named_search_direct.cpp: lhv_search's fast path (see named.h): the
// catalog row read with a system-table scan and the named index's lhv index
// scanned directly, as an index scan node would, with no SPI, no executor
// start and no GUC machinery per call.
//
// Locks are those a SELECT takes, held to the end of the transaction.
//
// It serves the common case only and says so when it cannot: a caller that
// lacks SELECT on the whole table (column grants), a table under row-level
// security, or a table whose columns are not the ones lhv_create made. The
// SPI path then runs as before and gives the same answers or the same errors.
//
// Plain PostgreSQL-style code: it ereports directly and holds no C++ object.
extern "C" {
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_index.h"
#include "commands/defrem.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"
}

#include "am/lhv_am.h"
#include "api/named.h"

namespace {

// The columns lhv_create gives a data table.
struct DataColumns {
    AttrNumber id;
    AttrNumber embedding;
    AttrNumber metadata;
};

// Reads the catalog row of `name` (as the caller sees it) into `out`. Returns
// false when the caller may not read the catalog (the SPI path then says so).
// 42704 if there is no such named index.
bool find_in_catalog(Oid ext_namespace, text* name, LhvNamedIndex* out)
{
    Oid catalog_oid = get_relname_relid(LHV_NAMED_CATALOG, ext_namespace);
    if (!OidIsValid(catalog_oid) || pg_class_aclcheck(catalog_oid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
        return false;
    Relation catalog = table_open(catalog_oid, AccessShareLock);
    Oid key_index = RelationGetPrimaryKeyIndex(catalog);
    if (!OidIsValid(key_index) || check_enable_rls(catalog_oid, InvalidOid, true) != RLS_NONE) {
        table_close(catalog, NoLock);
        return false;
    }
    TupleDesc desc = RelationGetDescr(catalog);
    AttrNumber name_att = get_attnum(catalog_oid, "name");
    AttrNumber dimension_att = get_attnum(catalog_oid, "dimension");
    AttrNumber distance_att = get_attnum(catalog_oid, "distance");
    AttrNumber ef_search_att = get_attnum(catalog_oid, "ef_search");
    if (name_att != 1 || dimension_att == InvalidAttrNumber || distance_att == InvalidAttrNumber ||
        ef_search_att == InvalidAttrNumber) {
        table_close(catalog, NoLock);
        return false;
    }

    ScanKeyData key;
    ScanKeyEntryInitialize(&key, 0, 1, BTEqualStrategyNumber, InvalidOid, DEFAULT_COLLATION_OID, F_TEXTEQ,
                           PointerGetDatum(name));
    SysScanDesc scan = systable_beginscan(catalog, key_index, true, GetActiveSnapshot(), 1, &key);
    HeapTuple row = systable_getnext(scan);
    bool found = HeapTupleIsValid(row);
    if (found) {
        bool isnull;
        memset(out, 0, sizeof *out);
        text_to_cstring_buffer(name, out->name, sizeof out->name);
        out->dimension = DatumGetInt32(heap_getattr(row, dimension_att, desc, &isnull));
        char* distance = TextDatumGetCString(heap_getattr(row, distance_att, desc, &isnull));
        out->ef_search = DatumGetInt32(heap_getattr(row, ef_search_att, desc, &isnull));
        out->cosine = strcmp(distance, "cosine") == 0;
        out->op = out->cosine ? "<=>" : strcmp(distance, "euclidean") == 0 ? "<->" : "<#>";
    }
    systable_endscan(scan);
    table_close(catalog, NoLock);  // locks are kept to the end of the transaction, as the executor's
    if (!found)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                        errmsg("named index \"%s\" does not exist", text_to_cstring(name))));
    return true;
}

// The columns of `heap` if they are lhv_create's (types included).
bool data_columns(Relation heap, DataColumns* out)
{
    Oid relid = RelationGetRelid(heap);
    out->id = get_attnum(relid, "id");
    out->embedding = get_attnum(relid, "embedding");
    out->metadata = get_attnum(relid, "metadata");
    if (out->id <= 0 || out->embedding <= 0 || out->metadata <= 0)
        return false;
    TupleDesc desc = RelationGetDescr(heap);
    return TupleDescAttr(desc, out->id - 1)->atttypid == TEXTOID &&
           TupleDescAttr(desc, out->embedding - 1)->atttypid == FLOAT4ARRAYOID &&
           TupleDescAttr(desc, out->metadata - 1)->atttypid == JSONBOID;
}

// The valid lhv index on the embedding column of `heap` (no expression, no
// predicate), opened with AccessShareLock; NULL if there is none.
Relation open_lhv_index(Relation heap, AttrNumber embedding)
{
    Oid lhv_am = get_am_oid("lhv", true);
    List* indexes = RelationGetIndexList(heap);
    Relation found = NULL;
    ListCell* cell;
    foreach (cell, indexes) {
        Oid index_oid = lfirst_oid(cell);
        HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(index_oid));
        if (!HeapTupleIsValid(tuple))
            continue;
        bool is_lhv = reinterpret_cast<Form_pg_class>(GETSTRUCT(tuple))->relam == lhv_am;
        ReleaseSysCache(tuple);
        if (!is_lhv)
            continue;
        Relation index = index_open(index_oid, AccessShareLock);
        if (index->rd_index->indisvalid && index->rd_index->indnatts == 1 &&
            index->rd_index->indkey.values[0] == embedding &&
            heap_attisnull(index->rd_indextuple, Anum_pg_index_indpred, NULL)) {
            found = index;
            break;
        }
        index_close(index, AccessShareLock);
    }
    list_free(indexes);
    return found;
}

// Puts the k nearest rows of `heap` as (id, distance, metadata) into `out`,
// scanning `index` at ef_search `ef` (set for the scan only).
void scan_nearest(Relation heap, Relation index, const DataColumns* columns, FmgrInfo* distance,
                  ScanKey order_by, int k, int ef, Tuplestorestate* out, TupleDesc out_desc)
{
    Datum query = order_by->sk_argument;
    int saved_ef_search = lhv_ef_search;
    lhv_ef_search = ef;
    PG_TRY();
    {
        IndexScanDesc scan = index_beginscan(heap, index, GetActiveSnapshot(), 0, 1);
        index_rescan(scan, NULL, 0, order_by, 1);
        TupleTableSlot* slot = table_slot_create(heap, NULL);
        Datum values[3];
        bool nulls[3];
        for (int returned = 0; returned < k && index_getnext_slot(scan, ForwardScanDirection, slot);) {
            CHECK_FOR_INTERRUPTS();
            bool isnull;
            Datum embedding = slot_getattr(slot, columns->embedding, &isnull);
            if (isnull)
                continue;  // never indexed; as ORDER BY ... LIMIT through the index
            values[0] = slot_getattr(slot, columns->id, &nulls[0]);
            values[1] = FunctionCall2Coll(distance, InvalidOid, embedding, query);
            nulls[1] = false;
            values[2] = slot_getattr(slot, columns->metadata, &nulls[2]);
            tuplestore_putvalues(out, out_desc, values, nulls);
            returned++;
        }
        ExecDropSingleTupleTableSlot(slot);
        index_endscan(scan);
    }
    PG_FINALLY();
    {
        lhv_ef_search = saved_ef_search;
    }
    PG_END_TRY();
}

}  // namespace

bool lhv_named_search_direct(Oid ext_namespace, text* name, ArrayType* raw_query, Oid query_type, int k,
                             int ef_override, Tuplestorestate* out, TupleDesc out_desc)
{
    LhvNamedIndex named;
    if (!find_in_catalog(ext_namespace, name, &named))
        return false;

    Oid data_schema = get_namespace_oid(LHV_NAMED_DATA_SCHEMA, true);
    Oid relid = OidIsValid(data_schema) ? get_relname_relid(named.name, data_schema) : InvalidOid;
    if (!OidIsValid(relid) || pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK ||
        check_enable_rls(relid, InvalidOid, true) != RLS_NONE)
        return false;
    Relation heap = table_open(relid, AccessShareLock);
    DataColumns columns;
    Relation index = data_columns(heap, &columns) ? open_lhv_index(heap, columns.embedding) : NULL;
    if (index == NULL) {
        table_close(heap, NoLock);
        return false;
    }

    // The distance function of the index's ordering operator, for the
    // distances returned (the operator's own double-precision values).
    Oid opfamily = index->rd_opfamily[0];
    Oid ordering_op = get_opfamily_member(opfamily, FLOAT4ARRAYOID, FLOAT4ARRAYOID, LHV_DISTANCE_STRATEGY);
    if (!OidIsValid(ordering_op)) {
        index_close(index, NoLock);
        table_close(heap, NoLock);
        return false;
    }
    FmgrInfo distance;
    fmgr_info(get_opcode(ordering_op), &distance);

    if (raw_query == NULL)
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("query must not be NULL")));
    ArrayType* query = lhv_named_check_vector(raw_query, query_type, named.dimension, named.cosine, "query");
    ScanKeyData order_by;
    ScanKeyEntryInitialize(&order_by, 0, 1, LHV_DISTANCE_STRATEGY, FLOAT4ARRAYOID, InvalidOid,
                           get_opcode(ordering_op), PointerGetDatum(query));

    // As in hnswlib, a search looks at no fewer than k candidates.
    int ef = ef_override > 0 ? ef_override : named.ef_search;
    scan_nearest(heap, index, &columns, &distance, &order_by, k, Min(Max(ef, k), LHV_EF_SEARCH_MAX), out, out_desc);

    index_close(index, NoLock);
    table_close(heap, NoLock);
    return true;
}
