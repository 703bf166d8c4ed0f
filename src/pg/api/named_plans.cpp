// named_plans.cpp: the statements the C functions of named indexes run
// (lhv_search, lhv_add of one item, lhv_get, lhv_delete), prepared once per
// backend and kept (SPI_keepplan), so that a call parses and plans nothing.
//
// Every name in them is schema-qualified, operators too
// (OPERATOR(schema.<->), OPERATOR(pg_catalog.=)), so the caller's search_path
// plays no part. They run through SPI as the caller: the executor checks the
// caller's privileges on every run, and row-level security applies. The plan
// cache re-plans them when the table or the catalog changes (DROP and CREATE of
// the same name included) and, where row-level security applies, per role.
//
// Plain PostgreSQL-style code: it ereports directly and holds no C++ object.
extern "C" {
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
}

#include <cstring>

#include "am/lhv_am.h"
#include "api/named.h"

// More distinct statements than this and the cache starts over.
#define LHV_NAMED_PLANS_MAX 256

// A kept statement's key; hashed as bytes, so always zeroed first.
struct LhvNamedPlanKey {
    Oid ext_namespace;
    int32 kind;
    int32 k;
    // The planner leaves a LIMIT past lhv.max_scan_tuples to a sort: a search
    // planned on one side of it is not reused on the other.
    bool past_scan_limit;
    char op[4];
    char name[NAMEDATALEN];
};

struct LhvNamedPlanEntry {
    LhvNamedPlanKey key;
    SPIPlanPtr plan;
};

static HTAB* lhv_named_plans = NULL;
static SPIPlanPtr lhv_lookup_plan = NULL;
static Oid lhv_lookup_plan_namespace = InvalidOid;

// Prepares `sql` (generic plan) and keeps it.
static SPIPlanPtr lhv_named_prepare(const char* sql, int nargs, Oid* types)
{
    SPIPlanPtr plan = SPI_prepare_cursor(sql, nargs, types, CURSOR_OPT_GENERIC_PLAN);
    if (plan == NULL)
        elog(ERROR, "lhv: preparing \"%s\" failed: %s", sql, SPI_result_code_string(SPI_result));
    if (SPI_keepplan(plan) != 0)
        elog(ERROR, "lhv: SPI_keepplan failed");
    return plan;
}

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
    lhv_lookup_plan = lhv_named_prepare(sql, 1, types);
    lhv_lookup_plan_namespace = ext_namespace;
    return lhv_lookup_plan;
}

void lhv_named_find(Oid ext_namespace, text* name, LhvNamedIndex* out)
{
    Datum args[1] = {PointerGetDatum(name)};
    int rc = SPI_execute_plan(lhv_named_lookup_plan(ext_namespace), args, NULL, true, 1);
    if (rc != SPI_OK_SELECT)
        elog(ERROR, "lhv: the catalog query failed: %s", SPI_result_code_string(rc));
    if (SPI_processed == 0)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                        errmsg("named index \"%s\" does not exist", text_to_cstring(name))));
    bool isnull;
    HeapTuple row = SPI_tuptable->vals[0];
    TupleDesc desc = SPI_tuptable->tupdesc;
    memset(out, 0, sizeof *out);
    strlcpy(out->name, text_to_cstring(name), sizeof out->name);
    out->dimension = DatumGetInt32(SPI_getbinval(row, desc, 1, &isnull));
    char* distance = SPI_getvalue(row, desc, 2);
    out->ef_search = DatumGetInt32(SPI_getbinval(row, desc, 3, &isnull));
    out->cosine = strcmp(distance, "cosine") == 0;
    out->op = out->cosine ? "<=>" : strcmp(distance, "euclidean") == 0 ? "<->" : "<#>";
}

