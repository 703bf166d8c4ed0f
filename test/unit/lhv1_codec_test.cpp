// lhv1_codec_test.cpp: the LHV1 snapshot codec: round trips through the
// engine, rejection of every kind of malformed input with CorruptSnapshot and
// a message that says what is wrong, no allocation from lying headers, and
// random byte mutations that must never crash.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "errors.h"
#include "hnsw_graph.h"
#include "lhv1_codec.h"
#include "test_data.h"

namespace {

using lhv::ChunkHandle;
using lhv::ErrorKind;
using lhv::GraphParams;
using lhv::HeapChunkMemory;
using lhv::HnswGraph;
using lhv::Lhv1Envelope;
using lhv::Metric;
using lhv::StdGraphLocks;
using Json = nlohmann::json;

// Offsets of the hnswlib header fields inside the graph bytes.
constexpr std::size_t kAtOffsetLevel0 = 0, kAtMaxElements = 8, kAtCount = 16, kAtRecordBytes = 24,
                      kAtLabelOffset = 32, kAtDataOffset = 40, kAtMaxLevel = 48, kAtEntryPoint = 52,
                      kAtMaxM = 56, kAtMaxM0 = 64, kAtM = 72, kAtMult = 80, kHeaderBytes = 96;

// A graph in its own heap memory, with a view on it.
struct OwnedGraph {
    HeapChunkMemory memory;
    StdGraphLocks locks{HnswGraph::kLockSlots};
    ChunkHandle handle = lhv::kInvalidChunk;
    std::unique_ptr<HnswGraph> graph;

    // Creates an empty graph with `params`.
    explicit OwnedGraph(const GraphParams& params) {
        handle = HnswGraph::create(memory, params);
        graph = std::make_unique<HnswGraph>(memory, locks, handle);
    }
    // An empty holder; attach() a graph decoded into `memory`.
    OwnedGraph() = default;
    void attach(ChunkHandle h) {
        handle = h;
        graph = std::make_unique<HnswGraph>(memory, locks, handle);
    }
    // HeapChunkMemory does not free blocks still in use: give them back.
    ~OwnedGraph() {
        if (graph) graph->destroy();
    }
    OwnedGraph(const OwnedGraph&) = delete;
    OwnedGraph& operator=(const OwnedGraph&) = delete;
};

// Gives back every block of the graph at `handle`.
void destroy_graph(lhv::ChunkMemory& memory, ChunkHandle handle) {
    StdGraphLocks locks(HnswGraph::kLockSlots);
    HnswGraph(memory, locks, handle).destroy();
}

GraphParams make_params(std::uint32_t dim, std::uint32_t m, Metric metric) {
    GraphParams p;
    p.dimension = dim;
    p.m = m;
    p.ef_construction = 64;
    p.metric = metric;
    return p;
}

// Adds every row of `data` with label = row index.
void add_all(HnswGraph& graph, const lhv_test::Dataset& data) {
    for (std::size_t i = 0; i < data.n; i++) graph.add(data.row(i), i);
}

Lhv1Envelope make_envelope() {
    Lhv1Envelope e;
    e.name = "items_embedding_idx";
    e.ef_search = 77;
    e.metadata_json = R"({"ids":["a","b","c"],"next_label":3,"nested":{"x":[1,2.5,null,true]}})";
    return e;
}

std::string encode(const HnswGraph& graph, const Lhv1Envelope& envelope = make_envelope()) {
    lhv::StringSink sink;
    lhv::encode_lhv1(envelope, graph, sink);
    return sink.bytes;
}

// Where the graph bytes of an LHV1 snapshot start.
std::size_t graph_offset_of(const std::string& snapshot) {
    std::size_t offset = 0;
    lhv::decode_lhv1_envelope(snapshot.data(), snapshot.size(), &offset);
    return offset;
}

template <typename T>
T get_at(const std::string& bytes, std::size_t at) {
    T v;
    std::memcpy(&v, bytes.data() + at, sizeof v);
    return v;
}
template <typename T>
void put_at(std::string& bytes, std::size_t at, T v) {
    std::memcpy(&bytes[at], &v, sizeof v);
}

// Byte offsets of the parts of the graph bytes, found by walking them plainly.
struct GraphMap {
    std::size_t base = 0;  // start of the graph bytes in the snapshot
    std::uint64_t count = 0;
    std::size_t record_bytes = 0, upper_bytes = 0, data_offset = 0;
    std::vector<std::size_t> link_size_at;  // per element: offset of its u32 linkListSize
    std::vector<int> levels;
    std::size_t record_at(std::size_t id) const { return base + kHeaderBytes + id * record_bytes; }
};

GraphMap map_graph(const std::string& snapshot, std::uint32_t m) {
    GraphMap g;
    g.base = graph_offset_of(snapshot);
    g.count = get_at<std::uint64_t>(snapshot, g.base + kAtCount);
    g.record_bytes = get_at<std::uint64_t>(snapshot, g.base + kAtRecordBytes);
    g.data_offset = get_at<std::uint64_t>(snapshot, g.base + kAtDataOffset);
    g.upper_bytes = 4 + 4 * std::size_t{m};
    std::size_t at = g.base + kHeaderBytes + g.count * g.record_bytes;
    for (std::uint64_t i = 0; i < g.count; i++) {
        g.link_size_at.push_back(at);
        const std::uint32_t size = get_at<std::uint32_t>(snapshot, at);
        g.levels.push_back(static_cast<int>(size / g.upper_bytes));
        at += 4 + size;
    }
    return g;
}

// Rewrites the JSON envelope of a snapshot (and its length) with `edit`.
template <typename Edit>
std::string with_envelope(const std::string& snapshot, Edit edit) {
    const std::size_t offset = graph_offset_of(snapshot);
    Json json = Json::parse(snapshot.substr(8, offset - 8));
    edit(json);
    const std::string text = json.dump();
    std::string out = "LHV1";
    const auto n = static_cast<std::uint32_t>(text.size());
    out += static_cast<char>(n >> 24);
    out += static_cast<char>(n >> 16);
    out += static_cast<char>(n >> 8);
    out += static_cast<char>(n);
    return out + text + snapshot.substr(offset);
}

// A snapshot with a raw envelope text in place of the real one.
std::string with_envelope_text(const std::string& snapshot, const std::string& text) {
    const std::size_t offset = graph_offset_of(snapshot);
    std::string out = "LHV1";
    const auto n = static_cast<std::uint32_t>(text.size());
    out += static_cast<char>(n >> 24);
    out += static_cast<char>(n >> 16);
    out += static_cast<char>(n >> 8);
    out += static_cast<char>(n);
    return out + text + snapshot.substr(offset);
}

// Decodes and returns the CorruptSnapshot message; fails the test if the
// input decodes or throws anything else.
std::string corrupt_message(const std::string& bytes) {
    HeapChunkMemory memory;
    try {
        destroy_graph(memory, lhv::decode_lhv1(bytes.data(), bytes.size(), memory, nullptr));
    } catch (const lhv::Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::CorruptSnapshot) << e.what();
        EXPECT_EQ(memory.allocated_bytes(), 0u) << "a rejected snapshot left memory allocated";
        return e.what();
    }
    ADD_FAILURE() << "malformed snapshot was accepted";
    return "";
}

