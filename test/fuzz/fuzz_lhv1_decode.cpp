// fuzz_lhv1_decode.cpp: libFuzzer target for decode_lhv1, the decoder of
// LHV1 snapshots (the only outside bytes the engine parses).
//
// Every input must either be rejected with lhv::Error or decode into a graph
// that can be searched. Anything else (a crash, a sanitizer report, another
// exception type, a huge allocation) is a finding.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "errors.h"
#include "hnsw_graph.h"
#include "lhv1_codec.h"

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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    lhv::HeapChunkMemory memory;
    memory.set_limit(kMemoryLimit);
    lhv::ChunkHandle handle = lhv::kInvalidChunk;
    try {
        lhv::Lhv1Envelope envelope;
        handle = lhv::decode_lhv1(reinterpret_cast<const char*>(data), size, memory, &envelope);
    } catch (const lhv::Error&) {
        if (memory.allocated_bytes() != 0) __builtin_trap();  // a rejected input kept memory
        return 0;
    }
    search_once(memory, handle, data, size);
    return 0;
}
