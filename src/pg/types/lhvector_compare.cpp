// lhvector_compare.cpp: equality, ordering and hashing of lhvector values, for
// the btree and hash operator classes that let a column of lhvector be
// compared with =, be UNIQUE, and take part in DISTINCT, GROUP BY, UNION,
// ORDER BY v, merge and hash joins, as pgvector's vector can.
//
// The order is pgvector's: component by component, then the shorter vector
// first. Components are finite (every producer of a value refuses NaN and
// infinity), so float comparison is a total order, in which -0 equals 0; the
// hash treats them alike for that reason.
extern "C" {
#include "postgres.h"

#include "common/hashfn.h"
#include "fmgr.h"

PG_FUNCTION_INFO_V1(lhvector_eq);
PG_FUNCTION_INFO_V1(lhvector_ne);
PG_FUNCTION_INFO_V1(lhvector_lt);
PG_FUNCTION_INFO_V1(lhvector_le);
PG_FUNCTION_INFO_V1(lhvector_gt);
PG_FUNCTION_INFO_V1(lhvector_ge);
PG_FUNCTION_INFO_V1(lhvector_cmp);
PG_FUNCTION_INFO_V1(lhvector_hash);
PG_FUNCTION_INFO_V1(lhvector_hash_extended);
}

#include "types/lhvector.h"

namespace {

// -1, 0 or 1 as a sorts before, with or after b.
int compare(const LhvectorValue* a, const LhvectorValue* b)
{
    int common = a->dim < b->dim ? a->dim : b->dim;
    for (int i = 0; i < common; i++) {
        if (a->x[i] < b->x[i])
            return -1;
        if (a->x[i] > b->x[i])
            return 1;
    }
    if (a->dim != b->dim)
        return a->dim < b->dim ? -1 : 1;
    return 0;
}

// compare() of the two arguments, freeing their detoasted copies.
int compare_arguments(FunctionCallInfo fcinfo)
{
    LhvectorValue* a = PG_GETARG_LHVECTOR(0);
    LhvectorValue* b = PG_GETARG_LHVECTOR(1);
    int result = compare(a, b);
    PG_FREE_IF_COPY(a, 0);
    PG_FREE_IF_COPY(b, 1);
    return result;
}

// The components as hashed: a copy with -0 made 0 when there is a -0 (equal
// values must hash alike), else the value's own components.
const float* hashable_components(const LhvectorValue* value)
{
    for (int i = 0; i < value->dim; i++) {
        if (value->x[i] == 0.0f && std::signbit(value->x[i])) {
            float* copy = static_cast<float*>(palloc(sizeof(float) * size_t(value->dim)));
            for (int j = 0; j < value->dim; j++)
                copy[j] = value->x[j] == 0.0f ? 0.0f : value->x[j];
            return copy;
        }
    }
    return value->x;
}

}  // namespace

extern "C" {

Datum lhvector_eq(PG_FUNCTION_ARGS)
{
    PG_RETURN_BOOL(compare_arguments(fcinfo) == 0);
}

Datum lhvector_ne(PG_FUNCTION_ARGS)
{
    PG_RETURN_BOOL(compare_arguments(fcinfo) != 0);
}

Datum lhvector_lt(PG_FUNCTION_ARGS)
{
    PG_RETURN_BOOL(compare_arguments(fcinfo) < 0);
}

Datum lhvector_le(PG_FUNCTION_ARGS)
{
    PG_RETURN_BOOL(compare_arguments(fcinfo) <= 0);
}

Datum lhvector_gt(PG_FUNCTION_ARGS)
{
    PG_RETURN_BOOL(compare_arguments(fcinfo) > 0);
}

Datum lhvector_ge(PG_FUNCTION_ARGS)
{
    PG_RETURN_BOOL(compare_arguments(fcinfo) >= 0);
}

// The btree support function.
Datum lhvector_cmp(PG_FUNCTION_ARGS)
{
    PG_RETURN_INT32(compare_arguments(fcinfo));
}

// The hash support functions: the dimension is implied by the length hashed.
Datum lhvector_hash(PG_FUNCTION_ARGS)
{
    LhvectorValue* value = PG_GETARG_LHVECTOR(0);
    const float* components = hashable_components(value);
    Datum result = hash_any(reinterpret_cast<const unsigned char*>(components),
                            int(sizeof(float)) * value->dim);
    PG_RETURN_DATUM(result);
}

Datum lhvector_hash_extended(PG_FUNCTION_ARGS)
{
    LhvectorValue* value = PG_GETARG_LHVECTOR(0);
    const float* components = hashable_components(value);
    Datum result = hash_any_extended(reinterpret_cast<const unsigned char*>(components),
                                     int(sizeof(float)) * value->dim, PG_GETARG_INT64(1));
    PG_RETURN_DATUM(result);
}

}  // extern "C"
