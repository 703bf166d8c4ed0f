// named.h: constants of named indexes (lhv_create, lhv_add, lhv_search, ...).
//
// A named index is an ordinary table lhv_data."<name>" (id text primary key,
// embedding real[], metadata jsonb) with an lhv index on it, and one row in
// the extension's catalog table lhv_named_indexes (see the "Named indexes"
// section of lhv--0.1.0.sql). The limits of the access method (m,
// ef_construction, ef_search) are lhv_config.h's; these are the rest.
#pragma once

// Include postgres.h before this header.
extern "C" {
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/tuplestore.h"
}

#include "lhv_config.h"

// The schema of the data tables: created by the extension, USAGE for
// PUBLIC, CREATE for nobody but the extension's owner.
#define LHV_NAMED_DATA_SCHEMA "lhv_data"
// The catalog table, in the extension's schema.
#define LHV_NAMED_CATALOG "lhv_named_indexes"

// A name is 1 to 63 characters (one PostgreSQL identifier, so the data
// table can carry the name itself) from letters, digits, '_', '-' and '.'.
#define LHV_NAMED_NAME_MAX 63

// lhv_create's parameters: defaults and limits.
#define LHV_NAMED_DIMENSION_MIN 1
#define LHV_NAMED_DIMENSION_MAX 16000
#define LHV_NAMED_M_DEFAULT LHV_M_DEFAULT
#define LHV_NAMED_EF_SEARCH_DEFAULT 20
#define LHV_NAMED_EF_CONSTRUCTION_DEFAULT LHV_EF_CONSTRUCTION_DEFAULT

// The embedding column is never compressed: vectors barely compress, and a
// compressed one is decompressed for every row a search returns. Up to this
// dimension it is STORAGE PLAIN, kept in its heap row (a 1,900-d vector is
// 7.6 kB, and the id and metadata can still move to TOAST, so a row fits a
// page); above it, EXTERNAL: out of line, uncompressed.
#define LHV_NAMED_PLAIN_DIMENSION_MAX 1900

// A named index's parameters, as lhv_create and lhv_import take them.
struct LhvNamedSpec {
    const char* name;
    int dimension;
    const char* distance;  // "cosine", "euclidean" or "inner_product"
    int m;
    int ef_search;
    int ef_construction;
};

// Raises 22023 unless every parameter of `spec` is valid (named_create.cpp).
void lhv_named_check_spec(const LhvNamedSpec* spec);

// Fills the new, empty data table `table` of a named index, before its lhv
// index exists; runs as the extension's owner, with SPI connected.
typedef void (*LhvNamedFill)(Oid table, void* arg);

// Creates the named index `spec` (already checked) for the calling role: its
// catalog row (42710 if the name is taken), its data table, then
// fill(table, fill_arg) if fill is given, then the table's lhv index; the
// table then belongs to the caller. `ext_schema` is the extension's schema.
// Connects SPI for its own statements (named_create.cpp).
void lhv_named_create(Oid ext_schema, const LhvNamedSpec* spec, LhvNamedFill fill, void* fill_arg);

// Checks a vector or query given as any array of numbers (`argtype` names
// its type in messages; InvalidOid: from its element type) against an
// index's dimension and distance, and returns it as a real[] with lower
// bound 1 (the input itself when it already is one). Raises 22000, 22004 or
// 42804 (named_input.cpp). Plain PostgreSQL code: call it from PostgreSQL
// frames only.
ArrayType* lhv_named_check_vector(ArrayType* array, Oid argtype, int dimension, bool cosine,
                                  const char* what);

// A named index's catalog row, as the C functions use it.
struct LhvNamedIndex {
    char name[NAMEDATALEN];
    int dimension;
    bool cosine;
    const char* op;  // its distance operator: "<=>", "<->" or "<#>"
    int ef_search;
};

// The statements kept per backend (named_plans.cpp).
enum LhvNamedStatement {
    LHV_NAMED_SEARCH,  // $1 real[]: (id, distance, metadata) nearest first, LIMIT k
    LHV_NAMED_ADD,     // $1 id, $2 real[], $3 jsonb: upsert, returns "the id was new"
    LHV_NAMED_GET,     // $1 id: (embedding, metadata)
    LHV_NAMED_DELETE,  // $1 id
};

// Reads the catalog row of `name` into `out`; 42704 if there is none. SPI
// must be connected.
void lhv_named_find(Oid ext_namespace, text* name, LhvNamedIndex* out);

// lhv_search without SPI (named_search_direct.cpp): finds `name` (42704 if
// there is none), checks `query` (NULL raises 22004; `query_type` as for
// lhv_named_check_vector), and puts the k nearest rows as (id, distance,
// metadata) into `out`, nearest first, searching at ef_override (when > 0)
// or the index's ef_search. Returns false, having changed nothing, when the
// caller lacks SELECT on the whole table or catalog, row-level security
// applies, or the table is not as lhv_create made it: the SPI path serves
// those.
bool lhv_named_search_direct(Oid ext_namespace, text* name, ArrayType* query, Oid query_type, int k,
                             int ef_override, Tuplestorestate* out, TupleDesc out_desc);

// The kept plan of statement `kind` on `index` (k: the search's LIMIT). SPI
// must be connected.
SPIPlanPtr lhv_named_plan(Oid ext_namespace, LhvNamedStatement kind, const LhvNamedIndex* index, int k);
