// lhv1_import_test.cpp: decode_lhv1_import, LHV1 bytes as the rows of a
// named index: exports (labels, vectors, deleted elements), indexes saved by
// hnswlib without labels, every way the parts can disagree (each a
// CorruptSnapshot naming the problem), and random mutations that must never
// crash or let a broken row through.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "errors.h"
#include "hnsw_graph.h"
#include "lhv1_codec.h"
#include "lhv1_import.h"
#include "test_data.h"

namespace {

using lhv::ErrorKind;
using lhv::HnswGraph;
using lhv::Lhv1Envelope;
using lhv::Metric;
using Json = nlohmann::json;

constexpr std::uint32_t kDim = 4;

// A graph of `n` vectors labelled 500 + i, elements with i % 4 == 3 deleted.
struct Source {
    lhv::HeapChunkMemory memory;
    lhv::StdGraphLocks locks{HnswGraph::kLockSlots};
    std::unique_ptr<HnswGraph> graph;
    lhv_test::Dataset data;

    Source(Metric metric, std::size_t n) : data(lhv_test::uniform_dataset(n, kDim, 9)) {
        lhv::GraphParams params;
        params.dimension = kDim;
        params.m = 4;
        params.ef_construction = 32;
        params.metric = metric;
        graph = std::make_unique<HnswGraph>(memory, locks, HnswGraph::create(memory, params));
        for (std::size_t i = 0; i < n; i++) graph->add(data.row(i), 500 + i);
        for (std::size_t i = 3; i < n; i += 4) graph->mark_deleted(static_cast<std::uint32_t>(i));
    }
    ~Source() { graph->destroy(); }

    // LHV1 bytes as lhv_export writes them: labels are element ids, "labels"
    // names the live ones "id<element>", metadata for even elements, and
    // (cosine) "vectors" holding 3x the data for elements divisible by 5.
    std::string exported() const {
        Lhv1Envelope e;
        e.name = "src";
        e.ef_search = 30;
        e.has_labels = true;
        Json metadata = Json::object();
        std::vector<lhv::ElementRewrite> rewrite(graph->size());
        for (std::uint32_t id = 0; id < graph->size(); id++) {
            rewrite[id] = {id, graph->is_deleted(id)};
            if (graph->is_deleted(id)) continue;
            e.labels.push_back({id, "id" + std::to_string(id)});
            if (id % 2 == 0) metadata["id" + std::to_string(id)] = {{"n", id}};
            if (graph->params().metric == Metric::Cosine && id % 5 == 0) {
                e.vector_labels.push_back(id);
                for (std::uint32_t j = 0; j < kDim; j++) e.vector_values.push_back(3 * data.row(id)[j]);
            }
        }
        e.metadata_json = metadata.dump();
        lhv::StringSink sink;
        sink.bytes = lhv::encode_lhv1_envelope(e, graph->params());
        lhv::write_hnswlib_graph(*graph, sink, rewrite.data(), rewrite.size());
        return sink.bytes;
    }

    // LHV1 bytes as a user wraps an hnswlib index: params only, the graph as saved.
    std::string plain() const {
        Lhv1Envelope e;
        lhv::StringSink sink;
        lhv::encode_lhv1(e, *graph, sink);
        return sink.bytes;
    }
};

// Rewrites the envelope of LHV1 bytes with `edit`.
template <typename Edit>
std::string with_envelope(const std::string& bytes, Edit edit) {
    std::size_t offset = 0;
    lhv::decode_lhv1_envelope(bytes.data(), bytes.size(), &offset);
    Json json = Json::parse(bytes.substr(8, offset - 8));
    edit(json);
    const std::string text = json.dump();
    std::string out = "LHV1";
    for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>(text.size() >> shift);
    return out + text + bytes.substr(offset);
}

// The CorruptSnapshot message of an import of `bytes` (fails the test otherwise).
std::string import_error(const std::string& bytes) {
    try {
        lhv::decode_lhv1_import(bytes.data(), bytes.size());
    } catch (const lhv::Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::CorruptSnapshot) << e.what();
        return e.what();
    }
    ADD_FAILURE() << "malformed bytes were accepted";
    return "";
}

#define EXPECT_IMPORT_ERROR(bytes, substring)                                         \
    do {                                                                              \
        const std::string message_ = import_error(bytes);                             \
        EXPECT_NE(message_.find(substring), std::string::npos)                        \
            << "message \"" << message_ << "\" lacks \"" << (substring) << "\"";      \
    } while (0)

