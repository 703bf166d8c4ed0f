// lhv1_codec.h: the LHV1 snapshot format.
//
//   [4 bytes "LHV1"][u32 big-endian envelope length][JSON envelope][graph bytes]
//
// The graph bytes are hnswlib's saveIndex layout, so stock hnswlib can load
// them and lhv can import an index saved by stock hnswlib. Decoding never
// trusts a length: every size is checked against the bytes actually present
// before anything is allocated.
//
// The same format serves the snapshots of lhv indexes (labels are heap TIDs,
// no "labels" key) and the exports of named indexes (lhv_export: labels are
// small integers, "labels" maps them to ids, "vectors" keeps the vectors as
// stored when the graph holds them normalised).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "hnsw_graph.h"

namespace lhv {

constexpr std::uint32_t kLhv1Version = 1;
// An envelope may be as large as a bytea (an export's "vectors" can take
// hundreds of MB); what its parse may allocate is bounded by the number of
// JSON values instead (each costs a few dozen bytes once parsed).
constexpr std::size_t kLhv1MaxEnvelope = std::size_t{1} << 30;
constexpr std::size_t kLhv1MaxJsonValues = 32u << 20;

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

// One element as an export writes it or an import loads it: its label and
// whether it is marked deleted, in place of what the graph or the bytes say.
struct ElementRewrite {
    std::uint64_t label;
    bool deleted;
};

// Writes the graph in hnswlib's saveIndex layout. With `rewrite`, which must
// hold one entry per element (rewrite_count == graph.size(), so the caller
// keeps inserts out), each element's label and deletion mark come from it.
void write_hnswlib_graph(const HnswGraph& graph, ByteSink& out, const ElementRewrite* rewrite = nullptr,
                         std::size_t rewrite_count = 0);

// The number of bytes write_hnswlib_graph writes for the graph as it is now.
std::size_t hnswlib_graph_bytes(const HnswGraph& graph);

// At most that: the header and the level-0 records of the elements counted
// now, without the upper levels' links. Reads no element, so it may run
// while inserts go on (to size buffers before taking a lock).
std::size_t hnswlib_graph_bytes_at_least(const HnswGraph& graph);

// Writes the hnswlib bytes of an empty graph with `params`.
void write_empty_hnswlib_graph(const GraphParams& params, ByteSink& out);

// Graph bytes in hnswlib's layout, checked in full against the params on
// construction (sizes, counts, ids, levels, finite vectors, unit vectors
// under Cosine) without allocating from any ChunkMemory. The bytes must
// outlive the object. Throws CorruptSnapshot.
class HnswlibGraphBytes {
public:
    HnswlibGraphBytes(const char* data, std::size_t size, const GraphParams& params);

    std::uint32_t size() const noexcept { return count_; }
    // Each takes an id below size().
    std::uint64_t label(std::uint32_t id) const noexcept;
    bool is_deleted(std::uint32_t id) const noexcept;
    // The element's vector: dimension little-endian floats, not aligned.
    const char* vector_bytes(std::uint32_t id) const noexcept;

    // Builds a graph from the bytes in `memory` and returns its header
    // handle. With `rewrite` (size() entries), each element gets its label
    // and deletion mark from it. Gives everything back if it throws.
    ChunkHandle load(ChunkMemory& memory, const ElementRewrite* rewrite = nullptr) const;

private:
    const char* data_;
    std::size_t size_;
    GraphParams params_;
    std::uint32_t count_ = 0;
    std::uint32_t entry_point_ = 0;
    int max_level_ = -1;
    std::size_t record_bytes_ = 0;
    std::size_t label_offset_ = 0;
    std::size_t data_offset_ = 0;
    std::size_t upper_level_bytes_ = 0;
    std::vector<std::uint8_t> levels_;
};

// Checks hnswlib graph bytes against the params and builds a new graph from
// them in `memory`. Returns the header handle. Throws CorruptSnapshot.
ChunkHandle read_hnswlib_graph(const char* data, std::size_t size, const GraphParams& params,
                               ChunkMemory& memory);
// The same for graph bytes that start at byte `start` of `in` and run to its
// end. Only the header and the link lists after the records are copied out
// of the source; each level-0 record goes from its view into the graph.
ChunkHandle read_hnswlib_graph(ByteSource& in, std::size_t start, const GraphParams& params,
                               ChunkMemory& memory);

// An entry of an envelope's "labels": graph label -> id.
struct Lhv1Label {
    std::uint64_t label;
    std::string id;
};

// The parsed envelope. `metadata_json` is its "metadata" object as JSON
// text ("{}" when absent): for a named index, id -> metadata.
struct Lhv1Envelope {
    std::uint32_t version = kLhv1Version;
    std::string name;
    GraphParams params;
    std::uint32_t ef_search = 40;
    std::string metadata_json = "{}";
    // "labels": {"<graph label>": "<id>", ...}, each id non-empty, each label
    // a decimal integer. has_labels is false when the key is absent.
    bool has_labels = false;
    std::vector<Lhv1Label> labels;
    // "vectors": {"<graph label>": "<base64 of dimension little-endian
    // float32>", ...}: the vectors as the user stored them, where the graph
    // holds them normalised (Cosine). The vector of vector_labels[i] is
    // vector_values[i * dimension, (i + 1) * dimension), every value finite.
    std::vector<std::uint64_t> vector_labels;
    std::vector<float> vector_values;
};

// The preamble (magic, length) and JSON envelope, as encode_lhv1 writes them
// before the graph bytes of a graph with `params`. Throws InvalidParameter
// on values decode_lhv1 would reject.
std::string encode_lhv1_envelope(const Lhv1Envelope& envelope, const GraphParams& params);

// The entries of a metadata object as decode_lhv1_envelope returns it: each
// key with its value as JSON text, in the object's order. Throws
// CorruptSnapshot if the text is not a JSON object.
std::vector<std::pair<std::string, std::string>> lhv1_metadata_entries(const std::string& metadata_json);

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
