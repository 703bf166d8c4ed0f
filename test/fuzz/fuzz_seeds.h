// fuzz_seeds.h: the graph shapes shared by the fuzz target and the seed
// corpus generator. An input that does not start with "LHV1" is read as one
// selector byte (an index into kFuzzSeeds, modulo its size) followed by raw
// hnswlib graph bytes, so the graph parser is fuzzed without the envelope.
#pragma once

#include <cstddef>
#include <cstdint>

#include "distance.h"

namespace lhv_fuzz {

struct Seed {
    lhv::Metric metric;
    std::uint32_t dimension;
    std::uint32_t m;
    std::uint32_t elements;
    std::uint32_t deleted;  // every deleted-th element is marked deleted (0: none)
    const char* metadata;
    // Written as lhv_export writes a named index: labels are element ids,
    // "labels" names the live ones, metadata is keyed by their ids and, under
    // cosine, "vectors" holds a stored vector for every third of them.
    bool exported;
};

constexpr Seed kFuzzSeeds[] = {
    {lhv::Metric::L2, 4, 2, 0, 0, "{}", false},
    {lhv::Metric::L2, 3, 2, 1, 0, "{}", false},
    {lhv::Metric::L2, 4, 2, 40, 0, R"({"ids":["a","b"],"n":2})", false},
    {lhv::Metric::L2, 2, 3, 60, 7, "{}", false},
    {lhv::Metric::InnerProduct, 4, 2, 30, 0, "{}", false},
    {lhv::Metric::InnerProduct, 5, 4, 50, 5, R"({"x":[1,2.5,null,true]})", false},
    {lhv::Metric::Cosine, 4, 2, 0, 0, "{}", false},
    {lhv::Metric::Cosine, 4, 2, 45, 9, "{}", false},
    {lhv::Metric::Cosine, 8, 3, 25, 0, R"({"k":"v"})", false},
    {lhv::Metric::L2, 3, 2, 30, 4, "", true},
    {lhv::Metric::InnerProduct, 2, 2, 12, 0, "", true},
    {lhv::Metric::Cosine, 4, 3, 35, 6, "", true},
    {lhv::Metric::Cosine, 3, 2, 0, 0, "", true},
};
constexpr std::size_t kFuzzSeedCount = sizeof kFuzzSeeds / sizeof kFuzzSeeds[0];
constexpr std::uint32_t kFuzzEfConstruction = 16;

}  // namespace lhv_fuzz
