// lhvector_math.cpp: what pgvector users compute on vectors besides
// distances: the norm, L2 normalisation, element-wise + and -, and the
// aggregates sum() and avg() (centroids).
//
// Results are lhvectors, so they follow its rules: a component that
// overflows real is 22003, as in real arithmetic; different dimensions are
// 22000. The aggregates keep a double precision[] state {count, sums...}, a
// plain SQL type, so they combine across parallel workers.
extern "C" {
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"

PG_FUNCTION_INFO_V1(lhvector_norm);
PG_FUNCTION_INFO_V1(lhvector_normalize);
PG_FUNCTION_INFO_V1(lhvector_add);
PG_FUNCTION_INFO_V1(lhvector_subtract);
PG_FUNCTION_INFO_V1(lhvector_accumulate);
PG_FUNCTION_INFO_V1(lhvector_combine);
PG_FUNCTION_INFO_V1(lhvector_sum_final);
PG_FUNCTION_INFO_V1(lhvector_avg_final);
}

#include <cmath>

#include "core/exact_distance.h"
#include "types/lhvector.h"

namespace {

// 22000 unless both have the same dimension.
void check_same_dimension(const LhvectorValue* a, const LhvectorValue* b)
{
    if (a->dim != b->dim)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("different lhvector dimensions %d and %d", a->dim, b->dim)));
}

// A double as a component of a result: 22003 if it overflows real.
float result_component(double value)
{
    float result = float(value);
    if (unlikely(std::isinf(result)))
        ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE), errmsg("value out of range: overflow")));
    return result;
}

// The aggregate state {count, sum of component 1, ...}, checked (the
// functions can be called directly, with any array): 22023 if malformed.
ArrayType* state_array(Datum datum, int* dim, float8** values)
{
    ArrayType* state = DatumGetArrayTypeP(datum);
    bool well_formed = ARR_NDIM(state) == 1 && ARR_ELEMTYPE(state) == FLOAT8OID && !ARR_HASNULL(state) &&
                       ARR_DIMS(state)[0] >= 1 && ARR_DIMS(state)[0] - 1 <= LHVECTOR_MAX_DIM;
    if (well_formed) {
        *dim = ARR_DIMS(state)[0] - 1;
        *values = reinterpret_cast<float8*>(ARR_DATA_PTR(state));
        // No vector yet: {0}; otherwise a count of at least one.
        well_formed = *dim == 0 ? (*values)[0] == 0.0 : (*values)[0] >= 1.0;
    }
    if (!well_formed)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("malformed lhvector aggregate state"),
                        errdetail("Expected {0}, or {count, sum 1, ..., sum n} with count >= 1.")));
    return state;
}

ArrayType* new_state(int dim, float8** values)
{
    ArrayType* state = lhvector_new_array(FLOAT8OID, sizeof(float8), dim + 1);
    *values = reinterpret_cast<float8*>(ARR_DATA_PTR(state));
    return state;
}

// The sums of a state as an lhvector, each divided by `divisor`.
LhvectorValue* state_to_lhvector(const float8* values, int dim, double divisor)
{
    LhvectorValue* result = lhvector_alloc(dim);
    for (int i = 0; i < dim; i++)
        result->x[i] = result_component(values[i + 1] / divisor);
    return result;
}

// The Euclidean norm, summed in double precision.
double norm_of(const LhvectorValue* v)
{
    return std::sqrt(lhv::exact_kernels().dot(v->x, v->x, size_t(v->dim)));
}

// op applied to the two arguments' components, in double precision.
template <typename Op>
Datum elementwise(FunctionCallInfo fcinfo, Op op)
{
    LhvectorValue* a = PG_GETARG_LHVECTOR(0);
    LhvectorValue* b = PG_GETARG_LHVECTOR(1);
    check_same_dimension(a, b);
    LhvectorValue* result = lhvector_alloc(a->dim);
    for (int i = 0; i < a->dim; i++)
        result->x[i] = result_component(op(double(a->x[i]), double(b->x[i])));
    PG_RETURN_POINTER(result);
}

}  // namespace