#define EXPECT_CORRUPT(bytes, substring)                                              \
    do {                                                                              \
        const std::string message_ = corrupt_message(bytes);                          \
        EXPECT_NE(message_.find(substring), std::string::npos)                        \
            << "message \"" << message_ << "\" lacks \"" << (substring) << "\"";      \
    } while (0)

// Search results as (label, distance) pairs.
std::vector<std::pair<std::uint64_t, float>> search_pairs(const HnswGraph& graph, const float* q,
                                                          std::size_t k, std::size_t ef) {
    std::vector<std::pair<std::uint64_t, float>> out;
    for (const auto& r : graph.search(q, k, ef)) out.emplace_back(r.label, r.distance);
    return out;
}

// A small graph with several levels, used as the base for malformed inputs.
class MalformedSnapshot : public ::testing::Test {
protected:
    static constexpr std::uint32_t kDim = 4, kM = 4;
    void SetUp() override {
        OwnedGraph g(make_params(kDim, kM, Metric::L2));
        add_all(*g.graph, lhv_test::uniform_dataset(300, kDim, 7));
        valid = encode(*g.graph);
        map = map_graph(valid, kM);
        ASSERT_GT(map.count, 0u);
    }
    // Id of some element with at least `level` levels.
    std::size_t element_with_level(int level) const {
        for (std::size_t i = 0; i < map.levels.size(); i++)
            if (map.levels[i] >= level) return i;
        return SIZE_MAX;
    }
    std::string valid;
    GraphMap map;
};

TEST(Lhv1Codec, RoundTripGivesIdenticalGraphAndSearches) {
    for (Metric metric : {Metric::L2, Metric::InnerProduct, Metric::Cosine}) {
        SCOPED_TRACE(lhv::metric_name(metric));
        const auto data = lhv_test::clustered_dataset(2000, 24, 20, 11);
        OwnedGraph original(make_params(24, 12, metric));
        add_all(*original.graph, data);
        original.graph->mark_deleted(5);
        original.graph->mark_deleted(1234);
        const Lhv1Envelope envelope = make_envelope();
        const std::string snapshot = encode(*original.graph, envelope);

        OwnedGraph loaded;
        Lhv1Envelope decoded;
        loaded.attach(lhv::decode_lhv1(snapshot.data(), snapshot.size(), loaded.memory, &decoded));
        const HnswGraph& a = *original.graph;
        const HnswGraph& b = *loaded.graph;

        EXPECT_EQ(decoded.version, lhv::kLhv1Version);
        EXPECT_EQ(decoded.name, envelope.name);
        EXPECT_EQ(decoded.ef_search, envelope.ef_search);
        EXPECT_EQ(Json::parse(decoded.metadata_json), Json::parse(envelope.metadata_json));
        EXPECT_EQ(decoded.params.dimension, a.params().dimension);
        EXPECT_EQ(decoded.params.m, a.params().m);
        EXPECT_EQ(decoded.params.ef_construction, a.params().ef_construction);
        EXPECT_EQ(decoded.params.metric, metric);

        ASSERT_EQ(b.size(), a.size());
        EXPECT_EQ(b.deleted_count(), 2u);
        EXPECT_TRUE(b.is_deleted(5));
        EXPECT_TRUE(b.is_deleted(1234));
        EXPECT_EQ(b.entry_point(), a.entry_point());
        EXPECT_EQ(b.max_level(), a.max_level());
        for (std::uint32_t id = 0; id < a.size(); id++) {
            ASSERT_EQ(b.level(id), a.level(id)) << id;
            ASSERT_EQ(std::memcmp(b.record(id), a.record(id), a.record_bytes()), 0) << id;
            if (a.level(id) > 0) {
                const std::size_t upper_bytes = a.level(id) * a.upper_level_bytes();
                ASSERT_EQ(std::memcmp(b.upper_links(id), a.upper_links(id), upper_bytes), 0) << id;
            }
        }

        const auto queries = lhv_test::clustered_dataset(300, 24, 20, 12);
        for (std::size_t q = 0; q < queries.n; q++)
            ASSERT_EQ(search_pairs(b, queries.row(q), 10, 50), search_pairs(a, queries.row(q), 10, 50)) << q;

        // Encoding the decoded graph gives the same bytes again.
        EXPECT_EQ(encode(b, decoded), snapshot);
    }
}

TEST(Lhv1Codec, EnvelopeAloneAndAbsentMetadata) {
    OwnedGraph g(make_params(3, 2, Metric::InnerProduct));
    Lhv1Envelope plain;
    plain.name = "";
    const std::string snapshot = encode(*g.graph, plain);
    std::size_t offset = 0;
    const Lhv1Envelope e = lhv::decode_lhv1_envelope(snapshot.data(), snapshot.size(), &offset);
    EXPECT_EQ(offset + kHeaderBytes, snapshot.size());
    EXPECT_EQ(e.params.metric, Metric::InnerProduct);
    EXPECT_EQ(e.metadata_json, "{}");

    const std::string without = with_envelope(snapshot, [](Json& j) { j.erase("metadata"); });
    EXPECT_EQ(lhv::decode_lhv1_envelope(without.data(), without.size(), &offset).metadata_json, "{}");
    // Unknown extra keys are ignored (forward compatibility within version 1).
    const std::string extra = with_envelope(snapshot, [](Json& j) { j["future"] = 1; });
    EXPECT_NO_THROW(lhv::decode_lhv1_envelope(extra.data(), extra.size(), &offset));
}

