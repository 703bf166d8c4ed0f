// vector_datum.cpp: real[] datums as checked vectors (see vector_datum.h).
extern "C" {
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
}

#include <cmath>

#include "core/hnsw_graph.h"
#include "vector_datum.h"

LhvVector lhv_vector_from_datum(Datum datum, const char* what)
{
    ArrayType* array = DatumGetArrayTypeP(datum);

    if (ARR_ELEMTYPE(array) != FLOAT4OID)
        ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                        errmsg("%s must be an array of real", what)));
    if (ARR_NDIM(array) != 1)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("%s must be a one-dimensional array, not %d-dimensional", what,
                               ARR_NDIM(array))));
    if (ARR_HASNULL(array) && array_contains_nulls(array))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                        errmsg("%s must not contain NULL elements", what)));

    int dimension = ARR_DIMS(array)[0];
    if (dimension < 1 || dimension > int(lhv::kMaxDimension))
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("%s has %d dimensions; lhv supports 1 to %u", what, dimension,
                               lhv::kMaxDimension)));

    return LhvVector{reinterpret_cast<const float*>(ARR_DATA_PTR(array)), dimension};
}

void lhv_vector_check_finite(const LhvVector& vector, const char* what)
{
    for (int i = 0; i < vector.dimension; i++) {
        if (!std::isfinite(vector.values[i]))
            ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                            errmsg("%s has a non-finite component at position %d", what, i + 1),
                            errdetail("NaN and infinite values cannot be indexed or compared.")));
    }
}

void lhv_vector_check_same_dimension(const LhvVector& a, const LhvVector& b)
{
    if (a.dimension != b.dimension)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("vectors have different dimensions (%d and %d)", a.dimension,
                               b.dimension)));
}

void lhv_vector_check_cosine_indexable(const float* values, int dimension)
{
    double norm = 0;
    for (int i = 0; i < dimension; i++)
        norm += double(values[i]) * values[i];
    if (norm == 0)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("a zero vector cannot be indexed for cosine distance")));
}
