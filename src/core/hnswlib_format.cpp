// hnswlib_format.cpp: the graph part of an LHV1 snapshot, in hnswlib 0.6.2's
// saveIndex layout (write_hnswlib_graph, HnswlibGraphBytes and
// read_hnswlib_graph). Exports and imports may replace each element's label
// and deletion mark on the way (ElementRewrite).
//
// Layout, little-endian, as hnswlib writes it on x86-64:
//   size_t offsetLevel0 (0), max_elements, cur_element_count,
//          size_data_per_element, label_offset, offsetData
//   int    maxlevel (-1 when empty)
//   u32    enterpoint_node (0xFFFFFFFF when empty)
//   size_t maxM, maxM0, M;  double mult;  size_t ef_construction
//   cur_element_count level-0 records of size_data_per_element bytes
//   per element: u32 linkListSize, then linkListSize bytes of upper levels
//
// Reading validates every byte that matters (sizes, counts, ids, levels,
// vector values). The header and the link lists after the records are
// checked whole before anything is allocated from the ChunkMemory; the
// level-0 records, the bulk of the bytes, are then checked one by one: all
// of them before anything is allocated for bytes already in memory
// (HnswlibGraphBytes), or each just before it is appended when they stream
// from a ByteSource (read_hnswlib_graph), where a bad one destroys the
// half-built graph. So a snapshot in pieces is never joined in memory.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "errors.h"
#include "graph_layout.h"
#include "lhv1_codec.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the hnswlib layout is little-endian; a big-endian host needs byte swapping");
static_assert(sizeof(std::size_t) == 8, "hnswlib's layout stores size_t as 8 bytes");

namespace lhv {
namespace {

constexpr std::size_t kHeaderBytes = 6 * 8 + 4 + 4 + 3 * 8 + 8 + 8;  // 96
constexpr std::uint32_t kEmptyEntryPoint = 0xFFFFFFFFu;
constexpr std::uint32_t kDeletedFlag = 1u << 16;  // hnswlib's DELETE_MARK on byte 2
constexpr std::uint32_t kCountMask = 0xFFFFu;
// The engine's level limit (it clamps generated levels there); hnswlib's
// generator gives levels far below it for any M >= 2.
constexpr int kMaxSnapshotLevel = layout::kMaxLevel;
static_assert(kMaxSnapshotLevel <= 255, "levels are kept in a byte per element while loading");
// A cosine graph stores unit vectors; allow for float rounding in long vectors.
constexpr double kUnitNormTolerance = 1e-2;
constexpr std::size_t kWriteBufferBytes = 1u << 16;

[[noreturn]] void corrupt(const std::string& what) {
    throw Error(ErrorKind::CorruptSnapshot, "hnswlib graph: " + what);
}

// Sizes of hnswlib's structures for given params, computed without a graph.
struct GraphLayout {
    std::size_t max_m0;
    std::size_t data_offset;   // offsetData_: after the level-0 links
    std::size_t label_offset;  // label_offset_: after the vector
    std::size_t record_bytes;  // size_data_per_element_
    std::size_t upper_level_bytes;  // size_links_per_element_

    explicit GraphLayout(const GraphParams& params)
        : max_m0(2 * std::size_t{params.m}),
          data_offset(4 + 4 * max_m0),
          label_offset(data_offset + 4 * std::size_t{params.dimension}),
          record_bytes(label_offset + 8),
          upper_level_bytes(4 + 4 * std::size_t{params.m}) {}
};

// hnswlib's level multiplier, computed with the same expression.
double level_multiplier(std::uint32_t m) { return 1 / std::log(1.0 * m); }

// "0x0001ABCD": a 32-bit word for messages.
std::string hex32(std::uint32_t word) {
    char text[11];
    std::snprintf(text, sizeof text, "0x%08X", word);
    return text;
}

// Reads a trivially copyable value at `offset`; the caller has checked the bounds.
template <typename T>
T load(const char* data, std::size_t offset) {
    T value;
    std::memcpy(&value, data + offset, sizeof value);
    return value;
}

// Buffers small writes so the sink sees large blocks.
class BufferedWriter {
public:
    explicit BufferedWriter(ByteSink& sink) : sink_(sink) { buffer_.reserve(kWriteBufferBytes); }

