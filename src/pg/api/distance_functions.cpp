// distance_functions.cpp: the SQL distance functions behind the operators
// <-> (Euclidean), <=> (cosine distance) and <#> (negative inner product).
//
// They compute in double precision over the exact inputs, so ORDER BY with
// them and no index is the brute-force truth the index is measured against.
extern "C" {
#include "postgres.h"

#include "fmgr.h"
}

#include <cmath>

#include "core/distance.h"
#include "vector_datum.h"

// Sums over both vectors after checking they are comparable.
struct DotSums {
    double dot = 0, norm_a = 0, norm_b = 0, squared_l2 = 0;
};

// One pass over both vectors with two independent sets of accumulators (the
// executor calls this for every row an ORDER BY returns, so it is hot).
// A NaN or infinite component makes some sum non-finite; only then are the
// inputs scanned again to say which component it was.
static DotSums lhv_sums(FunctionCallInfo fcinfo)
{
    LhvVector a = lhv_vector_from_datum(PG_GETARG_DATUM(0), "vector");
    LhvVector b = lhv_vector_from_datum(PG_GETARG_DATUM(1), "vector");
    lhv_vector_check_same_dimension(a, b);

    DotSums even, odd;
    int i = 0;
    for (; i + 1 < a.dimension; i += 2) {
        double x0 = a.values[i], y0 = b.values[i];
        double x1 = a.values[i + 1], y1 = b.values[i + 1];
        even.dot += x0 * y0;
        odd.dot += x1 * y1;
        even.norm_a += x0 * x0;
        odd.norm_a += x1 * x1;
        even.norm_b += y0 * y0;
        odd.norm_b += y1 * y1;
        even.squared_l2 += (x0 - y0) * (x0 - y0);
        odd.squared_l2 += (x1 - y1) * (x1 - y1);
    }
    if (i < a.dimension) {
        double x = a.values[i], y = b.values[i];
        even.dot += x * y;
        even.norm_a += x * x;
        even.norm_b += y * y;
        even.squared_l2 += (x - y) * (x - y);
    }
    DotSums s;
    s.dot = even.dot + odd.dot;
    s.norm_a = even.norm_a + odd.norm_a;
    s.norm_b = even.norm_b + odd.norm_b;
    s.squared_l2 = even.squared_l2 + odd.squared_l2;
    if (!std::isfinite(s.norm_a) || !std::isfinite(s.norm_b)) {
        lhv_vector_check_finite(a, "vector");
        lhv_vector_check_finite(b, "vector");
    }
    return s;
}

extern "C" {

PG_FUNCTION_INFO_V1(lhv_l2_distance);
PG_FUNCTION_INFO_V1(lhv_cosine_distance);
PG_FUNCTION_INFO_V1(lhv_negative_inner_product);

// Euclidean distance.
Datum lhv_l2_distance(PG_FUNCTION_ARGS)
{
    PG_RETURN_FLOAT8(std::sqrt(lhv_sums(fcinfo).squared_l2));
}

// 1 - cosine similarity; a zero vector has no direction, so it is an error.
Datum lhv_cosine_distance(PG_FUNCTION_ARGS)
{
    DotSums s = lhv_sums(fcinfo);
    if (s.norm_a == 0 || s.norm_b == 0)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("cosine distance is undefined for a zero vector")));
    double similarity = s.dot / std::sqrt(s.norm_a * s.norm_b);
    similarity = std::fmax(-1.0, std::fmin(1.0, similarity));
    PG_RETURN_FLOAT8(1.0 - similarity);
}

// -(a . b), so that smaller means nearer, as ORDER BY needs. Written as
// 0 - dot so that orthogonal vectors give 0, not -0.
Datum lhv_negative_inner_product(PG_FUNCTION_ARGS)
{
    PG_RETURN_FLOAT8(0.0 - lhv_sums(fcinfo).dot);
}

}  // extern "C"

extern "C" {

PG_FUNCTION_INFO_V1(lhv_l2_metric);
PG_FUNCTION_INFO_V1(lhv_ip_metric);
PG_FUNCTION_INFO_V1(lhv_cosine_metric);

// Support function 1 of lhv_l2_ops: the engine metric of the operator class.
Datum lhv_l2_metric(PG_FUNCTION_ARGS)
{
    (void)fcinfo;
    PG_RETURN_INT32(int32(lhv::Metric::L2));
}

// Support function 1 of lhv_ip_ops.
Datum lhv_ip_metric(PG_FUNCTION_ARGS)
{
    (void)fcinfo;
    PG_RETURN_INT32(int32(lhv::Metric::InnerProduct));
}

// Support function 1 of lhv_cosine_ops.
Datum lhv_cosine_metric(PG_FUNCTION_ARGS)
{
    (void)fcinfo;
    PG_RETURN_INT32(int32(lhv::Metric::Cosine));
}

}  // extern "C"
