// lhvector.h: lhv's own vector type, lhvector: its in-memory layout and the
// checks every producer of a value (text and binary input, casts, typmod)
// shares.
//
// The layout is pgvector's `vector`, byte for byte: a varlena header, an
// int16 dimension, an int16 that is always zero, then the float4
// components. So one reader serves both types (vector_datum.cpp), values
// convert between them without a copy, and pgvector's binary wire format is
// this layout in network byte order.
//
// Plain PostgreSQL-style code: these functions ereport on bad input, so they
// are called from PostgreSQL frames only, never from inside the C++ guard.
#pragma once

extern "C" {
#include "postgres.h"

#include "fmgr.h"
}

#include <cmath>
#include <cstddef>

struct LhvectorValue {
    int32 vl_len_;  // varlena header (use the VARSIZE macros)
    int16 dim;      // number of components, 1 .. LHVECTOR_MAX_DIM
    int16 unused;   // always zero
    float x[FLEXIBLE_ARRAY_MEMBER];
};

// As lhv's real[] vectors and pgvector's vector: 1 to 16,000 components
// (checked against the engine's limit in lhvector_io.cpp).
#define LHVECTOR_MAX_DIM 16000
#define LHVECTOR_HEADER_SIZE offsetof(LhvectorValue, x)
#define LHVECTOR_SIZE(dim) (LHVECTOR_HEADER_SIZE + sizeof(float) * size_t(dim))

// Detoasts (copying only a compressed, out-of-line or short-header value).
#define DatumGetLhvector(d) (reinterpret_cast<LhvectorValue*>(PG_DETOAST_DATUM(d)))
#define PG_GETARG_LHVECTOR(n) DatumGetLhvector(PG_GETARG_DATUM(n))

// A zeroed value of `dim` components (dim already checked), palloc'd.
LhvectorValue* lhvector_alloc(int dim);

// A zeroed one-dimensional array of `count` elements of a fixed-size type,
// no NULLs, palloc'd (lhvector_casts.cpp): casts' results, aggregate states.
struct ArrayType;
ArrayType* lhvector_new_array(Oid element_type, int element_size, int count);

// Raises 22000 unless 1 <= dim <= LHVECTOR_MAX_DIM.
void lhvector_check_dimension(int dim);

// Raises 22000 if typmod (-1: none) asks for another dimension.
void lhvector_check_typmod(int32 typmod, int dim);

// Raises 22000 naming the non-finite component at `position` (0-based).
pg_attribute_noreturn() void lhvector_report_non_finite(int position);

// Raises 22000 for a NaN or infinite component; `position` is 0-based.
// Inline: inputs and casts call it for every component.
static inline void lhvector_check_component(float value, int position)
{
    if (unlikely(!std::isfinite(value)))
        lhvector_report_non_finite(position);
}
