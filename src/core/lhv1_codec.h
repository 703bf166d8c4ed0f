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

// Where the bytes to decode come from, so that a large snapshot can be
// decoded from its pieces (in PostgreSQL, slices of its bytea parts in TOAST)
// without ever being joined in one buffer. The decoder asks for views of at
// most kMaxSourceView bytes, almost always at increasing offsets.
constexpr std::size_t kMaxSourceView = 1u << 20;

class ByteSource {
public:
    virtual ~ByteSource() = default;
    // The number of bytes.
    virtual std::size_t size() const = 0;
    // The bytes [offset, offset + length) at an address that stays valid
    // until the next call; the caller keeps offset + length <= size() and
    // length <= kMaxSourceView. May throw (a failed read).
    virtual const char* view(std::size_t offset, std::size_t length) = 0;
};

// Bytes already in memory.
class MemorySource final : public ByteSource {
public:
    MemorySource(const char* data, std::size_t size) : data_(data), size_(size) {}
    std::size_t size() const override { return size_; }
    const char* view(std::size_t offset, std::size_t) override { return data_ + offset; }

private:
    const char* data_;
    std::size_t size_;
};

// Copies the bytes [offset, offset + length) of `in` into `out`, in views.
void read_source(ByteSource& in, std::size_t offset, void* out, std::size_t length);

// Writes the graph in hnswlib's saveIndex layout.
void write_hnswlib_graph(const HnswGraph& graph, ByteSink& out);

// Checks hnswlib graph bytes against the params and builds a new graph from
// them in `memory`. Returns the header handle. Throws CorruptSnapshot.
ChunkHandle read_hnswlib_graph(const char* data, std::size_t size, const GraphParams& params,
                               ChunkMemory& memory);
// The same for graph bytes that start at byte `start` of `in` and run to its
// end. Only the header and the link lists after the records are copied out
// of the source; each level-0 record goes from its view into the graph.
ChunkHandle read_hnswlib_graph(ByteSource& in, std::size_t start, const GraphParams& params,
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
// The same, reading the snapshot from `in` in pieces (see ByteSource).
ChunkHandle decode_lhv1(ByteSource& in, ChunkMemory& memory, Lhv1Envelope* envelope);

}  // namespace lhv
