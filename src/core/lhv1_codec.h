// lhv1_codec.h: the LHV1 snapshot format.
//
//   [4 bytes "LHV1"][u32 big-endian envelope length][JSON envelope][graph bytes]
//
// The graph bytes are hnswlib's saveIndex layout, so stock hnswlib can load
// them and lhv can import an index saved by stock hnswlib. Decoding never
// trusts a length: every size is checked against the bytes actually present
// before anything is allocated.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "hnsw_graph.h"

namespace lhv {

constexpr std::uint32_t kLhv1Version = 1;
constexpr std::size_t kLhv1MaxEnvelope = 64u << 20;

// Where encoded bytes go, so large snapshots can be streamed.
class ByteSink {
public:
    virtual ~ByteSink() = default;
    virtual void write(const void* data, std::size_t size) = 0;
};

class StringSink final : public ByteSink {
public:
    void write(const void* data, std::size_t size) override {
        bytes.append(static_cast<const char*>(data), size);
    }
    std::string bytes;
};

// Writes the graph in hnswlib's saveIndex layout.
void write_hnswlib_graph(const HnswGraph& graph, ByteSink& out);

// Checks hnswlib graph bytes against the params and builds a new graph from
// them in `memory`. Returns the header handle. Throws CorruptSnapshot.
ChunkHandle read_hnswlib_graph(const char* data, std::size_t size, const GraphParams& params,
                               ChunkMemory& memory);

// The parsed envelope. `metadata` is the rest of the envelope as JSON text
// (what a named index needs to map labels back); "{}" when absent.
struct Lhv1Envelope {
    std::uint32_t version = kLhv1Version;
    std::string name;
    GraphParams params;
    std::uint32_t ef_search = 40;
    std::string metadata_json = "{}";
};

// Encodes envelope + graph. The envelope's params are taken from the graph.
void encode_lhv1(const Lhv1Envelope& envelope, const HnswGraph& graph, ByteSink& out);

// Parses the header and envelope only; sets *graph_offset to where the graph
// bytes start. Throws CorruptSnapshot.
Lhv1Envelope decode_lhv1_envelope(const char* data, std::size_t size, std::size_t* graph_offset);

// Parses everything and loads the graph into `memory`. Throws CorruptSnapshot.
ChunkHandle decode_lhv1(const char* data, std::size_t size, ChunkMemory& memory,
                        Lhv1Envelope* envelope);

}  // namespace lhv