TEST(Lhv1Codec, EmptyGraphRoundTrips) {
    OwnedGraph g(make_params(8, 16, Metric::Cosine));
    const std::string snapshot = encode(*g.graph);
    const std::size_t base = graph_offset_of(snapshot);
    ASSERT_EQ(snapshot.size(), base + kHeaderBytes);
    EXPECT_EQ(get_at<std::uint64_t>(snapshot, base + kAtCount), 0u);
    EXPECT_EQ(get_at<std::int32_t>(snapshot, base + kAtMaxLevel), -1);
    EXPECT_EQ(get_at<std::uint32_t>(snapshot, base + kAtEntryPoint), 0xFFFFFFFFu);

    OwnedGraph loaded;
    loaded.attach(lhv::decode_lhv1(snapshot.data(), snapshot.size(), loaded.memory, nullptr));
    EXPECT_EQ(loaded.graph->size(), 0u);
    EXPECT_EQ(loaded.graph->entry_point(), -1);
    EXPECT_EQ(loaded.graph->max_level(), -1);
    const std::vector<float> q(8, 0.5f);
    EXPECT_TRUE(loaded.graph->search(q.data(), 5, 10).empty());
    // The loaded empty graph still takes inserts.
    loaded.graph->add(q.data(), 42);
    EXPECT_EQ(loaded.graph->search(q.data(), 5, 10).at(0).label, 42u);
}

TEST(Lhv1Codec, EncodeRejectsBadEnvelopeValues) {
    OwnedGraph g(make_params(3, 2, Metric::L2));
    Lhv1Envelope e;
    e.metadata_json = "[1,2]";
    lhv::StringSink sink;
    try {
        lhv::encode_lhv1(e, *g.graph, sink);
        ADD_FAILURE() << "non-object metadata accepted";
    } catch (const lhv::Error& err) {
        EXPECT_EQ(err.kind(), ErrorKind::InvalidParameter);
    }
    e.metadata_json = "{not json";
    EXPECT_THROW(lhv::encode_lhv1(e, *g.graph, sink), lhv::Error);
    e.metadata_json = "{}";
    e.ef_search = 0;
    EXPECT_THROW(lhv::encode_lhv1(e, *g.graph, sink), lhv::Error);
}

// nlohmann's dump() recurses per nesting level: 100,000 nested arrays used
// to overflow the stack. Envelopes nest at most 1000 levels, metadata (one
// level down) at most 999, on encode as on decode.
TEST(Lhv1Codec, DeepJsonNestingIsRejectedNotCrashing) {
    OwnedGraph g(make_params(3, 2, Metric::L2));
    auto nested = [](std::size_t arrays) {
        return "{\"a\":" + std::string(arrays, '[') + std::string(arrays, ']') + "}";
    };
    Lhv1Envelope e;
    e.metadata_json = nested(998);  // 999 levels: the deepest allowed
    const std::string snapshot = encode(*g.graph, e);
    std::size_t offset = 0;
    EXPECT_EQ(Json::parse(lhv::decode_lhv1_envelope(snapshot.data(), snapshot.size(), &offset).metadata_json),
              Json::parse(e.metadata_json));

    e.metadata_json = nested(999);
    try {
        encode(*g.graph, e);
        ADD_FAILURE() << "encoded metadata nested 1000 levels";
    } catch (const lhv::Error& err) {
        EXPECT_EQ(err.kind(), ErrorKind::InvalidParameter);
        EXPECT_NE(std::string(err.what()).find("nests deeper than 999 levels"), std::string::npos) << err.what();
    }
    EXPECT_CORRUPT(with_envelope(snapshot, [&](Json& j) { j["metadata"] = Json::parse(nested(999)); }),
                   "nests deeper than 1000 levels");
    const std::string deep = "{\"metadata\":{\"a\":" + std::string(200000, '[') + std::string(200000, ']') + "}}";
    EXPECT_CORRUPT(with_envelope_text(snapshot, deep), "nests deeper than 1000 levels");
    EXPECT_CORRUPT(with_envelope_text(snapshot, std::string(500000, '[')), "nests deeper than 1000 levels");
}

