// make_corpus.cpp: writes a seed corpus for fuzz_lhv1_decode: small valid
// LHV1 snapshots (every metric, empty and one-element graphs, several
// levels, deleted elements, metadata, exports with labels and vectors), the
// same graphs as raw hnswlib bytes behind a selector byte (see
// fuzz_seeds.h), and a libFuzzer dictionary.
//
//   make_lhv1_corpus <corpus-dir> [dictionary-file]
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "errors.h"
#include "fuzz_seeds.h"
#include "hnsw_graph.h"
#include "lhv1_codec.h"

namespace {

using lhv_fuzz::Seed;

// Builds one graph from uniform random vectors; returns its LHV1 snapshot
// and, in *raw, its selector byte followed by its hnswlib graph bytes.
std::string snapshot_of(const Seed& seed, std::uint8_t selector, std::string* raw) {
    lhv::HeapChunkMemory memory;
    lhv::StdGraphLocks locks(lhv::HnswGraph::kLockSlots);
    lhv::GraphParams params;
    params.dimension = seed.dimension;
    params.m = seed.m;
    params.ef_construction = lhv_fuzz::kFuzzEfConstruction;
    params.metric = seed.metric;
    lhv::HnswGraph graph(memory, locks, lhv::HnswGraph::create(memory, params));
    std::mt19937 rng(1000 + selector);
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
    if (seed.exported) {
        // As lhv_export: labels are element ids, the live ones named.
        std::vector<lhv::ElementRewrite> rewrite(graph.size());
        std::string metadata = "{";
        envelope.has_labels = true;
        for (std::uint32_t id = 0; id < graph.size(); id++) {
            rewrite[id] = {id, graph.is_deleted(id)};
            if (graph.is_deleted(id)) continue;
            const std::string name = "item-" + std::to_string(id);
            envelope.labels.push_back({id, name});
            if (id % 2 == 0) metadata += (metadata.size() > 1 ? "," : "") + ("\"" + name + "\":{\"n\":" + std::to_string(id) + "}");
            if (seed.metric == lhv::Metric::Cosine && id % 3 == 0) {
                envelope.vector_labels.push_back(id);
                for (std::uint32_t j = 0; j < seed.dimension; j++) envelope.vector_values.push_back(2.5f * graph.vector(id)[j]);
            }
        }
        envelope.metadata_json = metadata + "}";
        sink.bytes = lhv::encode_lhv1_envelope(envelope, params);
        lhv::write_hnswlib_graph(graph, sink, rewrite.data(), rewrite.size());
    } else {
        lhv::encode_lhv1(envelope, graph, sink);
    }
    lhv::StringSink graph_bytes;
    lhv::write_hnswlib_graph(graph, graph_bytes);
    *raw = std::string(1, static_cast<char>(selector)) + graph_bytes.bytes;
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
    R"("\"cosine\"")",  R"("\xff\xff\xff\xff")", R"("\x00\x00\x01\x00")", R"("\"labels\"")",
    R"("\"vectors\"")", R"("\"AACAPwAAAEA=\"")",
};

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stdout, "usage: %s <corpus-dir> [dictionary-file]\n", argv[0]);
        return 2;
    }
    const std::string dir = argv[1];
    for (std::size_t i = 0; i < lhv_fuzz::kFuzzSeedCount; i++) {
        const Seed& seed = lhv_fuzz::kFuzzSeeds[i];
        const std::string stem = dir + "/seed_" + std::to_string(i) + "_" + lhv::metric_name(seed.metric) + "_" +
                                 std::to_string(seed.elements);
        std::string raw;
        const std::string snapshot = snapshot_of(seed, static_cast<std::uint8_t>(i), &raw);
        if (!write_file(stem + ".lhv1", snapshot) || !write_file(stem + ".hnswlib", raw)) {
            std::fprintf(stdout, "cannot write %s\n", stem.c_str());
            return 1;
        }
    }
    if (argc >= 3) {
        std::ofstream dict(argv[2]);
        for (const char* token : kDictionary) dict << token << "\n";
        if (!dict) return 1;
    }
    return 0;
}
