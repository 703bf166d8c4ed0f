// vector_datum.h: reading a vector datum (real[], lhv's lhvector, or
// pgvector's vector) as a checked vector.
//
// Plain PostgreSQL-style code: these functions ereport on bad input, so they
// are called from PostgreSQL frames only, never from inside the C++ guard.
#pragma once

extern "C" {
#include "postgres.h"

#include "utils/relcache.h"
}

struct LhvVector {
    const float* values;
    int dimension;
};

// How a type lays out its floats.
enum class LhvVectorFormat {
    // real[]: a PostgreSQL array of float4.
    RealArray,
    // lhvector, and pgvector's vector: a varlena header, int16 dimension,
    // int16 zero, float4 components (src/pg/types/lhvector.h).
    FloatVector,
};

// The format of `type` if lhv can index it: real[]; lhvector of the lhv
// extension; vector of the pgvector extension (named `vector`). Types are
// recognised by name and extension membership in the catalog, never by
// linking to pgvector. Returns false for any other type.
bool lhv_vector_type_format(Oid type, LhvVectorFormat* format);

// The format of the vectors an lhv index holds (the type of its operator
// class). Raises 42804 if lhv cannot read that type.
LhvVectorFormat lhv_index_vector_format(Relation index);

// Detoasts `datum` (a real[]) and checks it is one-dimensional with no NULL
// elements and 1 .. LHV_MAX_DIMENSION components; `what` names it in errors.
LhvVector lhv_vector_from_datum(Datum datum, const char* what);

// The same for a datum in `format`. A FloatVector datum is detoasted only
// when it is compressed, out of line or has a short header, and its header
// is checked against its size (22000 if they disagree).
LhvVector lhv_vector_from_datum(Datum datum, LhvVectorFormat format, const char* what);

// Raises 22000 unless every component is finite.
void lhv_vector_check_finite(const LhvVector& vector, const char* what);

// lhv_vector_from_datum, then lhv_vector_check_finite where the format can
// hold a NaN or an infinity: real[] only (lhvector's and pgvector's inputs
// and casts refuse them), so a vector is not checked twice.
LhvVector lhv_vector_from_datum_finite(Datum datum, LhvVectorFormat format, const char* what);

// Raises 22000 if every component is zero: such a vector has no direction,
// so cosine distance cannot index it.
void lhv_vector_check_cosine_indexable(const float* values, int dimension);

// Raises 22000 unless both vectors have the same dimension.
void lhv_vector_check_same_dimension(const LhvVector& a, const LhvVector& b);