TEST_F(MalformedSnapshot, PreambleAndEnvelopeErrors) {
    EXPECT_CORRUPT(std::string(), "empty");
    EXPECT_CORRUPT(valid.substr(0, 5), "shorter than the 8-byte header");
    std::string magic = valid;
    magic[3] = '2';
    EXPECT_CORRUPT(magic, "bad magic at byte 0");
    std::string past_end = valid;
    const std::uint32_t too_long = static_cast<std::uint32_t>(valid.size());
    past_end[4] = static_cast<char>(too_long >> 24);
    past_end[5] = static_cast<char>(too_long >> 16);
    past_end[6] = static_cast<char>(too_long >> 8);
    past_end[7] = static_cast<char>(too_long);
    EXPECT_CORRUPT(past_end, "runs past the end");
    std::string huge = valid;
    huge[4] = huge[5] = huge[6] = huge[7] = '\xFF';
    EXPECT_CORRUPT(huge, "exceeds the limit");

    EXPECT_CORRUPT(with_envelope_text(valid, "{\"version\":1,"), "not valid JSON");
    EXPECT_CORRUPT(with_envelope_text(valid, ""), "not valid JSON");
    // Found by the fuzzer: a number beyond double's range makes nlohmann
    // throw out_of_range rather than parse_error.
    EXPECT_CORRUPT(with_envelope_text(valid, "{\"metadx\":111111E11111}"), "not valid JSON");
    EXPECT_CORRUPT(with_envelope_text(valid, "[1E400]"), "not valid JSON");
    EXPECT_CORRUPT(with_envelope_text(valid, "[1,2,3]"), "has JSON type array, expected object");
    EXPECT_CORRUPT(with_envelope_text(valid, "{\"a\":\"\xC3\x28\"}"), "not valid JSON");  // bad UTF-8

    auto edited = [&](auto edit) { return with_envelope(valid, edit); };
    EXPECT_CORRUPT(edited([](Json& j) { j["version"] = 2; }), "unsupported envelope version 2");
    EXPECT_CORRUPT(edited([](Json& j) { j.erase("version"); }), "no \"version\"");
    EXPECT_CORRUPT(edited([](Json& j) { j["version"] = "1"; }), "expected unsigned integer");
    EXPECT_CORRUPT(edited([](Json& j) { j["version"] = 1.0; }), "expected unsigned integer");
    EXPECT_CORRUPT(edited([](Json& j) { j.erase("params"); }), "no \"params\"");
    EXPECT_CORRUPT(edited([](Json& j) { j["params"] = Json::array(); }), "params has type array");
    EXPECT_CORRUPT(edited([](Json& j) { j["params"].erase("name"); }), "no \"name\"");
    EXPECT_CORRUPT(edited([](Json& j) { j["params"]["name"] = 5; }), "params.name has type number");
    EXPECT_CORRUPT(edited([](Json& j) { j["params"].erase("dimension"); }), "no \"dimension\"");
    EXPECT_CORRUPT(edited([](Json& j) { j["params"]["dimension"] = "4"; }), "params.dimension has type string");
    EXPECT_CORRUPT(edited([](Json& j) { j["params"]["dimension"] = 4.5; }), "params.dimension has type number");
    EXPECT_CORRUPT(edited([](Json& j) { j["params"]["dimension"] = 0; }), "params.dimension is 0, outside");
    EXPECT_CORRUPT(edited([](Json& j) { j["params"]["dimension"] = lhv::kMaxDimension + 1; }),
                   "params.dimension is 16001, outside");
    EXPECT_CORRUPT(edited([](Json& j) { j["params"]["m"] = lhv::kMinM - 1; }), "params.m is 1, outside");
    EXPECT_CORRUPT(edited([](Json& j) { j["params"]["m"] = -4; }), "params.m is -4, outside");
    EXPECT_CORRUPT(edited([](Json& j) { j["params"]["m"] = lhv::kMaxM + 1; }), "params.m is 101, outside");
    EXPECT_CORRUPT(edited([](Json& j) { j["params"]["ef_construction"] = 1u << 31; }),
                   "params.ef_construction is 2147483648, outside");
    EXPECT_CORRUPT(edited([](Json& j) { j["params"]["ef_construction"] = std::uint64_t{1} << 40; }),
                   "params.ef_construction is 1099511627776, outside");
    EXPECT_CORRUPT(edited([](Json& j) { j["params"].erase("ef_search"); }), "no \"ef_search\"");
    EXPECT_CORRUPT(edited([](Json& j) { j["params"]["ef_search"] = 0; }), "params.ef_search is 0, outside");
    EXPECT_CORRUPT(edited([](Json& j) { j["params"]["distance"] = "hamming"; }), "unknown distance \"hamming\"");
    EXPECT_CORRUPT(edited([](Json& j) { j["params"]["distance"] = 0; }), "params.distance has type number");
    EXPECT_CORRUPT(edited([](Json& j) { j["metadata"] = "x"; }), "metadata has type string");
}

TEST_F(MalformedSnapshot, GraphHeaderDisagreesWithParams) {
    const std::size_t g = map.base;
    auto patched = [&](std::size_t field, std::uint64_t value) {
        std::string s = valid;
        put_at<std::uint64_t>(s, g + field, value);
        return s;
    };
    EXPECT_CORRUPT(patched(kAtOffsetLevel0, 8), "offsetLevel0 at byte 0 is 8");
    EXPECT_CORRUPT(patched(kAtRecordBytes, map.record_bytes + 4), "size_data_per_element at byte 24");
    EXPECT_CORRUPT(patched(kAtLabelOffset, 0), "label_offset at byte 32");
    EXPECT_CORRUPT(patched(kAtDataOffset, 4), "offsetData at byte 40");
    EXPECT_CORRUPT(patched(kAtMaxM, kM + 1), "maxM at byte 56");
    EXPECT_CORRUPT(patched(kAtMaxM0, kM), "maxM0 at byte 64 is 4, expected 8");
    EXPECT_CORRUPT(patched(kAtM, 2 * kM), "M at byte 72");
    EXPECT_CORRUPT(patched(kAtMaxElements, map.count - 1), "exceeds max_elements");
    std::string mult = valid;
    put_at<double>(mult, g + kAtMult, 0.5);
    EXPECT_CORRUPT(mult, "mult at byte 80");

    // Envelope params that disagree with the graph bytes.
    EXPECT_CORRUPT(with_envelope(valid, [](Json& j) { j["params"]["dimension"] = 8; }),
                   "size_data_per_element at byte 24");
    EXPECT_CORRUPT(with_envelope(valid, [](Json& j) { j["params"]["m"] = 5; }),
                   "size_data_per_element at byte 24");
    // Offsets in graph messages are relative to the graph bytes, which the
    // message locates in the snapshot.
    EXPECT_CORRUPT(patched(kAtOffsetLevel0, 8), "graph bytes (from byte " + std::to_string(g));
}

TEST_F(MalformedSnapshot, EntryPointAndLevels) {
    const std::size_t g = map.base;
    std::string ep = valid;
    put_at<std::uint32_t>(ep, g + kAtEntryPoint, static_cast<std::uint32_t>(map.count));
    EXPECT_CORRUPT(ep, "entry point " + std::to_string(map.count) + " at byte 52");
    std::string ep_low = valid;
    const std::size_t low = std::find(map.levels.begin(), map.levels.end(), 0) - map.levels.begin();
    put_at<std::uint32_t>(ep_low, g + kAtEntryPoint, static_cast<std::uint32_t>(low));
    EXPECT_CORRUPT(ep_low, "has level 0 but maxlevel");

    const std::int32_t max_level = get_at<std::int32_t>(valid, g + kAtMaxLevel);
    ASSERT_GE(max_level, 1) << "the base graph should have upper levels";
    std::string higher = valid;
    put_at<std::int32_t>(higher, g + kAtMaxLevel, max_level + 1);
    EXPECT_CORRUPT(higher, "but maxlevel at byte 48 is");
    std::string lower = valid;
    put_at<std::int32_t>(lower, g + kAtMaxLevel, max_level - 1);
    // Elements above it would be fine if deleted (lhv1_after_repair_test.cpp);
    // the entry point's own level must be the max level.
    EXPECT_CORRUPT(lower, "but maxlevel at byte 48 is");
    std::string negative = valid;
    put_at<std::int32_t>(negative, g + kAtMaxLevel, -1);
    EXPECT_CORRUPT(negative, "maxlevel -1 at byte 48");
    std::string absurd = valid;
    put_at<std::int32_t>(absurd, g + kAtMaxLevel, 100000);
    EXPECT_CORRUPT(absurd, "maxlevel 100000 at byte 48");

    // Link list sizes.
    const std::size_t upper = element_with_level(1);
    std::string not_multiple = valid;
    put_at<std::uint32_t>(not_multiple, map.link_size_at[upper],
                          get_at<std::uint32_t>(valid, map.link_size_at[upper]) + 4);
    EXPECT_CORRUPT(not_multiple, "is not a multiple of " + std::to_string(map.upper_bytes));
    std::string absurd_level = valid;
    put_at<std::uint32_t>(absurd_level, map.link_size_at[0],
                          static_cast<std::uint32_t>(map.upper_bytes * 1000000));
    EXPECT_CORRUPT(absurd_level, "element 0 has level 1000000");
}

