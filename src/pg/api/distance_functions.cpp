// distance_functions.cpp: the SQL distance functions behind the operators
// <-> (Euclidean), <=> (cosine distance), <#> (negative inner product) and,
// on lhvector, <+> (L1), for real[] and for lhvector; and the support
// functions that tell an lhv index its metric.
//
// They compute in double precision over the exact inputs, so ORDER BY with
// them and no index is the brute-force truth the index is measured against.
// real[] and lhvector share the kernels, so the same vectors give the same
// distance, to the last bit, in either type.
extern "C" {
#include "postgres.h"

#include "fmgr.h"
}

#include <cmath>

#include "core/distance.h"
#include "vector_datum.h"

namespace {

// The executor calls these for every row an ORDER BY returns, so they are
// hot: each sums only what its metric needs, in one pass with two
// independent accumulators (even and odd components) per sum.

double squared_l2_sum(const float* a, const float* b, int n)
{
    double even = 0, odd = 0;
    int i = 0;
    for (; i + 1 < n; i += 2) {
        double d0 = double(a[i]) - double(b[i]);
        double d1 = double(a[i + 1]) - double(b[i + 1]);
        even += d0 * d0;
        odd += d1 * d1;
    }
    if (i < n) {
        double d = double(a[i]) - double(b[i]);
        even += d * d;
    }
    return even + odd;
}

double dot_sum(const float* a, const float* b, int n)
{
    double even = 0, odd = 0;
    int i = 0;
    for (; i + 1 < n; i += 2) {
        even += double(a[i]) * double(b[i]);
        odd += double(a[i + 1]) * double(b[i + 1]);
    }
    if (i < n)
        even += double(a[i]) * double(b[i]);
    return even + odd;
}

struct CosineSums {
    double dot, norm_a, norm_b;
};

CosineSums cosine_sums(const float* a, const float* b, int n)
{
    CosineSums even{0, 0, 0}, odd{0, 0, 0};
    int i = 0;
    for (; i + 1 < n; i += 2) {
        double x0 = a[i], y0 = b[i];
        double x1 = a[i + 1], y1 = b[i + 1];
        even.dot += x0 * y0;
        odd.dot += x1 * y1;
        even.norm_a += x0 * x0;
        odd.norm_a += x1 * x1;
        even.norm_b += y0 * y0;
        odd.norm_b += y1 * y1;
    }
    if (i < n) {
        double x = a[i], y = b[i];
        even.dot += x * y;
        even.norm_a += x * x;
        even.norm_b += y * y;
    }
    return CosineSums{even.dot + odd.dot, even.norm_a + odd.norm_a, even.norm_b + odd.norm_b};
}

double l1_sum(const float* a, const float* b, int n)
{
    double even = 0, odd = 0;
    int i = 0;
    for (; i + 1 < n; i += 2) {
        even += std::fabs(double(a[i]) - double(b[i]));
        odd += std::fabs(double(a[i + 1]) - double(b[i + 1]));
    }
    if (i < n)
        even += std::fabs(double(a[i]) - double(b[i]));
    return even + odd;
}

// 1 - cosine similarity; a zero vector has no direction, so it is an error.
double cosine_distance(const CosineSums& s)
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
    double sum = squared_l2_sum(v.a.values, v.b.values, v.a.dimension);
    check_finite_if(std::isfinite(sum), v);
    PG_RETURN_FLOAT8(std::sqrt(sum));
}

// 1 - cosine similarity of two real[].
Datum lhv_cosine_distance(PG_FUNCTION_ARGS)
{
    VectorPair v = read_pair(fcinfo, LhvVectorFormat::RealArray);
    CosineSums s = cosine_sums(v.a.values, v.b.values, v.a.dimension);
    check_finite_if(std::isfinite(s.norm_a) && std::isfinite(s.norm_b), v);
    PG_RETURN_FLOAT8(cosine_distance(s));
}

// -(a . b) of two real[], so that smaller means nearer, as ORDER BY needs.
// Written as 0 - dot so that orthogonal vectors give 0, not -0.
Datum lhv_negative_inner_product(PG_FUNCTION_ARGS)
{
    VectorPair v = read_pair(fcinfo, LhvVectorFormat::RealArray);
    double dot = dot_sum(v.a.values, v.b.values, v.a.dimension);
    check_finite_if(std::isfinite(dot), v);
    PG_RETURN_FLOAT8(0.0 - dot);
}

// The same three, and L1, on lhvector (whose components are finite).

Datum lhvector_l2_distance(PG_FUNCTION_ARGS)
{
    VectorPair v = read_pair(fcinfo, LhvVectorFormat::FloatVector);
    PG_RETURN_FLOAT8(std::sqrt(squared_l2_sum(v.a.values, v.b.values, v.a.dimension)));
}

Datum lhvector_cosine_distance(PG_FUNCTION_ARGS)
{
    VectorPair v = read_pair(fcinfo, LhvVectorFormat::FloatVector);
    PG_RETURN_FLOAT8(cosine_distance(cosine_sums(v.a.values, v.b.values, v.a.dimension)));
}

Datum lhvector_negative_inner_product(PG_FUNCTION_ARGS)
{
    VectorPair v = read_pair(fcinfo, LhvVectorFormat::FloatVector);
    PG_RETURN_FLOAT8(0.0 - dot_sum(v.a.values, v.b.values, v.a.dimension));
}

// Sum of absolute differences (taxicab distance).
Datum lhvector_l1_distance(PG_FUNCTION_ARGS)
{
    VectorPair v = read_pair(fcinfo, LhvVectorFormat::FloatVector);
    PG_RETURN_FLOAT8(l1_sum(v.a.values, v.b.values, v.a.dimension));
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
