// distance_functions.cpp: the SQL distance functions behind the operators
// <-> (Euclidean), <=> (cosine distance), <#> (negative inner product) and,
// on lhvector, <+> (L1), for real[] and for lhvector; and the support
// functions that tell an lhv index its metric.
//
// They compute in double precision over the exact inputs, so ORDER BY with
// them and no index is the brute-force truth the index is measured against.
// real[] and lhvector share the kernels, so the same vectors give the same
// distance, to the last bit, in either type (on one CPU: the SIMD variants
// add in different orders, see core/exact_distance.h).
extern "C" {
#include "postgres.h"

#include "fmgr.h"
}

#include <cmath>

#include "core/distance.h"
#include "core/exact_distance.h"
#include "vector_datum.h"

namespace {

// The executor calls these for every row an ORDER BY returns, so their sums
// run on the CPU's SIMD variant (core/exact_distance.h), still in double.
inline const lhv::ExactKernels& sums()
{
    return lhv::exact_kernels();
}

// 1 - cosine similarity; a zero vector has no direction, so it is an error.
double cosine_distance(const lhv::ExactCosineSums& s)
{
    if (s.norm_a == 0 || s.norm_b == 0)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("cosine distance is undefined for a zero vector")));
    double similarity = s.dot / std::sqrt(s.norm_a * s.norm_b);
    similarity = std::fmax(-1.0, std::fmin(1.0, similarity));
    return 1.0 - similarity;
}

// Both arguments of a distance function, read in `format` and checked to be
// comparable.
struct VectorPair {
    LhvVector a, b;
};

VectorPair read_pair(FunctionCallInfo fcinfo, LhvVectorFormat format)
{
    VectorPair pair{lhv_vector_from_datum(PG_GETARG_DATUM(0), format, "vector"),
                    lhv_vector_from_datum(PG_GETARG_DATUM(1), format, "vector")};
    lhv_vector_check_same_dimension(pair.a, pair.b);
    return pair;
}

// A sum over any NaN or infinite component is not finite (and a sum over
// finite floats cannot overflow a double): only then are the real[] inputs
// scanned again to say which component it was. lhvector values are finite
// by construction.
void check_finite_if(bool sum_is_finite, const VectorPair& pair)
{
    if (!sum_is_finite) {
        lhv_vector_check_finite(pair.a, "vector");
        lhv_vector_check_finite(pair.b, "vector");
    }
}

}  // namespace

extern "C" {

PG_FUNCTION_INFO_V1(lhv_l2_distance);
PG_FUNCTION_INFO_V1(lhv_cosine_distance);
PG_FUNCTION_INFO_V1(lhv_negative_inner_product);
PG_FUNCTION_INFO_V1(lhvector_l2_distance);
PG_FUNCTION_INFO_V1(lhvector_cosine_distance);
PG_FUNCTION_INFO_V1(lhvector_negative_inner_product);
PG_FUNCTION_INFO_V1(lhvector_l1_distance);

// Euclidean distance of two real[].
Datum lhv_l2_distance(PG_FUNCTION_ARGS)
{
    VectorPair v = read_pair(fcinfo, LhvVectorFormat::RealArray);
    double sum = sums().squared_l2(v.a.values, v.b.values, v.a.dimension);
    check_finite_if(std::isfinite(sum), v);
    PG_RETURN_FLOAT8(std::sqrt(sum));
}

// 1 - cosine similarity of two real[].
Datum lhv_cosine_distance(PG_FUNCTION_ARGS)
{
    VectorPair v = read_pair(fcinfo, LhvVectorFormat::RealArray);
    lhv::ExactCosineSums s = sums().cosine_sums(v.a.values, v.b.values, v.a.dimension);
    check_finite_if(std::isfinite(s.norm_a) && std::isfinite(s.norm_b), v);
    PG_RETURN_FLOAT8(cosine_distance(s));
}

// -(a . b) of two real[], so that smaller means nearer, as ORDER BY needs.
// Written as 0 - dot so that orthogonal vectors give 0, not -0.
Datum lhv_negative_inner_product(PG_FUNCTION_ARGS)
{
    VectorPair v = read_pair(fcinfo, LhvVectorFormat::RealArray);
    double dot = sums().dot(v.a.values, v.b.values, v.a.dimension);
    check_finite_if(std::isfinite(dot), v);
    PG_RETURN_FLOAT8(0.0 - dot);
}

// The same three, and L1, on lhvector (whose components are finite).

Datum lhvector_l2_distance(PG_FUNCTION_ARGS)
{
    VectorPair v = read_pair(fcinfo, LhvVectorFormat::FloatVector);
    PG_RETURN_FLOAT8(std::sqrt(sums().squared_l2(v.a.values, v.b.values, v.a.dimension)));
}

Datum lhvector_cosine_distance(PG_FUNCTION_ARGS)
{
    VectorPair v = read_pair(fcinfo, LhvVectorFormat::FloatVector);
    PG_RETURN_FLOAT8(cosine_distance(sums().cosine_sums(v.a.values, v.b.values, v.a.dimension)));
}

Datum lhvector_negative_inner_product(PG_FUNCTION_ARGS)
{
    VectorPair v = read_pair(fcinfo, LhvVectorFormat::FloatVector);
    PG_RETURN_FLOAT8(0.0 - sums().dot(v.a.values, v.b.values, v.a.dimension));
}

// Sum of absolute differences (taxicab distance).
Datum lhvector_l1_distance(PG_FUNCTION_ARGS)
{
    VectorPair v = read_pair(fcinfo, LhvVectorFormat::FloatVector);
    PG_RETURN_FLOAT8(sums().l1(v.a.values, v.b.values, v.a.dimension));
}

}  // extern "C"

extern "C" {

PG_FUNCTION_INFO_V1(lhv_l2_metric);
PG_FUNCTION_INFO_V1(lhv_ip_metric);
PG_FUNCTION_INFO_V1(lhv_cosine_metric);

// Support function 1 of lhv_l2_ops (and of every L2 operator class): the
// engine metric of the operator class.
Datum lhv_l2_metric(PG_FUNCTION_ARGS)
{
    (void)fcinfo;
    PG_RETURN_INT32(int32(lhv::Metric::L2));
}

// Support function 1 of the inner-product operator classes.
Datum lhv_ip_metric(PG_FUNCTION_ARGS)
{
    (void)fcinfo;
    PG_RETURN_INT32(int32(lhv::Metric::InnerProduct));
}

// Support function 1 of the cosine operator classes.
Datum lhv_cosine_metric(PG_FUNCTION_ARGS)
{
    (void)fcinfo;
    PG_RETURN_INT32(int32(lhv::Metric::Cosine));
}

}  // extern "C"
