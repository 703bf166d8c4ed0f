// fuzz_lhv1_decode.cpp: libFuzzer target for decode_lhv1, the decoder of
// LHV1 snapshots (the only outside bytes the engine parses). An input that
// does not start with "LHV1" goes to read_hnswlib_graph instead, with params
// picked by its first byte (see fuzz_seeds.h), so the graph parser is fuzzed
// without the JSON envelope in the way.
//
// Every input must either be rejected with lhv::Error or decode into a graph
// that can be searched. LHV1 inputs also go through decode_lhv1_import (what
// lhv_import reads), which must reject them or give rows with unique,
// non-empty ids of live elements. Anything else (a crash, a sanitizer report,
// another exception type, a huge allocation) is a finding.
#include <cmath>
#include <cstring>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "errors.h"
#include "fuzz_seeds.h"
#include "hnsw_graph.h"
#include "lhv1_codec.h"
#include "lhv1_import.h"

namespace {

// Caps what one input may allocate: a lying header must not get further.
constexpr std::size_t kMemoryLimit = 64u << 20;

// Searches a decoded graph once with a query drawn from the input bytes.
void search_once(lhv::ChunkMemory& memory, lhv::ChunkHandle handle, const std::uint8_t* data,
                 std::size_t size) {
    static lhv::StdGraphLocks locks(lhv::HnswGraph::kLockSlots);
    lhv::HnswGraph graph(memory, locks, handle);
    std::vector<float> query(graph.params().dimension);
    for (std::size_t j = 0; j < query.size(); j++)
        query[j] = 1.0f + static_cast<float>(data[j % size]) / 64.0f;  // finite, non-zero
    const auto results = graph.search(query.data(), 5, 16);
    for (const auto& r : results)
        if (r.id >= graph.size() || std::isnan(r.distance)) __builtin_trap();
    graph.destroy();
}

// The graph params a raw-graph input selects with its first byte.
lhv::GraphParams raw_params(std::uint8_t selector) {
    const lhv_fuzz::Seed& seed = lhv_fuzz::kFuzzSeeds[selector % lhv_fuzz::kFuzzSeedCount];
    lhv::GraphParams params;
    params.dimension = seed.dimension;
    params.m = seed.m;
    params.ef_construction = lhv_fuzz::kFuzzEfConstruction;
    params.metric = seed.metric;
    return params;
}

// Reads the input as lhv_import does; traps on rows that break its promises.
void import_once(const char* bytes, std::size_t size) {
    std::unique_ptr<lhv::Lhv1Import> import;
    try {
        import = lhv::decode_lhv1_import(bytes, size);
    } catch (const lhv::Error&) {
        return;
    }
    std::set<std::string> ids;
    for (const auto& row : import->rows) {
        if (row.element >= import->elements || row.id.empty() || !ids.insert(row.id).second) __builtin_trap();
        float first;
        std::memcpy(&first, row.vector, sizeof first);
        if (!std::isfinite(first)) __builtin_trap();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    lhv::HeapChunkMemory memory;
    memory.set_limit(kMemoryLimit);
    const char* bytes = reinterpret_cast<const char*>(data);
    const bool snapshot = size < 4 || std::memcmp(bytes, "LHV1", 4) == 0;
    if (snapshot) import_once(bytes, size);
    lhv::ChunkHandle handle = lhv::kInvalidChunk;
    try {
        if (snapshot) {
            lhv::Lhv1Envelope envelope;
            handle = lhv::decode_lhv1(bytes, size, memory, &envelope);
        } else {
            handle = lhv::read_hnswlib_graph(bytes + 1, size - 1, raw_params(data[0]), memory);
        }
    } catch (const lhv::Error&) {
        if (memory.allocated_bytes() != 0) __builtin_trap();  // a rejected input kept memory
        return 0;
    }
    search_once(memory, handle, data, size);
    return 0;
}
