// exact_distance_test.cpp: the double-precision sums behind the SQL
// operators: every SIMD variant this CPU runs agrees with the scalar
// reference (to the rounding of a different order of additions, and exactly
// on integer-valued inputs), against long double at every length that
// exercises a variant's steps and tails.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "exact_distance.h"

namespace {

struct Truth {
    long double l2, dot, l1, norm_a, norm_b;
};

Truth long_double_truth(const std::vector<float>& a, const std::vector<float>& b) {
    Truth t{0, 0, 0, 0, 0};
    for (std::size_t i = 0; i < a.size(); i++) {
        long double x = a[i], y = b[i];
        t.l2 += (x - y) * (x - y);
        t.dot += x * y;
        t.l1 += std::fabs(x - y);
        t.norm_a += x * x;
        t.norm_b += y * y;
    }
    return t;
}

// Within a few units in the last place of a double, relative to the sum of
// magnitudes (a dot product may cancel to near zero).
void expect_close(double actual, long double truth, long double magnitude, const std::string& what) {
    EXPECT_LE(std::fabs(static_cast<long double>(actual) - truth), 1e-13L * (magnitude + 1e-300L))
        << what << ": " << actual << " vs " << static_cast<double>(truth);
}

std::vector<lhv::ExactKernels> variants() {
    lhv::ExactKernels found[8];
    std::size_t count = lhv::available_exact_kernels(found, 8);
    return std::vector<lhv::ExactKernels>(found, found + count);
}

TEST(ExactDistance, ScalarFirstAndChosenIsAvailable) {
    std::vector<lhv::ExactKernels> all = variants();
    ASSERT_GE(all.size(), 1u);
    EXPECT_STREQ(all[0].name, "scalar");
    bool chosen_listed = false;
    for (const auto& k : all) chosen_listed |= std::string(k.name) == lhv::exact_kernels().name;
    EXPECT_TRUE(chosen_listed) << lhv::exact_kernels().name;
    std::printf("exact variants: ");
    for (const auto& k : all) std::printf("%s ", k.name);
    std::printf("(chosen: %s)\n", lhv::exact_kernels().name);
}

TEST(ExactDistance, EveryVariantMatchesLongDouble) {
    std::mt19937 rng(11);
    std::uniform_real_distribution<float> u(-3.0f, 3.0f);
    for (const auto& k : variants()) {
        for (std::size_t dim = 0; dim <= 40; dim++) {
            for (std::size_t big : {dim, dim + 784}) {
                std::vector<float> a(big), b(big);
                for (std::size_t i = 0; i < big; i++) a[i] = u(rng), b[i] = u(rng);
                Truth t = long_double_truth(a, b);
                std::string what = std::string(k.name) + " dim " + std::to_string(big);
                expect_close(k.squared_l2(a.data(), b.data(), big), t.l2, t.l2, what + " l2");
                expect_close(k.l1(a.data(), b.data(), big), t.l1, t.l1, what + " l1");
                expect_close(k.dot(a.data(), b.data(), big), t.dot, std::sqrt(t.norm_a * t.norm_b), what + " dot");
                lhv::ExactCosineSums s = k.cosine_sums(a.data(), b.data(), big);
                expect_close(s.dot, t.dot, std::sqrt(t.norm_a * t.norm_b), what + " cosine dot");
                expect_close(s.norm_a, t.norm_a, t.norm_a, what + " norm a");
                expect_close(s.norm_b, t.norm_b, t.norm_b, what + " norm b");
            }
        }
    }
}

// Small integers: every product and sum is exact in double, so all variants
// give the same bits whatever their order of additions.
TEST(ExactDistance, IntegerInputsGiveIdenticalSums) {
    std::mt19937 rng(5);
    std::uniform_int_distribution<int> u(-50, 50);
    std::vector<lhv::ExactKernels> all = variants();
    for (std::size_t dim : {1, 7, 8, 9, 16, 31, 784, 1536}) {
        std::vector<float> a(dim), b(dim);
        for (std::size_t i = 0; i < dim; i++) a[i] = float(u(rng)), b[i] = float(u(rng));
        const lhv::ExactKernels& ref = all[0];
        for (const auto& k : all) {
            std::string what = std::string(k.name) + " dim " + std::to_string(dim);
            EXPECT_EQ(k.squared_l2(a.data(), b.data(), dim), ref.squared_l2(a.data(), b.data(), dim)) << what;
            EXPECT_EQ(k.dot(a.data(), b.data(), dim), ref.dot(a.data(), b.data(), dim)) << what;
            EXPECT_EQ(k.l1(a.data(), b.data(), dim), ref.l1(a.data(), b.data(), dim)) << what;
            lhv::ExactCosineSums s = k.cosine_sums(a.data(), b.data(), dim);
            lhv::ExactCosineSums r = ref.cosine_sums(a.data(), b.data(), dim);
            EXPECT_EQ(s.dot, r.dot) << what;
            EXPECT_EQ(s.norm_a, r.norm_a) << what;
            EXPECT_EQ(s.norm_b, r.norm_b) << what;
        }
    }
}

// Float components far beyond float's range once squared stay finite in
// double; infinities and NaN make the sum non-finite (the SQL functions
// rely on that to report the component).
TEST(ExactDistance, LargeFiniteStaysFiniteAndInfinityDoesNot) {
    for (const auto& k : variants()) {
        for (std::size_t dim : {3, 8, 17, 64}) {
            std::vector<float> a(dim, 3.0e38f), b(dim, -3.0e38f);
            EXPECT_TRUE(std::isfinite(k.squared_l2(a.data(), b.data(), dim))) << k.name << " " << dim;
            EXPECT_TRUE(std::isfinite(k.cosine_sums(a.data(), b.data(), dim).norm_a)) << k.name;
            a[dim - 1] = INFINITY;
            EXPECT_FALSE(std::isfinite(k.squared_l2(a.data(), b.data(), dim))) << k.name << " " << dim;
            EXPECT_FALSE(std::isfinite(k.dot(a.data(), b.data(), dim))) << k.name << " " << dim;
            a[0] = NAN;
            EXPECT_TRUE(std::isnan(k.l1(a.data(), b.data(), dim))) << k.name << " " << dim;
        }
    }
}

}  // namespace