extern "C" {

// The Euclidean norm, in double precision.
Datum lhvector_norm(PG_FUNCTION_ARGS)
{
    PG_RETURN_FLOAT8(norm_of(PG_GETARG_LHVECTOR(0)));
}

// The vector scaled to norm 1; a zero vector stays zero (as pgvector's
// l2_normalize), since it has no direction to keep.
Datum lhvector_normalize(PG_FUNCTION_ARGS)
{
    LhvectorValue* v = PG_GETARG_LHVECTOR(0);
    double norm = norm_of(v);
    LhvectorValue* result = lhvector_alloc(v->dim);
    if (norm > 0.0)
        for (int i = 0; i < v->dim; i++)
            result->x[i] = float(double(v->x[i]) / norm);
    PG_RETURN_POINTER(result);
}

Datum lhvector_add(PG_FUNCTION_ARGS)
{
    return elementwise(fcinfo, [](double a, double b) { return a + b; });
}

Datum lhvector_subtract(PG_FUNCTION_ARGS)
{
    return elementwise(fcinfo, [](double a, double b) { return a - b; });
}

// sum()/avg() transition: adds a vector to the state ({0} before the first).
// In an aggregate the state is updated in place.
Datum lhvector_accumulate(PG_FUNCTION_ARGS)
{
    int dim;
    float8* sums;
    ArrayType* state = state_array(PG_GETARG_DATUM(0), &dim, &sums);
    LhvectorValue* v = PG_GETARG_LHVECTOR(1);
    if (dim == 0) {
        state = new_state(v->dim, &sums);
    } else {
        if (dim != v->dim)
            ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                            errmsg("different lhvector dimensions %d and %d", dim, v->dim)));
        if (!AggCheckCallContext(fcinfo, NULL))
            state = DatumGetArrayTypePCopy(PointerGetDatum(state));
        state_array(PointerGetDatum(state), &dim, &sums);
    }
    sums[0] += 1.0;
    for (int i = 0; i < v->dim; i++)
        sums[i + 1] += double(v->x[i]);
    PG_RETURN_ARRAYTYPE_P(state);
}

// Adds two partial states (parallel aggregation).
Datum lhvector_combine(PG_FUNCTION_ARGS)
{
    int dim_a, dim_b;
    float8 *a, *b;
    state_array(PG_GETARG_DATUM(0), &dim_a, &a);
    state_array(PG_GETARG_DATUM(1), &dim_b, &b);
    if (dim_b == 0)
        PG_RETURN_DATUM(PG_GETARG_DATUM(0));
    if (dim_a == 0)
        PG_RETURN_DATUM(PG_GETARG_DATUM(1));
    if (dim_a != dim_b)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("different lhvector dimensions %d and %d", dim_a, dim_b)));
    float8* sums;
    ArrayType* result = new_state(dim_a, &sums);
    for (int i = 0; i <= dim_a; i++)
        sums[i] = a[i] + b[i];
    PG_RETURN_ARRAYTYPE_P(result);
}

// sum(): NULL when no row was aggregated.
Datum lhvector_sum_final(PG_FUNCTION_ARGS)
{
    int dim;
    float8* sums;
    state_array(PG_GETARG_DATUM(0), &dim, &sums);
    if (dim == 0)
        PG_RETURN_NULL();
    PG_RETURN_POINTER(state_to_lhvector(sums, dim, 1.0));
}

// avg(): the centroid; NULL when no row was aggregated.
Datum lhvector_avg_final(PG_FUNCTION_ARGS)
{
    int dim;
    float8* sums;
    state_array(PG_GETARG_DATUM(0), &dim, &sums);
    if (dim == 0)
        PG_RETURN_NULL();
    PG_RETURN_POINTER(state_to_lhvector(sums, dim, sums[0]));
}

}  // extern "C"