    // Appends raw bytes, passing large blocks straight through.
    void bytes(const void* data, std::size_t size) {
        if (buffer_.size() + size > kWriteBufferBytes) flush();
        if (size >= kWriteBufferBytes) {
            sink_.write(data, size);
            return;
        }
        const char* p = static_cast<const char*>(data);
        buffer_.insert(buffer_.end(), p, p + size);
    }

    // Appends one value in its in-memory (little-endian) representation.
    template <typename T>
    void value(T v) {
        bytes(&v, sizeof v);
    }

    // Hands whatever is buffered to the sink.
    void flush() {
        if (!buffer_.empty()) sink_.write(buffer_.data(), buffer_.size());
        buffer_.clear();
    }

private:
    ByteSink& sink_;
    std::vector<char> buffer_;
};

// The graph being loaded is private to this thread until its handle is
// returned, so its lock slots need no real locking.
class UnsharedGraphLocks final : public GraphLocks {
public:
    void lock(std::uint32_t) override {}
    void unlock(std::uint32_t) override {}
};

// Gives a half-loaded graph's memory back unless loading finished.
class DestroyUnlessKept {
public:
    explicit DestroyUnlessKept(HnswGraph& graph) : graph_(graph) {}
    ~DestroyUnlessKept() {
        if (!kept_) graph_.destroy();
    }
    DestroyUnlessKept(const DestroyUnlessKept&) = delete;
    DestroyUnlessKept& operator=(const DestroyUnlessKept&) = delete;
    void keep() noexcept { kept_ = true; }

private:
    HnswGraph& graph_;
    bool kept_ = false;
};

// The header fields of a saved graph, as read.
struct SavedHeader {
    std::uint64_t offset_level0;
    std::uint64_t max_elements;
    std::uint64_t element_count;
    std::uint64_t record_bytes;
    std::uint64_t label_offset;
    std::uint64_t data_offset;
    std::int32_t max_level;
    std::uint32_t entry_point;
    std::uint64_t max_m;
    std::uint64_t max_m0;
    std::uint64_t m;
    double mult;
    std::uint64_t ef_construction;
};

// Reads the fixed-size header; throws if the bytes are too few.
SavedHeader read_header(const char* data, std::size_t size) {
    if (size < kHeaderBytes)
        corrupt("truncated header: " + std::to_string(kHeaderBytes) + " bytes needed, " +
                std::to_string(size) + " present");
    SavedHeader h;
    std::size_t at = 0;
    auto next_u64 = [&] { std::uint64_t v = load<std::uint64_t>(data, at); at += 8; return v; };
    h.offset_level0 = next_u64();
    h.max_elements = next_u64();
    h.element_count = next_u64();
    h.record_bytes = next_u64();
    h.label_offset = next_u64();
    h.data_offset = next_u64();
    h.max_level = load<std::int32_t>(data, at);
    at += 4;
    h.entry_point = load<std::uint32_t>(data, at);
    at += 4;
    h.max_m = next_u64();
    h.max_m0 = next_u64();
    h.m = next_u64();
    h.mult = load<double>(data, at);
    at += 8;
    h.ef_construction = next_u64();
    return h;
}

// Throws unless a header field holds the value the params imply.
void expect_field(const char* field, std::size_t offset, std::uint64_t found, std::uint64_t expected,
                  const char* because) {
    if (found != expected)
        corrupt(std::string(field) + " at byte " + std::to_string(offset) + " is " +
                std::to_string(found) + ", expected " + std::to_string(expected) + " " + because);
}

// Checks the header against the params and the number of bytes present.
void check_header(const SavedHeader& h, const GraphParams& params, const GraphLayout& layout,
                  std::size_t size) {
    const std::string for_params = "for dimension " + std::to_string(params.dimension) + " and m " +
                                   std::to_string(params.m);
    expect_field("offsetLevel0", 0, h.offset_level0, 0, "(hnswlib always writes 0)");
    expect_field("size_data_per_element", 24, h.record_bytes, layout.record_bytes, for_params.c_str());
    expect_field("label_offset", 32, h.label_offset, layout.label_offset, for_params.c_str());
    expect_field("offsetData", 40, h.data_offset, layout.data_offset, for_params.c_str());
    expect_field("maxM", 56, h.max_m, params.m, "(the params' m)");
    expect_field("maxM0", 64, h.max_m0, layout.max_m0, "(2 * m)");
    expect_field("M", 72, h.m, params.m, "(the params' m)");
    const double expected_mult = level_multiplier(params.m);
    if (!(std::fabs(h.mult - expected_mult) <= 1e-9 * expected_mult))
        corrupt("mult at byte 80 is " + std::to_string(h.mult) + ", expected 1/ln(" +
                std::to_string(params.m) + ") = " + std::to_string(expected_mult));
    if (h.element_count > h.max_elements)
        corrupt("element count " + std::to_string(h.element_count) + " at byte 16 exceeds max_elements " +
                std::to_string(h.max_elements) + " at byte 8");
    // Every element needs its record and a 4-byte link list size: compare
    // with the bytes present before trusting the count for anything.
    const std::size_t body = size - kHeaderBytes;
    if (h.element_count > body / (layout.record_bytes + 4))
        corrupt("element count " + std::to_string(h.element_count) + " at byte 16 needs at least " +
                (h.element_count > (std::numeric_limits<std::uint64_t>::max() / (layout.record_bytes + 4))
                     ? std::string("more than 2^64")
                     : std::to_string(h.element_count * (layout.record_bytes + 4))) +
                " bytes of records and link list sizes, but only " + std::to_string(body) +
                " bytes follow the header");
    if (h.element_count >= kEmptyEntryPoint)
        corrupt("element count " + std::to_string(h.element_count) + " at byte 16 does not fit 32-bit ids");
    if (h.element_count == 0) {
        if (h.max_level != -1)
            corrupt("empty graph has maxlevel " + std::to_string(h.max_level) + " at byte 48, expected -1");
        if (h.entry_point != kEmptyEntryPoint)
            corrupt("empty graph has entry point " + std::to_string(h.entry_point) +
                    " at byte 52, expected 0xFFFFFFFF");
        return;
    }
    if (h.entry_point >= h.element_count)
        corrupt("entry point " + std::to_string(h.entry_point) + " at byte 52 is not below the element count " +
                std::to_string(h.element_count));
    if (h.max_level < 0 || h.max_level > kMaxSnapshotLevel)
        corrupt("maxlevel " + std::to_string(h.max_level) + " at byte 48 is outside [0, " +
                std::to_string(kMaxSnapshotLevel) + "]");
}

// The link lists after the level-0 records, copied out of the source: for
// each element a u32 byte count, then that many bytes of upper-level lists.
// `at` is where they start in the graph bytes (for messages).
struct LinkLists {
    std::vector<char> bytes;
    std::size_t at;
};

// Walks the link list sizes: returns each element's level and checks that
// the lists end exactly at the end of the bytes.
std::vector<std::uint8_t> read_levels(const LinkLists& links, std::size_t size, const SavedHeader& h,
                                      const GraphLayout& layout) {
    const std::uint32_t count = static_cast<std::uint32_t>(h.element_count);
    std::vector<std::uint8_t> levels(count);
    std::size_t at = links.at;  // offsets are in the graph bytes, for messages
    for (std::uint32_t id = 0; id < count; id++) {
        if (size - at < 4)
            corrupt("truncated: link list size of element " + std::to_string(id) + " at byte " +
                    std::to_string(at) + " is past the end (" + std::to_string(size) + " bytes)");
        const std::uint32_t list_bytes = load<std::uint32_t>(links.bytes.data(), at - links.at);
        if (list_bytes % layout.upper_level_bytes != 0)
            corrupt("link list size " + std::to_string(list_bytes) + " of element " + std::to_string(id) +
                    " at byte " + std::to_string(at) + " is not a multiple of " +
                    std::to_string(layout.upper_level_bytes) + " (bytes per upper level)");
        // Above the max level only if deleted (checked with its record).
        const std::size_t level = list_bytes / layout.upper_level_bytes;
        if (level > static_cast<std::size_t>(kMaxSnapshotLevel))
            corrupt("element " + std::to_string(id) + " has level " + std::to_string(level) +
                    " (link list size at byte " + std::to_string(at) + ") above the limit of " +
                    std::to_string(kMaxSnapshotLevel));
        at += 4;
        if (size - at < list_bytes)
            corrupt("truncated: upper levels of element " + std::to_string(id) + " at byte " +
                    std::to_string(at) + " need " + std::to_string(list_bytes) + " bytes, only " +
                    std::to_string(size - at) + " left");
        levels[id] = static_cast<std::uint8_t>(level);
        at += list_bytes;
    }
    if (at != size)
        corrupt(std::to_string(size - at) + " bytes of trailing garbage at byte " + std::to_string(at) +
                ", after the last element's links");
    if (levels[h.entry_point] != h.max_level)
        corrupt("entry point " + std::to_string(h.entry_point) + " has level " +
                std::to_string(levels[h.entry_point]) + " but maxlevel at byte 48 is " +
                std::to_string(h.max_level));
    return levels;
}

// Checks one neighbour list at `list` (found at byte `at`): its count
// against `max_count` with `flag_mask` bits allowed above it, and each id
// against the element count and, for upper levels, the neighbour's own level.
void check_neighbours(const char* list, std::size_t at, std::uint32_t id, int level, std::size_t max_count,
                      std::uint32_t flag_mask, const std::vector<std::uint8_t>& levels) {
    const std::uint32_t head = load<std::uint32_t>(list, 0);
    const std::string where = "element " + std::to_string(id) + " level " + std::to_string(level);
    if ((head & ~kCountMask & ~flag_mask) != 0)
        corrupt("unknown flag bits " + hex32(head & ~kCountMask) + " in the neighbour count of " + where +
                " at byte " + std::to_string(at));
    const std::uint32_t n = head & kCountMask;
    if (n > max_count)
        corrupt("neighbour count " + std::to_string(n) + " of " + where + " at byte " + std::to_string(at) +
                " exceeds the maximum " + std::to_string(max_count));
    for (std::uint32_t i = 0; i < n; i++) {
        const std::size_t id_at = 4 + 4 * std::size_t{i};
        const std::uint32_t neighbour = load<std::uint32_t>(list, id_at);
        if (neighbour >= levels.size())
            corrupt("neighbour id " + std::to_string(neighbour) + " of " + where + " at byte " +
                    std::to_string(at + id_at) + " is not below the element count " + std::to_string(levels.size()));
        if (levels[neighbour] < level)
            corrupt("neighbour " + std::to_string(neighbour) + " of " + where + " at byte " +
                    std::to_string(at + id_at) + " has only level " + std::to_string(levels[neighbour]));
    }
}

// Checks a stored vector at `values` (found at byte `at`): finite
// components, and unit length under Cosine. The common case, all sound, is a
// loop the compiler vectorises: an IEEE float is finite unless its exponent
// bits are all ones; the slow loop only finds the culprit for the message.
void check_vector(const char* values, std::size_t at, std::uint32_t id, const GraphParams& params) {
    std::uint32_t not_finite = 0;
    for (std::uint32_t j = 0; j < params.dimension; j++) {
        const std::uint32_t bits = load<std::uint32_t>(values, 4 * std::size_t{j});
        not_finite |= static_cast<std::uint32_t>((bits & 0x7F800000u) == 0x7F800000u);
    }
    if (not_finite != 0) {
        for (std::uint32_t j = 0; j < params.dimension; j++)
            if (!std::isfinite(load<float>(values, 4 * std::size_t{j})))
                corrupt("component " + std::to_string(j) + " of element " + std::to_string(id) +
                        "'s vector at byte " + std::to_string(at + 4 * std::size_t{j}) + " is not finite");
    }
    if (params.metric != Metric::Cosine) return;
    // Four partial sums, so the additions do not wait on each other.
    double sums[4] = {0, 0, 0, 0};
    std::uint32_t j = 0;
    for (; j + 4 <= params.dimension; j += 4)
        for (int k = 0; k < 4; k++) {
            const double v = load<float>(values, 4 * std::size_t{j + k});
            sums[k] += v * v;
        }
    for (; j < params.dimension; j++) {
        const double v = load<float>(values, 4 * std::size_t{j});
        sums[0] += v * v;
    }
    const double norm2 = (sums[0] + sums[1]) + (sums[2] + sums[3]);
    if (!(std::fabs(norm2 - 1.0) <= kUnitNormTolerance))
        corrupt("element " + std::to_string(id) + "'s vector at byte " + std::to_string(at) +
                " has squared norm " + std::to_string(norm2) + ", but a cosine graph stores unit vectors");
}

// Checks every upper-level list (ids, counts, levels); read_levels has
// checked their sizes.
void check_upper_lists(const LinkLists& links, const SavedHeader& h, const GraphParams& params,
                       const GraphLayout& layout, const std::vector<std::uint8_t>& levels) {
    const std::uint32_t count = static_cast<std::uint32_t>(h.element_count);
    std::size_t at = links.at;
    for (std::uint32_t id = 0; id < count; id++) {
        at += 4;
        for (int level = 1; level <= levels[id]; level++) {
            check_neighbours(links.bytes.data() + (at - links.at), at, id, level, params.m, 0, levels);
            at += layout.upper_level_bytes;
        }
    }
}

// Checks a level-0 record at `record` (found at byte `at`): its list, its
// vector, and its level against the graph's max level. Only a deleted
// element may be above it: when VACUUM deletes the elements of the top
// level, the entry point moves down to the highest live element, and their
// upper lists are never searched again. `links_at` is where its link list
// size is (for the message).
void check_record(const char* record, std::size_t at, std::uint32_t id, const GraphParams& params,
                  const GraphLayout& layout, const std::vector<std::uint8_t>& levels, const SavedHeader& h,
                  std::size_t links_at) {
    check_neighbours(record, at, id, 0, layout.max_m0, kDeletedFlag, levels);
    check_vector(record + layout.data_offset, at + layout.data_offset, id, params);
    if (levels[id] > h.max_level && !(load<std::uint32_t>(record, 0) & kDeletedFlag))
        corrupt("element " + std::to_string(id) + " has level " + std::to_string(levels[id]) +
                " (link list size at byte " + std::to_string(links_at) + ") above the graph's maxlevel " +
                std::to_string(h.max_level) + ", and it is not deleted");
}

// Writes hnswlib's fixed-size header for `count` elements.
void write_header(BufferedWriter& w, const GraphParams& params, const GraphLayout& layout, std::uint32_t count,
                  int max_level, std::uint32_t entry_point) {
    w.value<std::uint64_t>(0);                       // offsetLevel0_
    w.value<std::uint64_t>(count);                   // max_elements_
    w.value<std::uint64_t>(count);                   // cur_element_count
    w.value<std::uint64_t>(layout.record_bytes);     // size_data_per_element_
    w.value<std::uint64_t>(layout.label_offset);     // label_offset_
    w.value<std::uint64_t>(layout.data_offset);      // offsetData_
    w.value<std::int32_t>(count == 0 ? -1 : max_level);
    w.value<std::uint32_t>(count == 0 ? kEmptyEntryPoint : entry_point);
    w.value<std::uint64_t>(params.m);                // maxM_
    w.value<std::uint64_t>(layout.max_m0);           // maxM0_
    w.value<std::uint64_t>(params.m);                // M_
    w.value<double>(level_multiplier(params.m));     // mult_
    w.value<std::uint64_t>(std::max(params.ef_construction, params.m));
}

// Throws unless the engine's record layout for `graph` is hnswlib's.
void check_engine_layout(const HnswGraph& graph, const GraphLayout& layout) {
    if (graph.record_bytes() != layout.record_bytes || graph.upper_level_bytes() != layout.upper_level_bytes ||
        graph.max_m0() != layout.max_m0)
        throw Error(ErrorKind::Internal, "hnswlib graph: the engine's record layout is not hnswlib's");
}

// A record with its label and deletion mark replaced, in a buffer of its own.
const char* rewritten_record(const char* record, const GraphLayout& layout, const ElementRewrite& rewrite,
                             std::vector<char>& buffer) {
    buffer.assign(record, record + layout.record_bytes);
    std::uint32_t head;
    std::memcpy(&head, buffer.data(), sizeof head);
    head = rewrite.deleted ? (head | kDeletedFlag) : (head & ~kDeletedFlag);
    std::memcpy(buffer.data(), &head, sizeof head);
    std::memcpy(buffer.data() + layout.label_offset, &rewrite.label, sizeof rewrite.label);
    return buffer.data();
}

// The header and link lists of graph bytes starting at `start` of `in`,
// checked: everything but the level-0 records.
struct CheckedPrologue {
    SavedHeader header;
    std::uint32_t count = 0;
    LinkLists links;
    std::vector<std::uint8_t> levels;
};

CheckedPrologue check_prologue(ByteSource& in, std::size_t start, const GraphParams& params,
                               const GraphLayout& layout) {
    if (params.dimension < 1 || params.dimension > kMaxDimension || params.m < kMinM || params.m > kMaxM)
        throw Error(ErrorKind::InvalidParameter, "hnswlib graph: dimension or m outside the engine's limits");
    if (start > in.size()) throw Error(ErrorKind::Internal, "hnswlib graph: starts past the end of its bytes");
    const std::size_t size = in.size() - start;
    char header_bytes[kHeaderBytes];
    read_source(in, start, header_bytes, std::min(size, kHeaderBytes));
    CheckedPrologue p;
    p.header = read_header(header_bytes, size);
    check_header(p.header, params, layout, size);

    // Everything below is bounded by `size`: the count was checked against
    // it. The link lists after the records are small next to the records:
    // copy them out and check them whole before anything is allocated.
    p.count = static_cast<std::uint32_t>(p.header.element_count);
    p.links.at = kHeaderBytes + std::size_t{p.count} * layout.record_bytes;
    if (p.count == 0) {
        if (size != kHeaderBytes)
            corrupt(std::to_string(size - kHeaderBytes) + " bytes of trailing garbage at byte " +
                    std::to_string(kHeaderBytes) + ", after the header of an empty graph");
        return p;
    }
    // Never copy more than the lists of `count` elements can be (the rest
    // could only be garbage, and a lying count could leave it huge).
    const std::size_t most = std::size_t{p.count} * (4 + std::size_t{kMaxSnapshotLevel} * layout.upper_level_bytes);
    if (size - p.links.at > most)
        corrupt(std::to_string(size - p.links.at) + " bytes of link lists at byte " + std::to_string(p.links.at) +
                ", more than " + std::to_string(p.count) + " elements can have (" + std::to_string(most) + ")");
    p.links.bytes.resize(size - p.links.at);
    read_source(in, start + p.links.at, p.links.bytes.data(), p.links.bytes.size());
    p.levels = read_levels(p.links, size, p.header, layout);
    check_upper_lists(p.links, p.header, params, layout, p.levels);
    return p;
}

}  // namespace

void write_hnswlib_graph(const HnswGraph& graph, ByteSink& out, const ElementRewrite* rewrite,
                         std::size_t rewrite_count) {
    const GraphParams& params = graph.params();
    const GraphLayout layout(params);
    check_engine_layout(graph, layout);

    // Read the entry point before the size. An insert sets the entry point
    // just before its element is published, and lower ids may still be
    // finishing, so wait (only while inserts run) until the size covers it.
    const std::int64_t entry_point = graph.entry_point();
    const int max_level = graph.max_level();
    std::uint32_t count = graph.size();
    while (entry_point >= std::int64_t{count}) {
        std::this_thread::yield();
        count = graph.size();
    }
    if (rewrite != nullptr && rewrite_count != count)
        throw Error(ErrorKind::Internal, "hnswlib graph: " + std::to_string(rewrite_count) +
                                             " rewritten elements for a graph of " + std::to_string(count));

    BufferedWriter w(out);
    write_header(w, params, layout, count, max_level, static_cast<std::uint32_t>(entry_point));
    std::vector<char> buffer;
    for (std::uint32_t id = 0; id < count; id++) {
        const char* record = graph.record(id);
        w.bytes(rewrite ? rewritten_record(record, layout, rewrite[id], buffer) : record, layout.record_bytes);
    }
    for (std::uint32_t id = 0; id < count; id++) {
        const int level = graph.level(id);
        const std::uint32_t list_bytes = static_cast<std::uint32_t>(level * layout.upper_level_bytes);
        w.value<std::uint32_t>(list_bytes);
        if (list_bytes != 0) w.bytes(graph.upper_links(id), list_bytes);
    }
    w.flush();
}

std::size_t hnswlib_graph_bytes(const HnswGraph& graph) {
    const GraphLayout layout(graph.params());
    const std::uint32_t count = graph.size();
    std::size_t bytes = kHeaderBytes + std::size_t{count} * (layout.record_bytes + 4);
    for (std::uint32_t id = 0; id < count; id++) bytes += graph.level(id) * layout.upper_level_bytes;
    return bytes;
}

std::size_t hnswlib_graph_bytes_at_least(const HnswGraph& graph) {
    const GraphLayout layout(graph.params());
    return kHeaderBytes + std::size_t{graph.size()} * (layout.record_bytes + 4);
}

void write_empty_hnswlib_graph(const GraphParams& params, ByteSink& out) {
    const GraphLayout layout(params);
    BufferedWriter w(out);
    write_header(w, params, layout, 0, -1, kEmptyEntryPoint);
    w.flush();
}

HnswlibGraphBytes::HnswlibGraphBytes(const char* data, std::size_t size, const GraphParams& params)
    : data_(data), size_(size), params_(params) {
    const GraphLayout layout(params);
    MemorySource in(data, size);
    CheckedPrologue p = check_prologue(in, 0, params, layout);
    std::size_t links_at = p.links.at;
    for (std::uint32_t id = 0; id < p.count; id++) {
        const std::size_t at = kHeaderBytes + std::size_t{id} * layout.record_bytes;
        check_record(data + at, at, id, params, layout, p.levels, p.header, links_at);
        links_at += 4 + p.levels[id] * layout.upper_level_bytes;
    }
    count_ = p.count;
    levels_ = std::move(p.levels);
    entry_point_ = p.header.entry_point;
    max_level_ = p.header.max_level;
    record_bytes_ = layout.record_bytes;
    label_offset_ = layout.label_offset;
    data_offset_ = layout.data_offset;
    upper_level_bytes_ = layout.upper_level_bytes;
}

std::uint64_t HnswlibGraphBytes::label(std::uint32_t id) const noexcept {
    return lhv::load<std::uint64_t>(data_, kHeaderBytes + std::size_t{id} * record_bytes_ + label_offset_);
}

bool HnswlibGraphBytes::is_deleted(std::uint32_t id) const noexcept {
    return (lhv::load<std::uint32_t>(data_, kHeaderBytes + std::size_t{id} * record_bytes_) & kDeletedFlag) != 0;
}

const char* HnswlibGraphBytes::vector_bytes(std::uint32_t id) const noexcept {
    return data_ + kHeaderBytes + std::size_t{id} * record_bytes_ + data_offset_;
}

ChunkHandle HnswlibGraphBytes::load(ChunkMemory& memory, const ElementRewrite* rewrite) const {
    const GraphLayout layout(params_);
    const ChunkHandle handle = HnswGraph::create(memory, params_);
    UnsharedGraphLocks locks;
    HnswGraph graph(memory, locks, handle);
    DestroyUnlessKept guard(graph);
    check_engine_layout(graph, layout);
    graph.reserve(count_);
    std::vector<char> buffer;
    std::size_t links_at = kHeaderBytes + std::size_t{count_} * record_bytes_;
    for (std::uint32_t id = 0; id < count_; id++) {
        const char* record = data_ + kHeaderBytes + std::size_t{id} * record_bytes_;
        if (rewrite) record = rewritten_record(record, layout, rewrite[id], buffer);
        links_at += 4;
        const char* upper = levels_[id] > 0 ? data_ + links_at : nullptr;
        const std::uint32_t appended = graph.append_raw(record, levels_[id], upper);
        if (appended != id)
            throw Error(ErrorKind::Internal, "hnswlib graph: element " + std::to_string(id) +
                                                 " was appended as id " + std::to_string(appended));
        links_at += levels_[id] * upper_level_bytes_;
    }
    if (count_ != 0) graph.set_entry_point(entry_point_, max_level_);
    guard.keep();
    return handle;
}

void read_source(ByteSource& in, std::size_t offset, void* out, std::size_t length) {
    char* to = static_cast<char*>(out);
    while (length > 0) {
        const std::size_t n = std::min(length, kMaxSourceView);
        std::memcpy(to, in.view(offset, n), n);
        to += n, offset += n, length -= n;
    }
}

ChunkHandle read_hnswlib_graph(const char* data, std::size_t size, const GraphParams& params,
                               ChunkMemory& memory) {
    MemorySource in(data, size);
    return read_hnswlib_graph(in, 0, params, memory);
}

ChunkHandle read_hnswlib_graph(ByteSource& in, std::size_t start, const GraphParams& params,
                               ChunkMemory& memory) {
    const GraphLayout layout(params);
    CheckedPrologue p = check_prologue(in, start, params, layout);

    // Build the graph, streaming the records in: each is checked in its view
    // before it is appended; a bad one gives the half-built graph back.
    const ChunkHandle handle = HnswGraph::create(memory, params);
    UnsharedGraphLocks locks;
    HnswGraph graph(memory, locks, handle);
    DestroyUnlessKept guard(graph);
    check_engine_layout(graph, layout);
    graph.reserve(p.count);
    const std::uint32_t records_per_view =
        static_cast<std::uint32_t>(std::max<std::size_t>(1, kMaxSourceView / layout.record_bytes));
    std::size_t upper_at = 0;  // in p.links.bytes
    for (std::uint32_t first = 0; first < p.count;) {
        const std::uint32_t n = std::min(records_per_view, p.count - first);
        const std::size_t at = kHeaderBytes + std::size_t{first} * layout.record_bytes;
        const char* view = in.view(start + at, std::size_t{n} * layout.record_bytes);
        for (std::uint32_t i = 0; i < n; i++) {
            const std::uint32_t id = first + i;
            const char* record = view + std::size_t{i} * layout.record_bytes;
            check_record(record, at + std::size_t{i} * layout.record_bytes, id, params, layout, p.levels, p.header,
                         p.links.at + upper_at);
            upper_at += 4;
            const char* upper = p.levels[id] > 0 ? p.links.bytes.data() + upper_at : nullptr;
            const std::uint32_t appended = graph.append_raw(record, p.levels[id], upper);
            if (appended != id)
                throw Error(ErrorKind::Internal, "hnswlib graph: element " + std::to_string(id) +
                                                     " was appended as id " + std::to_string(appended));
            upper_at += p.levels[id] * layout.upper_level_bytes;
        }
        first += n;
    }
    if (p.count != 0) graph.set_entry_point(p.header.entry_point, p.header.max_level);
    guard.keep();
    return handle;
}

}  // namespace lhv