SPIPlanPtr lhv_named_plan(Oid ext_namespace, LhvNamedStatement kind, const LhvNamedIndex* index, int k)
{
    if (lhv_named_plans == NULL) {
        HASHCTL ctl;
        memset(&ctl, 0, sizeof ctl);
        ctl.keysize = sizeof(LhvNamedPlanKey);
        ctl.entrysize = sizeof(LhvNamedPlanEntry);
        ctl.hcxt = TopMemoryContext;
        lhv_named_plans = hash_create("lhv named index statements", 16, &ctl,
                                      HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
    }
    LhvNamedPlanKey key;
    memset(&key, 0, sizeof key);
    key.ext_namespace = ext_namespace;
    key.kind = kind;
    if (kind == LHV_NAMED_SEARCH) {
        key.k = k;
        key.past_scan_limit = k > lhv_max_scan_tuples;
        strlcpy(key.op, index->op, sizeof key.op);
    }
    strlcpy(key.name, index->name, sizeof key.name);

    bool found;
    LhvNamedPlanEntry* entry =
        static_cast<LhvNamedPlanEntry*>(hash_search(lhv_named_plans, &key, HASH_FIND, &found));
    if (found)
        return entry->plan;

    if (hash_get_num_entries(lhv_named_plans) >= LHV_NAMED_PLANS_MAX) {
        HASH_SEQ_STATUS status;
        hash_seq_init(&status, lhv_named_plans);
        LhvNamedPlanEntry* old;
        while ((old = static_cast<LhvNamedPlanEntry*>(hash_seq_search(&status))) != NULL) {
            SPI_freeplan(old->plan);
            hash_search(lhv_named_plans, &old->key, HASH_REMOVE, NULL);
        }
    }

    const char* schema = quote_identifier(get_namespace_name(ext_namespace));
    const char* table = quote_identifier(index->name);
    char* sql = NULL;
    Oid types[3] = {InvalidOid, InvalidOid, InvalidOid};
    int nargs = 0;
    switch (kind) {
        case LHV_NAMED_SEARCH:
            sql = psprintf("SELECT t.id, t.embedding OPERATOR(%s.%s) $1, t.metadata"
                           " FROM " LHV_NAMED_DATA_SCHEMA ".%s t"
                           " ORDER BY t.embedding OPERATOR(%s.%s) $1 LIMIT %d",
                           schema, index->op, table, schema, index->op, k);
            types[0] = FLOAT4ARRAYOID;
            nargs = 1;
            break;
        case LHV_NAMED_ADD:
            // NULL metadata keeps what is stored; true when the id was new
            // (a row that an ON CONFLICT update wrote has xmax set).
            sql = psprintf("INSERT INTO " LHV_NAMED_DATA_SCHEMA ".%s AS t (id, embedding, metadata)"
                           " VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE"
                           " SET embedding = EXCLUDED.embedding,"
                           " metadata = COALESCE(EXCLUDED.metadata, t.metadata)"
                           " RETURNING t.xmax OPERATOR(pg_catalog.=) 0",
                           table);
            types[0] = TEXTOID;
            types[1] = FLOAT4ARRAYOID;
            types[2] = JSONBOID;
            nargs = 3;
            break;
        case LHV_NAMED_GET:
            sql = psprintf("SELECT t.embedding, t.metadata FROM " LHV_NAMED_DATA_SCHEMA ".%s t"
                           " WHERE t.id OPERATOR(pg_catalog.=) $1",
                           table);
            types[0] = TEXTOID;
            nargs = 1;
            break;
        case LHV_NAMED_DELETE:
            sql = psprintf("DELETE FROM " LHV_NAMED_DATA_SCHEMA ".%s t WHERE t.id OPERATOR(pg_catalog.=) $1",
                           table);
            types[0] = TEXTOID;
            nargs = 1;
            break;
    }
    SPIPlanPtr plan = lhv_named_prepare(sql, nargs, types);
    entry = static_cast<LhvNamedPlanEntry*>(hash_search(lhv_named_plans, &key, HASH_ENTER, &found));
    entry->plan = plan;
    return plan;
}
