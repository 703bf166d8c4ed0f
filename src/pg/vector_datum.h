// vector_datum.h: reading a real[] datum as a checked vector.
//
// Plain PostgreSQL-style code: these functions ereport on bad input, so they
// are called from PostgreSQL frames only, never from inside the C++ guard.
#pragma once

extern "C" {
#include "postgres.h"
}

struct LhvVector {
    const float* values;
    int dimension;
};

// Detoasts `datum` (a real[]) and checks it is one-dimensional with no NULL
// elements and 1 .. LHV_MAX_DIMENSION components; `what` names it in errors.
LhvVector lhv_vector_from_datum(Datum datum, const char* what);

// Raises 22000 unless every component is finite.
void lhv_vector_check_finite(const LhvVector& vector, const char* what);

// Raises 22000 if every component is zero: such a vector has no direction,
// so cosine distance cannot index it.
void lhv_vector_check_cosine_indexable(const float* values, int dimension);

// Raises 22000 unless both vectors have the same dimension.
void lhv_vector_check_same_dimension(const LhvVector& a, const LhvVector& b);
