// distance_test.cpp: every SIMD kernel this CPU runs agrees with the scalar
// reference; vector validation and normalisation.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "distance.h"
#include "errors.h"

namespace {

using lhv::Metric;

std::vector<float> random_vector(std::size_t dim, std::mt19937& rng) {
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::vector<float> v(dim);
    for (float& x : v) x = u(rng);
    return v;
}

void expect_relatively_near(float actual, float expected, const std::string& what) {
    float tolerance = 1e-5f * std::max(1.0f, std::fabs(expected));
    EXPECT_NEAR(actual, expected, tolerance) << what;
}

TEST(Distance, EveryKernelMatchesScalar) {
    lhv::KernelSet kernels[8];
    std::size_t count = lhv::available_kernels(kernels, 8);
    ASSERT_GE(count, 1u);
    EXPECT_STREQ(kernels[0].name, "scalar");
    std::printf("kernels: ");
    for (std::size_t i = 0; i < count; i++) std::printf("%s ", kernels[i].name);
    std::printf("(chosen: %s)\n", lhv::simd_level());
    std::mt19937 rng(7);
    for (std::size_t dim : {1, 3, 17, 784, 1536}) {
        for (int trial = 0; trial < 5; trial++) {
            std::vector<float> a = random_vector(dim, rng), b = random_vector(dim, rng);
            float l2 = lhv::l2_squared_scalar(a.data(), b.data(), dim);
            float ip = lhv::inner_product_distance_scalar(a.data(), b.data(), dim);
            for (std::size_t k = 0; k < count; k++) {
                std::string what = std::string(kernels[k].name) + " dim " + std::to_string(dim);
                expect_relatively_near(kernels[k].l2(a.data(), b.data(), dim), l2, what + " l2");
                expect_relatively_near(kernels[k].inner_product(a.data(), b.data(), dim), ip, what + " ip");
            }
        }
    }
}

TEST(Distance, ScalarReferenceValues) {
    const float a[3] = {1, 2, 3}, b[3] = {4, 6, 3};
    EXPECT_FLOAT_EQ(lhv::l2_squared_scalar(a, b, 3), 25.0f);
    EXPECT_FLOAT_EQ(lhv::inner_product_distance_scalar(a, b, 3), 1.0f - 25.0f);
    EXPECT_FLOAT_EQ(lhv::distance_function(Metric::L2)(a, b, 3), 25.0f);
    EXPECT_FLOAT_EQ(lhv::distance_function(Metric::InnerProduct)(a, b, 3), -24.0f);
    EXPECT_FLOAT_EQ(lhv::distance_function(Metric::Cosine)(a, b, 3), -24.0f);  // 1 - dot, on unit vectors
}

TEST(Distance, MetricNames) {
    for (Metric m : {Metric::L2, Metric::InnerProduct, Metric::Cosine}) {
        Metric parsed;
        ASSERT_TRUE(lhv::metric_from_name(lhv::metric_name(m), &parsed));
        EXPECT_EQ(parsed, m);
    }
    Metric parsed;
    EXPECT_FALSE(lhv::metric_from_name("euclid", &parsed));
}

// Expects validate_vector to throw InvalidVector with `fragment` in the message.
void expect_invalid(const std::vector<float>& v, Metric metric, const std::string& fragment) {
    try {
        lhv::validate_vector(v.data(), v.size(), metric);
        FAIL() << "no error for " << fragment;
    } catch (const lhv::Error& e) {
        EXPECT_EQ(e.kind(), lhv::ErrorKind::InvalidVector);
        EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
}

TEST(Distance, ValidateRejectsNonFiniteAndZeroCosine) {
    const float inf = std::numeric_limits<float>::infinity();
    expect_invalid({1, std::nanf(""), 2}, Metric::L2, "component 1 is NaN");
    expect_invalid({1, 2, inf}, Metric::InnerProduct, "component 2 is infinite");
    expect_invalid({-inf, 2, 3}, Metric::Cosine, "component 0 is infinite");
    expect_invalid({0, 0, 0}, Metric::Cosine, "zero vector");
    std::vector<float> zero{0, 0, 0}, fine{1, -2, 3};
    EXPECT_NO_THROW(lhv::validate_vector(zero.data(), 3, Metric::L2));
    EXPECT_NO_THROW(lhv::validate_vector(zero.data(), 3, Metric::InnerProduct));
    EXPECT_NO_THROW(lhv::validate_vector(fine.data(), 3, Metric::Cosine));
}

TEST(Distance, NormalizeMakesUnitVectorsInPlace) {
    std::vector<float> v{3, 4};
    lhv::normalize(v.data(), v.data(), 2);
    EXPECT_FLOAT_EQ(v[0], 0.6f);
    EXPECT_FLOAT_EQ(v[1], 0.8f);
    std::mt19937 rng(3);
    std::vector<float> w = random_vector(1536, rng), out(1536);
    lhv::normalize(w.data(), out.data(), w.size());
    double norm = 0;
    for (float x : out) norm += double(x) * x;
    EXPECT_NEAR(norm, 1.0, 1e-5);
}

}  // namespace
