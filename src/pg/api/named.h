// named.h: constants of named indexes (lhv_create, lhv_add, lhv_search, ...).
//
// A named index is an ordinary table lhv_data."<name>" (id text primary key,
// embedding real[], metadata jsonb) with an lhv index on it, and one row in
// the extension's catalog table lhv_named_indexes (see the "Named indexes"
// section of lhv--0.1.0.sql). The limits of the access method (m,
// ef_construction, ef_search) are lhv_config.h's; these are the rest.
#pragma once

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