TEST_F(MalformedSnapshot, CountsTruncationAndTrailingBytes) {
    const std::size_t g = map.base;
    EXPECT_CORRUPT(valid.substr(0, g + 50), "truncated header");
    EXPECT_CORRUPT(valid.substr(0, g), "truncated header: 96 bytes needed, 0 present");
    EXPECT_CORRUPT(valid.substr(0, valid.size() - 1), "truncated");
    EXPECT_CORRUPT(valid.substr(0, map.link_size_at[10] + 2), "element count");
    EXPECT_CORRUPT(valid.substr(0, map.link_size_at.back() + 2), "link list size of element");
    std::size_t last_upper = map.levels.size() - 1;
    while (map.levels[last_upper] == 0) last_upper--;
    EXPECT_CORRUPT(valid.substr(0, map.link_size_at[last_upper] + 8),
                   "truncated: upper levels of element " + std::to_string(last_upper));
    EXPECT_CORRUPT(valid + '\0', "1 bytes of trailing garbage at byte " + std::to_string(valid.size() - g));
    EXPECT_CORRUPT(valid + std::string(100, 'x'), "trailing garbage");

    std::string one_more = valid;
    put_at<std::uint64_t>(one_more, g + kAtMaxElements, map.count + 1);
    put_at<std::uint64_t>(one_more, g + kAtCount, map.count + 1);
    corrupt_message(one_more);  // rejected, whatever the detail
    std::string one_less = valid;
    put_at<std::uint64_t>(one_less, g + kAtCount, map.count - 1);
    corrupt_message(one_less);
}

TEST_F(MalformedSnapshot, AbsurdElementCountAllocatesNothing) {
    const std::size_t g = map.base;
    for (std::uint64_t count : {std::uint64_t{1} << 40, std::uint64_t{1} << 32, ~std::uint64_t{0},
                                map.count * 2, std::uint64_t{0xFFFFFFFF}}) {
        std::string lying = valid;
        put_at<std::uint64_t>(lying, g + kAtMaxElements, count);
        put_at<std::uint64_t>(lying, g + kAtCount, count);
        HeapChunkMemory memory;
        memory.set_limit(4096);
        try {
            destroy_graph(memory, lhv::decode_lhv1(lying.data(), lying.size(), memory, nullptr));
            ADD_FAILURE() << "count " << count << " accepted";
        } catch (const lhv::Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::CorruptSnapshot) << e.what();
            EXPECT_NE(std::string(e.what()).find("element count " + std::to_string(count)), std::string::npos)
                << e.what();
            EXPECT_NE(std::string(e.what()).find("bytes follow the header"), std::string::npos) << e.what();
        }
        EXPECT_EQ(memory.allocated_bytes(), 0u);
    }
}

TEST_F(MalformedSnapshot, FailedLoadGivesMemoryBack) {
    // The bytes are fine but the memory provider refuses after the graph
    // header exists: the error is OutOfMemory and nothing stays allocated.
    std::size_t full = 0, header_only = 0;
    {
        HeapChunkMemory memory;
        const ChunkHandle loaded = lhv::decode_lhv1(valid.data(), valid.size(), memory, nullptr);
        full = memory.allocated_bytes();
        destroy_graph(memory, loaded);
        HeapChunkMemory empty;
        const ChunkHandle created = HnswGraph::create(empty, make_params(kDim, kM, Metric::L2));
        header_only = empty.allocated_bytes();
        destroy_graph(empty, created);
    }
    ASSERT_LT(header_only, full);
    HeapChunkMemory memory;
    memory.set_limit(header_only + (full - header_only) / 2);
    try {
        destroy_graph(memory, lhv::decode_lhv1(valid.data(), valid.size(), memory, nullptr));
        ADD_FAILURE() << "decoded within half the memory it needs";
    } catch (const lhv::Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::OutOfMemory) << e.what();
    }
    EXPECT_EQ(memory.allocated_bytes(), 0u);
}

TEST_F(MalformedSnapshot, NeighbourListsAndVectors) {
    const std::size_t upper = element_with_level(1);
    auto record_word = [&](std::size_t id, std::size_t word, std::uint32_t value) {
        std::string s = valid;
        put_at<std::uint32_t>(s, map.record_at(id) + 4 * word, value);
        return s;
    };
    EXPECT_CORRUPT(record_word(3, 0, 2 * kM + 1), "neighbour count 9 of element 3 level 0");
    EXPECT_CORRUPT(record_word(3, 0, 0xFFFF), "exceeds the maximum 8");
    EXPECT_CORRUPT(record_word(3, 0, 0x00020001), "unknown flag bits 0x00020000");
    const std::uint32_t n3 = get_at<std::uint32_t>(valid, map.record_at(3)) & 0xFFFF;
    ASSERT_GT(n3, 0u);
    EXPECT_CORRUPT(record_word(3, 1, static_cast<std::uint32_t>(map.count)),
                   "neighbour id " + std::to_string(map.count) + " of element 3 level 0");
    EXPECT_CORRUPT(record_word(3, n3, 0xFFFFFFFF), "neighbour id 4294967295");

    // Upper level lists: count above maxM, id out of range, link to an
    // element that does not have that level.
    const std::size_t links = map.link_size_at[upper] + 4;
    std::string too_many = valid;
    put_at<std::uint32_t>(too_many, links, kM + 1);
    EXPECT_CORRUPT(too_many, "neighbour count 5 of element " + std::to_string(upper) + " level 1");
    std::string high_bits = valid;
    put_at<std::uint32_t>(high_bits, links, (get_at<std::uint32_t>(valid, links) & 0xFFFF) | 0x10000);
    EXPECT_CORRUPT(high_bits, "unknown flag bits");
    std::string bad_id = valid;
    put_at<std::uint32_t>(bad_id, links, 1);
    put_at<std::uint32_t>(bad_id, links + 4, 0x7FFFFFFF);
    EXPECT_CORRUPT(bad_id, "neighbour id 2147483647 of element " + std::to_string(upper) + " level 1");
    const std::size_t ground = std::find(map.levels.begin(), map.levels.end(), 0) - map.levels.begin();
    std::string wrong_level = valid;
    put_at<std::uint32_t>(wrong_level, links, 1);
    put_at<std::uint32_t>(wrong_level, links + 4, static_cast<std::uint32_t>(ground));
    EXPECT_CORRUPT(wrong_level, "neighbour " + std::to_string(ground) + " of element " +
                                    std::to_string(upper) + " level 1 at byte");

    std::string nan = valid;
    put_at<float>(nan, map.record_at(7) + map.data_offset + 8, std::nanf(""));
    EXPECT_CORRUPT(nan, "component 2 of element 7's vector");
    std::string inf = valid;
    put_at<float>(inf, map.record_at(7) + map.data_offset, HUGE_VALF);
    EXPECT_CORRUPT(inf, "is not finite");

    // The deleted flag is valid and survives.
    std::string deleted = valid;
    put_at<std::uint32_t>(deleted, map.record_at(3), n3 | 0x10000);
    OwnedGraph loaded;
    loaded.attach(lhv::decode_lhv1(deleted.data(), deleted.size(), loaded.memory, nullptr));
    EXPECT_TRUE(loaded.graph->is_deleted(3));
    EXPECT_EQ(loaded.graph->deleted_count(), 1u);
}

