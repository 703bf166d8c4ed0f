// lhvector_casts.cpp: casts between lhvector and the arrays applications
// already hold vectors in: real[], double precision[], numeric[], integer[].
//
// Arrays become lhvectors under the rules lhv's real[] vectors follow
// (one-dimensional, no NULL, 1 to 16,000 finite components) and the target's
// typmod; a component outside real's range is an error, as in a cast to real.
extern "C" {
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"

PG_FUNCTION_INFO_V1(lhvector_from_real_array);
PG_FUNCTION_INFO_V1(lhvector_from_double_array);
PG_FUNCTION_INFO_V1(lhvector_from_numeric_array);
PG_FUNCTION_INFO_V1(lhvector_from_integer_array);
PG_FUNCTION_INFO_V1(lhvector_to_real_array);
PG_FUNCTION_INFO_V1(lhvector_to_double_array);
PG_FUNCTION_INFO_V1(lhvector_to_numeric_array);
PG_FUNCTION_INFO_V1(lhvector_to_integer_array);
}

#include <cmath>
#include <cstring>

#include "types/lhvector.h"

namespace {

// The array argument, checked to be one-dimensional with no NULLs; its
// length is checked as an lhvector's dimension.
ArrayType* checked_array(Datum datum, Oid element_type, int* dim)
{
    ArrayType* array = DatumGetArrayTypeP(datum);
    if (ARR_ELEMTYPE(array) != element_type)
        elog(ERROR, "lhvector cast: expected an array of %s, got one of %s",
             format_type_be(element_type), format_type_be(ARR_ELEMTYPE(array)));
    if (ARR_NDIM(array) != 1)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("an lhvector is made from a one-dimensional array, not %d-dimensional",
                               ARR_NDIM(array))));
    if (ARR_HASNULL(array) && array_contains_nulls(array))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                        errmsg("an lhvector cannot have NULL components")));
    *dim = ARR_DIMS(array)[0];
    lhvector_check_dimension(*dim);
    return array;
}

// A double as a real, with the errors of a cast from double precision to
// real: out of range either way is 22003.
float double_to_real(double value, int position)
{
    if (!std::isfinite(value))
        lhvector_check_component(float(value), position);  // raises for NaN, infinity
    float result = float(value);
    if (std::isinf(result))
        ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
                        errmsg("value out of range: overflow")));
    if (result == 0.0f && value != 0.0)
        ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
                        errmsg("value out of range: underflow")));
    return result;
}
}  // namespace

ArrayType* lhvector_new_array(Oid element_type, int element_size, int count)
{
    Size bytes = ARR_OVERHEAD_NONULLS(1) + Size(element_size) * Size(count);
    ArrayType* array = static_cast<ArrayType*>(palloc0(bytes));
    SET_VARSIZE(array, bytes);
    array->ndim = 1;
    array->dataoffset = 0;
    array->elemtype = element_type;
    ARR_DIMS(array)[0] = count;
    ARR_LBOUND(array)[0] = 1;
    return array;
}

