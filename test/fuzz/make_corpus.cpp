// make_corpus.cpp: writes a seed corpus of small valid LHV1 snapshots for
// fuzz_lhv1_decode (every metric, empty and one-element graphs, several
// levels, deleted elements, metadata), plus a libFuzzer dictionary.
//
//   make_lhv1_corpus <corpus-dir> [dictionary-file]
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "errors.h"
#include "hnsw_graph.h"
#include "lhv1_codec.h"

namespace {

struct Seed {
    lhv::Metric metric;
    std::uint32_t dimension;
    std::uint32_t m;
    std::uint32_t elements;
    std::uint32_t deleted;  // every deleted-th element is marked deleted (0: none)
    const char* metadata;
};

// Builds one graph from uniform random vectors and encodes it.
std::string snapshot_of(const Seed& seed, std::uint32_t rng_seed) {
    lhv::HeapChunkMemory memory;
    lhv::StdGraphLocks locks(lhv::HnswGraph::kLockSlots);
    lhv::GraphParams params;
    params.dimension = seed.dimension;
    params.m = seed.m;
    params.ef_construction = 16;
    params.metric = seed.metric;
    lhv::HnswGraph graph(memory, locks, lhv::HnswGraph::create(memory, params));
    std::mt19937 rng(rng_seed);
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    std::vector<float> v(seed.dimension);
    for (std::uint32_t i = 0; i < seed.elements; i++) {
        for (float& x : v) x = uniform(rng);
        graph.add(v.data(), 100 + i);
    }
    if (seed.deleted != 0)
        for (std::uint32_t i = 0; i < seed.elements; i += seed.deleted) graph.mark_deleted(i);
    lhv::Lhv1Envelope envelope;
    envelope.name = "seed";
    envelope.ef_search = 10;
    envelope.metadata_json = seed.metadata;
    lhv::StringSink sink;
    lhv::encode_lhv1(envelope, graph, sink);
    graph.destroy();  // HeapChunkMemory does not free blocks still in use
    return sink.bytes;
}

bool write_file(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return static_cast<bool>(out);
}

// Tokens of the format that random mutation would rarely produce.
const char* const kDictionary[] = {
    R"("LHV1")",        R"("\"version\"")",  R"("\"params\"")",    R"("\"metadata\"")",
    R"("\"name\"")",    R"("\"dimension\"")", R"("\"m\"")",         R"("\"ef_construction\"")",
    R"("\"ef_search\"")", R"("\"distance\"")", R"("\"l2\"")",       R"("\"ip\"")",
    R"("\"cosine\"")",  R"("\xff\xff\xff\xff")", R"("\x00\x00\x01\x00")",
};

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stdout, "usage: %s <corpus-dir> [dictionary-file]\n", argv[0]);
        return 2;
    }
    const std::string dir = argv[1];
    const Seed seeds[] = {
        {lhv::Metric::L2, 4, 2, 0, 0, "{}"},
        {lhv::Metric::L2, 3, 2, 1, 0, "{}"},
        {lhv::Metric::L2, 4, 2, 40, 0, R"({"ids":["a","b"],"n":2})"},
        {lhv::Metric::L2, 2, 3, 60, 7, "{}"},
        {lhv::Metric::InnerProduct, 4, 2, 30, 0, "{}"},
        {lhv::Metric::InnerProduct, 5, 4, 50, 5, R"({"x":[1,2.5,null,true]})"},
        {lhv::Metric::Cosine, 4, 2, 0, 0, "{}"},
        {lhv::Metric::Cosine, 4, 2, 45, 9, "{}"},
        {lhv::Metric::Cosine, 8, 3, 25, 0, R"({"k":"v"})"},
    };
    std::uint32_t index = 0;
    for (const Seed& seed : seeds) {
        const std::string path = dir + "/seed_" + std::to_string(index) + "_" + lhv::metric_name(seed.metric) +
                                 "_" + std::to_string(seed.elements) + ".lhv1";
        if (!write_file(path, snapshot_of(seed, 1000 + index))) {
            std::fprintf(stdout, "cannot write %s\n", path.c_str());
            return 1;
        }
        index++;
    }
    if (argc >= 3) {
        std::ofstream dict(argv[2]);
        for (const char* token : kDictionary) dict << token << "\n";
        if (!dict) return 1;
    }
    return 0;
}