TEST(Lhv1Codec, CosineGraphMustHoldUnitVectors) {
    OwnedGraph g(make_params(4, 4, Metric::Cosine));
    add_all(*g.graph, lhv_test::uniform_dataset(50, 4, 3));
    std::string snapshot = encode(*g.graph);
    const GraphMap map = map_graph(snapshot, 4);
    put_at<float>(snapshot, map.record_at(9) + map.data_offset, 3.0f);
    EXPECT_CORRUPT(snapshot, "a cosine graph stores unit vectors");
}

TEST(Lhv1Codec, EmptyGraphHeaderMustSayEmpty) {
    OwnedGraph g(make_params(4, 4, Metric::L2));
    const std::string valid = encode(*g.graph);
    const std::size_t base = graph_offset_of(valid);
    std::string ep = valid;
    put_at<std::uint32_t>(ep, base + kAtEntryPoint, 0);
    EXPECT_CORRUPT(ep, "empty graph has entry point 0");
    std::string level = valid;
    put_at<std::int32_t>(level, base + kAtMaxLevel, 0);
    EXPECT_CORRUPT(level, "empty graph has maxlevel 0");
    EXPECT_CORRUPT(valid + "zz", "trailing garbage");
}

TEST(Lhv1Codec, RandomMutationsNeverCrash) {
    const auto data = lhv_test::uniform_dataset(120, 6, 5);
    std::vector<std::string> bases;
    for (Metric metric : {Metric::L2, Metric::InnerProduct, Metric::Cosine}) {
        OwnedGraph g(make_params(6, 3, metric));
        add_all(*g.graph, data);
        bases.push_back(encode(*g.graph));
    }
    std::mt19937 rng(20240601);
    const auto query = lhv_test::uniform_dataset(3, 6, 6);
    std::size_t rejected = 0, accepted = 0;
    StdGraphLocks locks(HnswGraph::kLockSlots);
    for (int round = 0; round < 3000; round++) {
        std::string bytes = bases[round % bases.size()];
        const std::size_t graph_start = graph_offset_of(bytes);
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < edits; e++) {
            // Half of the edits hit the envelope and graph header, where a
            // single byte matters most.
            const std::size_t span = (rng() % 2) ? std::min(bytes.size(), graph_start + kHeaderBytes) : bytes.size();
            const std::size_t at = rng() % span;
            switch (rng() % 6) {
                case 0: bytes[at] = static_cast<char>(rng()); break;
                case 1: bytes[at] ^= static_cast<char>(1u << (rng() % 8)); break;
                case 2: bytes[at] = static_cast<char>(0xFF); break;
                case 3: bytes.resize(at); break;
                case 4: bytes.insert(at, 1, static_cast<char>(rng())); break;
                default: bytes.erase(at, 1 + rng() % 8); break;
            }
            if (bytes.empty()) break;
        }
        HeapChunkMemory memory;
        memory.set_limit(64u << 20);
        ChunkHandle handle = lhv::kInvalidChunk;
        try {
            handle = lhv::decode_lhv1(bytes.data(), bytes.size(), memory, nullptr);
        } catch (const lhv::Error& e) {
            rejected++;
            EXPECT_EQ(memory.allocated_bytes(), 0u) << e.what();
            continue;
        }
        accepted++;
        HnswGraph graph(memory, locks, handle);
        for (std::size_t q = 0; q < query.n; q++) {
            const auto results = graph.search(query.row(q), 10, 32);
            EXPECT_LE(results.size(), 10u);
            for (const auto& r : results) EXPECT_LT(r.id, graph.size());
        }
        graph.destroy();
        EXPECT_EQ(memory.allocated_bytes(), 0u);
    }
    EXPECT_GT(rejected, 1000u);
    EXPECT_GT(accepted, 10u) << "mutations of vector values should still decode";
}

// ---- Exports: "labels", "vectors", rewritten labels and deletion marks ----

// An envelope as lhv_export writes it: labels for the given elements,
// vectors (dimension each) for some of them.
Lhv1Envelope export_envelope(const std::vector<std::pair<std::uint64_t, std::string>>& labels,
                             const std::vector<std::uint64_t>& vector_labels, const std::vector<float>& vectors) {
    Lhv1Envelope e = make_envelope();
    e.has_labels = true;
    for (const auto& l : labels) e.labels.push_back(lhv::Lhv1Label{l.first, l.second});
    e.vector_labels = vector_labels;
    e.vector_values = vectors;
    return e;
}