TEST(Lhv1Import, ExportBecomesOneRowPerLiveElement) {
    for (Metric metric : {Metric::L2, Metric::InnerProduct, Metric::Cosine}) {
        SCOPED_TRACE(lhv::metric_name(metric));
        Source source(metric, 41);
        const std::string bytes = source.exported();
        const auto import = lhv::decode_lhv1_import(bytes.data(), bytes.size());
        EXPECT_EQ(import->name, "src");
        EXPECT_EQ(import->ef_search, 30u);
        EXPECT_EQ(import->params.metric, metric);
        EXPECT_EQ(import->elements, 41u);
        ASSERT_EQ(import->rows.size(), 31u);  // 10 of 41 deleted
        for (const auto& row : import->rows) {
            const std::uint32_t e = row.element;
            EXPECT_FALSE(source.graph->is_deleted(e));
            EXPECT_EQ(row.id, "id" + std::to_string(e));
            EXPECT_EQ(row.has_metadata, e % 2 == 0);
            if (row.has_metadata) {
                EXPECT_EQ(Json::parse(row.metadata), Json({{"n", e}}));
            }
            float v[kDim];
            std::memcpy(v, row.vector, sizeof v);
            for (std::uint32_t j = 0; j < kDim; j++) {
                // The stored vector where "vectors" has it, else the graph's.
                const float expected = metric == Metric::Cosine && e % 5 == 0 ? 3 * source.data.row(e)[j]
                                                                               : source.graph->vector(e)[j];
                ASSERT_EQ(v[j], expected) << e;
            }
        }
        // The graph bytes are the exported ones, checked.
        const lhv::HnswlibGraphBytes graph(import->graph_bytes, import->graph_size, import->params);
        EXPECT_EQ(graph.size(), 41u);
    }
}

TEST(Lhv1Import, WithoutLabelsIdsAreDecimalLabels) {
    Source source(Metric::L2, 20);
    const std::string bytes = source.plain();
    const auto import = lhv::decode_lhv1_import(bytes.data(), bytes.size());
    std::set<std::string> ids;
    for (const auto& row : import->rows) {
        EXPECT_EQ(row.id, std::to_string(500 + row.element));
        EXPECT_FALSE(row.has_metadata);
        ids.insert(row.id);
    }
    EXPECT_EQ(ids.size(), 15u);
    // Metadata is optional and keyed by those ids.
    const std::string with_metadata = with_envelope(bytes, [](Json& j) { j["metadata"] = {{"501", {1, 2}}}; });
    const auto imported = lhv::decode_lhv1_import(with_metadata.data(), with_metadata.size());
    EXPECT_TRUE(imported->rows.at(1).has_metadata);
    EXPECT_EQ(imported->rows.at(1).metadata, "[1,2]");
}