extern "C" {

// Each cast from an array takes (array, typmod, explicit), as a cast to a
// type with a typmod must.

Datum lhvector_from_real_array(PG_FUNCTION_ARGS)
{
    int dim;
    ArrayType* array = checked_array(PG_GETARG_DATUM(0), FLOAT4OID, &dim);
    lhvector_check_typmod(PG_GETARG_INT32(1), dim);
    LhvectorValue* result = lhvector_alloc(dim);
    memcpy(result->x, ARR_DATA_PTR(array), sizeof(float) * Size(dim));
    for (int i = 0; i < dim; i++)
        lhvector_check_component(result->x[i], i);
    PG_RETURN_POINTER(result);
}

Datum lhvector_from_double_array(PG_FUNCTION_ARGS)
{
    int dim;
    ArrayType* array = checked_array(PG_GETARG_DATUM(0), FLOAT8OID, &dim);
    lhvector_check_typmod(PG_GETARG_INT32(1), dim);
    LhvectorValue* result = lhvector_alloc(dim);
    const double* values = reinterpret_cast<const double*>(ARR_DATA_PTR(array));
    for (int i = 0; i < dim; i++)
        result->x[i] = double_to_real(values[i], i);
    PG_RETURN_POINTER(result);
}

Datum lhvector_from_integer_array(PG_FUNCTION_ARGS)
{
    int dim;
    ArrayType* array = checked_array(PG_GETARG_DATUM(0), INT4OID, &dim);
    lhvector_check_typmod(PG_GETARG_INT32(1), dim);
    LhvectorValue* result = lhvector_alloc(dim);
    const int32* values = reinterpret_cast<const int32*>(ARR_DATA_PTR(array));
    for (int i = 0; i < dim; i++)
        result->x[i] = float(values[i]);  // as integer::real rounds
    PG_RETURN_POINTER(result);
}

Datum lhvector_from_numeric_array(PG_FUNCTION_ARGS)
{
    int dim;
    ArrayType* array = checked_array(PG_GETARG_DATUM(0), NUMERICOID, &dim);
    lhvector_check_typmod(PG_GETARG_INT32(1), dim);
    Datum* elements;
    bool* nulls;
    int count;
    deconstruct_array(array, NUMERICOID, -1, false, TYPALIGN_INT, &elements, &nulls, &count);
    LhvectorValue* result = lhvector_alloc(dim);
    for (int i = 0; i < dim; i++) {
        // numeric::real: 22003 out of range; NaN and infinity pass and are
        // refused as components.
        result->x[i] = DatumGetFloat4(DirectFunctionCall1(numeric_float4, elements[i]));
        lhvector_check_component(result->x[i], i);
    }
    PG_RETURN_POINTER(result);
}

Datum lhvector_to_real_array(PG_FUNCTION_ARGS)
{
    const LhvectorValue* value = PG_GETARG_LHVECTOR(0);
    ArrayType* array = lhvector_new_array(FLOAT4OID, sizeof(float), value->dim);
    memcpy(ARR_DATA_PTR(array), value->x, sizeof(float) * Size(value->dim));
    PG_RETURN_ARRAYTYPE_P(array);
}

Datum lhvector_to_double_array(PG_FUNCTION_ARGS)
{
    const LhvectorValue* value = PG_GETARG_LHVECTOR(0);
    ArrayType* array = lhvector_new_array(FLOAT8OID, sizeof(double), value->dim);
    double* out = reinterpret_cast<double*>(ARR_DATA_PTR(array));
    for (int i = 0; i < value->dim; i++)
        out[i] = value->x[i];
    PG_RETURN_ARRAYTYPE_P(array);
}

// Rounds each component to the nearest integer, as real::integer does.
Datum lhvector_to_integer_array(PG_FUNCTION_ARGS)
{
    const LhvectorValue* value = PG_GETARG_LHVECTOR(0);
    ArrayType* array = lhvector_new_array(INT4OID, sizeof(int32), value->dim);
    int32* out = reinterpret_cast<int32*>(ARR_DATA_PTR(array));
    for (int i = 0; i < value->dim; i++) {
        float rounded = std::rint(value->x[i]);
        if (!FLOAT4_FITS_IN_INT32(rounded))
            ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
                            errmsg("integer out of range")));
        out[i] = int32(rounded);
    }
    PG_RETURN_ARRAYTYPE_P(array);
}

Datum lhvector_to_numeric_array(PG_FUNCTION_ARGS)
{
    const LhvectorValue* value = PG_GETARG_LHVECTOR(0);
    Datum* elements = static_cast<Datum*>(palloc(sizeof(Datum) * Size(value->dim)));
    for (int i = 0; i < value->dim; i++)
        elements[i] = DirectFunctionCall1(float4_numeric, Float4GetDatum(value->x[i]));
    int16 length;
    bool byval;
    char align;
    get_typlenbyvalalign(NUMERICOID, &length, &byval, &align);
    PG_RETURN_ARRAYTYPE_P(construct_array(elements, value->dim, NUMERICOID, length, byval, align));
}

}  // extern "C"