TEST(Lhv1Codec, LabelsAndVectorsRoundTrip) {
    OwnedGraph g(make_params(3, 2, Metric::Cosine));
    add_all(*g.graph, lhv_test::uniform_dataset(20, 3, 3));
    const Lhv1Envelope e = export_envelope({{0, "a"}, {7, "\xC3\xA9t\xC3\xA9 \"quoted\""}, {19, "z"}},
                                           {7, 19}, {-1.5f, 0.25f, 3.0f, 1e-30f, 2.0f, -0.0f});
    const std::string snapshot = encode(*g.graph, e);
    std::size_t offset = 0;
    const Lhv1Envelope d = lhv::decode_lhv1_envelope(snapshot.data(), snapshot.size(), &offset);
    // Entries come back in the JSON object's order (by key text).
    EXPECT_TRUE(d.has_labels);
    ASSERT_EQ(d.labels.size(), 3u);
    const std::size_t order[3] = {0, 2, 1};  // "0", "19", "7"
    for (std::size_t i = 0; i < 3; i++) {
        EXPECT_EQ(d.labels[i].label, e.labels[order[i]].label);
        EXPECT_EQ(d.labels[i].id, e.labels[order[i]].id);
    }
    EXPECT_EQ(d.vector_labels, (std::vector<std::uint64_t>{19, 7}));
    ASSERT_EQ(d.vector_values.size(), e.vector_values.size());
    EXPECT_EQ(std::memcmp(d.vector_values.data(), e.vector_values.data() + 3, 3 * sizeof(float)), 0);
    EXPECT_EQ(std::memcmp(d.vector_values.data() + 3, e.vector_values.data(), 3 * sizeof(float)), 0)
        << "vectors must come back bit for bit (-0.0 and denormals included)";
    // What other tools see: plain JSON, ids as strings, vectors as base64 of
    // little-endian float32 (checked against Python's base64 of struct.pack).
    const Json json = Json::parse(snapshot.substr(8, offset - 8));
    EXPECT_EQ(json["labels"], Json::parse(R"({"0":"a","7":"\u00e9t\u00e9 \"quoted\"","19":"z"})"));
    EXPECT_EQ(json["vectors"]["7"], "AADAvwAAgD4AAEBA");
    // Without labels and vectors the envelope is what it was before exports.
    const std::string plain = encode(*g.graph);
    const Lhv1Envelope p = lhv::decode_lhv1_envelope(plain.data(), plain.size(), &offset);
    EXPECT_FALSE(p.has_labels);
    EXPECT_TRUE(p.vector_labels.empty());
    EXPECT_EQ(Json::parse(plain.substr(8, offset - 8)).count("labels"), 0u);
    // has_labels with no entry (an export of an empty index): "labels":{}.
    Lhv1Envelope none = make_envelope();
    none.has_labels = true;
    const std::string empty_labels = encode(*g.graph, none);
    const Lhv1Envelope n = lhv::decode_lhv1_envelope(empty_labels.data(), empty_labels.size(), &offset);
    EXPECT_TRUE(n.has_labels);
    EXPECT_TRUE(n.labels.empty());
}

TEST(Lhv1Codec, EncodeRejectsBadLabelsAndVectors) {
    OwnedGraph g(make_params(2, 2, Metric::Cosine));
    auto encode_error = [&](const Lhv1Envelope& e) {
        lhv::StringSink sink;
        try {
            lhv::encode_lhv1(e, *g.graph, sink);
        } catch (const lhv::Error& err) {
            return err.kind();
        }
        return ErrorKind::Internal;  // "no error": never expected here
    };
    EXPECT_EQ(encode_error(export_envelope({{1, ""}}, {}, {})), ErrorKind::InvalidParameter);
    EXPECT_EQ(encode_error(export_envelope({{1, "\xC3\x28"}}, {}, {})), ErrorKind::InvalidParameter);  // not UTF-8
    EXPECT_EQ(encode_error(export_envelope({}, {1}, {1.0f, std::nanf("")})), ErrorKind::InvalidParameter);
    EXPECT_EQ(encode_error(export_envelope({}, {1}, {1.0f, INFINITY})), ErrorKind::InvalidParameter);
    EXPECT_EQ(encode_error(export_envelope({}, {1}, {1.0f})), ErrorKind::Internal);  // values for half a vector
}

TEST_F(MalformedSnapshot, LabelsAndVectorsErrors) {
    auto edited = [&](auto edit) { return with_envelope(valid, edit); };
    EXPECT_CORRUPT(edited([](Json& j) { j["labels"] = Json::array(); }), "labels has type array, expected object");
    for (const char* key : {"01", "-1", "+1", "1.0", "x", "", " 1", "18446744073709551616", "99999999999999999999"})
        EXPECT_CORRUPT(edited([&](Json& j) { j["labels"] = {{key, "id"}}; }), "is not a graph label");
    const std::string largest = edited([](Json& j) { j["labels"] = {{"18446744073709551615", "id"}}; });
    std::size_t at = 0;
    EXPECT_EQ(lhv::decode_lhv1_envelope(largest.data(), largest.size(), &at).labels.at(0).label,
              std::numeric_limits<std::uint64_t>::max());
    EXPECT_CORRUPT(edited([](Json& j) { j["labels"] = {{"1", 1}}; }), "labels[\"1\"] has type number, expected string");
    EXPECT_CORRUPT(edited([](Json& j) { j["labels"] = {{"1", ""}}; }), "labels[\"1\"] is an empty id");

    // kDim = 4 floats: 16 bytes, 24 base64 characters.
    const std::string four_floats = "AACAPwAAAEAAAEBAAACAQA==";  // 1, 2, 3, 4
    ASSERT_EQ(four_floats.size(), 24u);
    std::size_t offset = 0;
    const std::string good = edited([&](Json& j) { j["vectors"] = {{"3", four_floats}}; });
    const Lhv1Envelope d = lhv::decode_lhv1_envelope(good.data(), good.size(), &offset);
    EXPECT_EQ(d.vector_values, (std::vector<float>{1, 2, 3, 4}));
    EXPECT_CORRUPT(edited([](Json& j) { j["vectors"] = "x"; }), "vectors has type string, expected object");
    EXPECT_CORRUPT(edited([&](Json& j) { j["vectors"] = {{"03", four_floats}}; }), "is not a graph label");
    EXPECT_CORRUPT(edited([](Json& j) { j["vectors"] = {{"3", Json::array({1, 2, 3, 4})}}; }),
                   "vectors[\"3\"] has type array, expected string");
    const char* not_four_floats[] = {
        "AACAPwAAAEAAAEBA",            // 3 floats
        "AACAPwAAAEAAAEBAAACAQAAAgEA=",  // 5 floats
        "AACAPwAAAEAAAEBAAACAQA=",     // missing padding
        "AACAPwAAAEAAAEBAAACAQ==",     // too short
        "AACAPwAAAEAAAEBAAACAQ=A",     // data after padding
        "AACAPwAAAEAAAEBAAACAQB==",    // bits under the padding
        "AACAPwAAAE!AAEBAAACAQA==",    // not base64
        "AACAPwAAAEAAAEBAAACAQ-_",     // URL-safe alphabet
        "",
    };
    for (const char* text : not_four_floats)
        EXPECT_CORRUPT(edited([&](Json& j) { j["vectors"] = {{"3", text}}; }), "is not the base64 of 4 float32 values");
    EXPECT_CORRUPT(edited([](Json& j) { j["vectors"] = {{"3", "AACAPwAAwH8AAEBAAACAQA=="}}; }),  // NaN
                   "vectors[\"3\"] component 1 is not finite");
    EXPECT_CORRUPT(edited([](Json& j) { j["vectors"] = {{"3", "AACAPwAAgH8AAEBAAACAQA=="}}; }),  // +inf
                   "component 1 is not finite");
}