TEST(Lhv1Import, EveryDisagreementIsNamed) {
    Source l2(Metric::L2, 20);
    const std::string exported = l2.exported();
    auto edited = [&](auto edit) { return with_envelope(exported, edit); };
    EXPECT_IMPORT_ERROR(edited([](Json& j) { j["labels"].erase("5"); }),
                        "element 5 (graph label 5) is not deleted, but \"labels\" gives it no id");
    EXPECT_IMPORT_ERROR(edited([](Json& j) { j["labels"]["3"] = "x"; }),
                        "\"labels\" names graph label 3, which is no element of the graph that is not deleted");
    EXPECT_IMPORT_ERROR(edited([](Json& j) { j["labels"]["77"] = "x"; }), "names graph label 77, which is no element");
    EXPECT_IMPORT_ERROR(edited([](Json& j) { j["labels"]["6"] = "id5"; }),
                        "id \"id5\" belongs to two elements, 5 and 6");
    EXPECT_IMPORT_ERROR(edited([](Json& j) { j["labels"]["6"] = std::string("a\0b", 3); }),
                        "the id of graph label 6 contains a NUL character");
    EXPECT_IMPORT_ERROR(edited([](Json& j) { j["metadata"]["id3"] = 1; }),
                        "\"metadata\" names id \"id3\", which no element of the graph has");
    EXPECT_IMPORT_ERROR(edited([](Json& j) { j["metadata"] = 1; }), "metadata has type number");
    EXPECT_IMPORT_ERROR(edited([](Json& j) { j["vectors"] = {{"0", "AAAAAAAAAAAAAAAAAAAAAA=="}}; }),
                        "\"vectors\" is only for cosine graphs");
    // Not an LHV1 envelope or graph at all: the codec's own errors.
    EXPECT_IMPORT_ERROR(exported.substr(0, 7), "shorter than the 8-byte header");
    EXPECT_IMPORT_ERROR(exported.substr(0, exported.size() - 1), "graph bytes (from byte");

    Source cosine(Metric::Cosine, 20);
    const std::string cosine_bytes = cosine.exported();
    auto vectors = [&](const char* label, std::vector<float> v) {
        return with_envelope(cosine_bytes, [&](Json& j) {
            std::string text;
            const auto* b = reinterpret_cast<const unsigned char*>(v.data());
            static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            for (std::size_t i = 0; i < 16; i += 3) {
                const std::uint32_t n = (std::uint32_t{b[i]} << 16) | (i + 1 < 16 ? std::uint32_t{b[i + 1]} << 8 : 0) |
                                        (i + 2 < 16 ? b[i + 2] : 0);
                text += alphabet[n >> 18];
                text += alphabet[(n >> 12) & 63];
                text += i + 1 < 16 ? alphabet[(n >> 6) & 63] : '=';
                text += i + 2 < 16 ? alphabet[n & 63] : '=';
            }
            j["vectors"][label] = text;
        });
    };
    const float* unit1 = cosine.graph->vector(1);
    const std::string scaled = vectors("1", {7 * unit1[0], 7 * unit1[1], 7 * unit1[2], 7 * unit1[3]});
    const auto import = lhv::decode_lhv1_import(scaled.data(), scaled.size());
    float v[kDim];
    std::memcpy(v, import->rows.at(1).vector, sizeof v);
    EXPECT_EQ(v[0], 7 * unit1[0]) << "a stored vector along the graph's is taken";
    EXPECT_IMPORT_ERROR(vectors("1", {unit1[1], unit1[0], unit1[2], -unit1[3]}),
                        "the vector of graph label 1 in \"vectors\" does not point the way the graph's unit vector does");
    EXPECT_IMPORT_ERROR(vectors("1", {0, 0, 0, 0}), "does not point the way");
    EXPECT_IMPORT_ERROR(vectors("3", {unit1[0], unit1[1], unit1[2], unit1[3]}),
                        "\"vectors\" names graph label 3, which is no element of the graph that is not deleted");
}

TEST(Lhv1Import, DuplicateLabelsWithoutLabelsMapAreDuplicateIds) {
    // Two live elements saved under one label: their ids would collide.
    Source source(Metric::L2, 8);
    std::string bytes = source.plain();
    std::size_t offset = 0;
    lhv::decode_lhv1_envelope(bytes.data(), bytes.size(), &offset);
    const std::size_t record = source.graph->record_bytes();
    const std::size_t label_at = offset + 96 + 2 * record + (record - 8);  // element 2's label
    const std::uint64_t label = 501;                                       // element 1's
    std::memcpy(&bytes[label_at], &label, sizeof label);
    EXPECT_IMPORT_ERROR(bytes, "id \"501\" belongs to two elements, 1 and 2");
}

TEST(Lhv1Import, RandomMutationsNeverCrashOrLetBrokenRowsThrough) {
    Source source(Metric::Cosine, 60);
    const std::string base = source.exported();
    std::mt19937 rng(77);
    std::size_t accepted = 0;
    for (int round = 0; round < 2000; round++) {
        std::string bytes = base;
        for (int e = 0, edits = 1 + int(rng() % 3); e < edits && !bytes.empty(); e++) {
            const std::size_t at = rng() % bytes.size();
            switch (rng() % 3) {
                case 0: bytes[at] = static_cast<char>(rng()); break;
                case 1: bytes[at] ^= static_cast<char>(1u << (rng() % 8)); break;
                default: bytes.erase(at, 1 + rng() % 4); break;
            }
        }
        std::unique_ptr<lhv::Lhv1Import> import;
        try {
            import = lhv::decode_lhv1_import(bytes.data(), bytes.size());
        } catch (const lhv::Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::CorruptSnapshot) << e.what();
            continue;
        }
        accepted++;
        std::set<std::string> ids;
        for (const auto& row : import->rows) {
            ASSERT_LT(row.element, import->elements);
            ASSERT_FALSE(row.id.empty());
            ASSERT_TRUE(ids.insert(row.id).second) << "duplicate id " << row.id;
            if (row.has_metadata) {
                ASSERT_NO_THROW(Json::parse(row.metadata));
            }
        }
    }
    EXPECT_GT(accepted, 10u) << "mutated vector values should still import";
}

}  // namespace