TEST(Lhv1Codec, RewrittenGraphKeepsEverythingButLabelsAndMarks) {
    for (Metric metric : {Metric::L2, Metric::InnerProduct, Metric::Cosine}) {
        SCOPED_TRACE(lhv::metric_name(metric));
        const auto data = lhv_test::clustered_dataset(600, 8, 6, 21);
        OwnedGraph original(make_params(8, 6, metric));
        for (std::size_t i = 0; i < data.n; i++) original.graph->add(data.row(i), 1000000 + 7 * i);
        original.graph->mark_deleted(10);
        const HnswGraph& a = *original.graph;
        std::vector<lhv::ElementRewrite> rewrite(a.size());
        for (std::uint32_t id = 0; id < a.size(); id++) rewrite[id] = {id, id % 5 == 0};  // 10 stays deleted

        lhv::StringSink sink;
        lhv::write_hnswlib_graph(a, sink, rewrite.data(), rewrite.size());
        EXPECT_EQ(sink.bytes.size(), lhv::hnswlib_graph_bytes(a));
        const lhv::HnswlibGraphBytes bytes(sink.bytes.data(), sink.bytes.size(), a.params());
        ASSERT_EQ(bytes.size(), a.size());
        OwnedGraph loaded;
        loaded.attach(bytes.load(loaded.memory));
        const HnswGraph& b = *loaded.graph;
        EXPECT_EQ(b.deleted_count(), (a.size() + 4) / 5);
        for (std::uint32_t id = 0; id < a.size(); id++) {
            ASSERT_EQ(bytes.label(id), id);
            ASSERT_EQ(bytes.is_deleted(id), id % 5 == 0);
            ASSERT_EQ(b.label(id), id);
            ASSERT_EQ(b.is_deleted(id), id % 5 == 0);
            ASSERT_EQ(std::memcmp(bytes.vector_bytes(id), a.vector(id), 8 * sizeof(float)), 0);
            // Neighbour lists and vectors are the original's, byte for byte.
            const std::size_t list_bytes = 4 * (1 + a.max_m0());
            ASSERT_EQ(std::memcmp(b.record(id) + 4, a.record(id) + 4, list_bytes - 4 + 8 * sizeof(float)), 0);
            ASSERT_EQ(b.level(id), a.level(id));
        }
        // Searches that reach every element find the same ones at the same
        // distances, except those now marked deleted (equal distances may
        // come in another order).
        const auto queries = lhv_test::clustered_dataset(50, 8, 6, 22);
        for (std::size_t q = 0; q < queries.n; q++) {
            std::vector<std::pair<float, std::uint32_t>> expected, found;
            for (const auto& r : a.search(queries.row(q), 600, 600))
                if (r.id % 5 != 0) expected.emplace_back(r.distance, r.id);
            for (const auto& r : b.search(queries.row(q), 600, 600)) found.emplace_back(r.distance, r.id);
            std::sort(expected.begin(), expected.end());
            std::sort(found.begin(), found.end());
            ASSERT_EQ(found, expected) << "query " << q;
        }

        // Loading with a rewrite relabels as well, and undeletes.
        std::vector<lhv::ElementRewrite> back(a.size());
        for (std::uint32_t id = 0; id < a.size(); id++) back[id] = {a.label(id), id == 10};
        OwnedGraph relabelled;
        relabelled.attach(bytes.load(relabelled.memory, back.data()));
        for (std::uint32_t id = 0; id < a.size(); id++) {
            ASSERT_EQ(relabelled.graph->label(id), a.label(id));
            ASSERT_EQ(std::memcmp(relabelled.graph->record(id), a.record(id), a.record_bytes()), 0) << id;
        }
        EXPECT_EQ(relabelled.graph->deleted_count(), 1u);

        // A rewrite must cover the graph exactly.
        lhv::StringSink short_sink;
        EXPECT_THROW(lhv::write_hnswlib_graph(a, short_sink, rewrite.data(), rewrite.size() - 1), lhv::Error);
    }
}

TEST(Lhv1Codec, EmptyGraphWriterMatchesAnEmptyGraph) {
    for (Metric metric : {Metric::L2, Metric::InnerProduct, Metric::Cosine}) {
        OwnedGraph g(make_params(5, 7, metric));
        lhv::StringSink from_graph, from_params;
        lhv::write_hnswlib_graph(*g.graph, from_graph);
        lhv::write_empty_hnswlib_graph(g.graph->params(), from_params);
        EXPECT_EQ(from_params.bytes, from_graph.bytes);
        EXPECT_EQ(lhv::hnswlib_graph_bytes(*g.graph), from_graph.bytes.size());
    }
}

TEST(Lhv1Codec, MetadataEntries) {
    const auto entries = lhv::lhv1_metadata_entries(R"({"b":{"x":[1,2.5,null]},"a":null,"c":"s"})");
    ASSERT_EQ(entries.size(), 3u);
    EXPECT_EQ(entries[0], (std::pair<std::string, std::string>{"a", "null"}));
    EXPECT_EQ(entries[1], (std::pair<std::string, std::string>{"b", R"({"x":[1,2.5,null]})"}));
    EXPECT_EQ(entries[2], (std::pair<std::string, std::string>{"c", R"("s")"}));
    EXPECT_TRUE(lhv::lhv1_metadata_entries("{}").empty());
    for (const char* bad : {"[]", "1", "{", ""}) {
        try {
            lhv::lhv1_metadata_entries(bad);
            ADD_FAILURE() << bad;
        } catch (const lhv::Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::CorruptSnapshot) << bad;
        }
    }
}

}  // namespace
