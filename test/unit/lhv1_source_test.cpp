// lhv1_source_test.cpp: decoding an LHV1 snapshot from a ByteSource in
// pieces (as PostgreSQL reads the TOAST slices of its bytea parts): the same
// graph as from one buffer, each byte read about once, views within their
// limits and never used after the next one, the same messages for malformed
// input, and nothing left allocated when a read fails half way.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

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
using lhv::Metric;
using lhv::StdGraphLocks;

// The bytes of a snapshot cut into parts of `part_bytes` (the last one
// shorter). Each view is copied into a fresh buffer and the previous one is
// overwritten, so a decoder that kept using an old view reads garbage.
class PiecewiseSource final : public lhv::ByteSource {
public:
    PiecewiseSource(const std::string& bytes, std::size_t part_bytes) : bytes_(bytes), part_bytes_(part_bytes) {}

    std::size_t size() const override { return bytes_.size(); }

    const char* view(std::size_t offset, std::size_t length) override {
        if (offset + length > bytes_.size() || offset + length < offset)
            throw std::logic_error("view past the end");
        if (length > lhv::kMaxSourceView) throw std::logic_error("view longer than kMaxSourceView");
        if (fail_after_ != 0 && viewed_ + length > fail_after_)
            throw lhv::Error(ErrorKind::Internal, "read failed (test)");
        std::fill(buffer_.begin(), buffer_.end(), '\xAB');
        buffer_.assign(length, '\0');
        // Copy part by part, as a reader of separate parts has to.
        for (std::size_t done = 0; done < length;) {
            const std::size_t in_part = (offset + done) % part_bytes_;
            const std::size_t n = std::min(length - done, part_bytes_ - in_part);
            std::memcpy(buffer_.data() + done, bytes_.data() + offset + done, n);
            done += n;
        }
        viewed_ += length;
        views_++;
        return buffer_.data();
    }

    std::size_t viewed() const { return viewed_; }
    std::size_t views() const { return views_; }
    // Makes every view fail once `bytes` have been viewed.
    void fail_after(std::size_t bytes) { fail_after_ = bytes; }

private:
    const std::string& bytes_;
    std::size_t part_bytes_;
    std::vector<char> buffer_;
    std::size_t viewed_ = 0;
    std::size_t views_ = 0;
    std::size_t fail_after_ = 0;
};

GraphParams make_params(std::uint32_t dim, std::uint32_t m, Metric metric) {
    GraphParams p;
    p.dimension = dim;
    p.m = m;
    p.ef_construction = 48;
    p.metric = metric;
    return p;
}

void destroy_graph(lhv::ChunkMemory& memory, ChunkHandle handle) {
    StdGraphLocks locks(HnswGraph::kLockSlots);
    HnswGraph(memory, locks, handle).destroy();
}

// A snapshot of a graph whose records fill several views.
struct Fixture {
    static constexpr std::uint32_t kDim = 128, kM = 8;
    std::string bytes;
    std::size_t graph_offset = 0;
    std::size_t records_end = 0;  // where the link lists start, in the snapshot
    HeapChunkMemory memory;
    StdGraphLocks locks{HnswGraph::kLockSlots};
    ChunkHandle handle;

    Fixture() {
        handle = HnswGraph::create(memory, make_params(kDim, kM, Metric::L2));
        HnswGraph graph(memory, locks, handle);
        const auto data = lhv_test::clustered_dataset(5000, kDim, 16, 5);
        for (std::size_t i = 0; i < data.n; i++) graph.add(data.row(i), 1000 + i);
        graph.mark_deleted(17);
        lhv::Lhv1Envelope envelope;
        envelope.name = "pieces";
        lhv::StringSink sink;
        lhv::encode_lhv1(envelope, graph, sink);
        bytes = sink.bytes;
        lhv::decode_lhv1_envelope(bytes.data(), bytes.size(), &graph_offset);
        records_end = graph_offset + 96 + std::size_t{graph.size()} * graph.record_bytes();
    }
    ~Fixture() { destroy_graph(memory, handle); }
};

// Decodes `bytes` from memory and returns the CorruptSnapshot message.
std::string message_from_memory(const std::string& bytes) {
    HeapChunkMemory memory;
    try {
        destroy_graph(memory, lhv::decode_lhv1(bytes.data(), bytes.size(), memory, nullptr));
    } catch (const lhv::Error& e) {
        EXPECT_EQ(memory.allocated_bytes(), 0u);
        return e.what();
    }
    return "accepted";
}

// The same through a PiecewiseSource.
std::string message_from_pieces(const std::string& bytes, std::size_t part_bytes) {
    HeapChunkMemory memory;
    PiecewiseSource source(bytes, part_bytes);
    try {
        destroy_graph(memory, lhv::decode_lhv1(source, memory, nullptr));
    } catch (const lhv::Error& e) {
        EXPECT_EQ(memory.allocated_bytes(), 0u) << "a rejected snapshot left memory allocated";
        return e.what();
    }
    return "accepted";
}

TEST(Lhv1Source, PiecesDecodeToTheSameGraphReadingEachRecordOnce) {
    Fixture f;
    HnswGraph original(f.memory, f.locks, f.handle);
    ASSERT_GT(f.records_end - f.graph_offset, 2 * lhv::kMaxSourceView) << "the records should need several views";
    for (std::size_t part_bytes : {std::size_t{1} << 20, std::size_t{65536}, std::size_t{1999}, f.bytes.size()}) {
        SCOPED_TRACE(part_bytes);
        HeapChunkMemory memory;
        PiecewiseSource source(f.bytes, part_bytes);
        lhv::Lhv1Envelope envelope;
        const ChunkHandle handle = lhv::decode_lhv1(source, memory, &envelope);
        StdGraphLocks locks(HnswGraph::kLockSlots);
        HnswGraph loaded(memory, locks, handle);
        EXPECT_EQ(envelope.name, "pieces");
        ASSERT_EQ(loaded.size(), original.size());
        EXPECT_EQ(loaded.entry_point(), original.entry_point());
        EXPECT_EQ(loaded.deleted_count(), 1u);
        for (std::uint32_t id = 0; id < original.size(); id++) {
            ASSERT_EQ(loaded.level(id), original.level(id)) << id;
            ASSERT_EQ(std::memcmp(loaded.record(id), original.record(id), original.record_bytes()), 0) << id;
            if (original.level(id) > 0) {
                ASSERT_EQ(std::memcmp(loaded.upper_links(id), original.upper_links(id),
                                      original.level(id) * original.upper_level_bytes()),
                          0)
                    << id;
            }
        }
        const auto queries = lhv_test::clustered_dataset(50, Fixture::kDim, 16, 6);
        for (std::size_t q = 0; q < queries.n; q++) {
            const auto a = original.search(queries.row(q), 10, 40);
            const auto b = loaded.search(queries.row(q), 10, 40);
            ASSERT_EQ(a.size(), b.size());
            for (std::size_t i = 0; i < a.size(); i++) ASSERT_EQ(a[i].label, b[i].label);
        }
        // Every byte is viewed exactly once: never a second pass, never a
        // joined copy of the whole snapshot.
        EXPECT_EQ(source.viewed(), f.bytes.size());
        EXPECT_GT(source.views(), 3u);
        loaded.destroy();
        EXPECT_EQ(memory.allocated_bytes(), 0u);
    }
}

TEST(Lhv1Source, MalformedInputGivesTheSameMessageAsFromMemory) {
    Fixture f;
    const std::size_t g = f.graph_offset;
    HnswGraph original(f.memory, f.locks, f.handle);
    const std::size_t record_bytes = original.record_bytes();
    const std::uint32_t last = original.size() - 1;
    std::vector<std::string> inputs;
    // A NaN in the last record's vector: found after most records were appended.
    {
        std::string s = f.bytes;
        const float nan = std::nanf("");
        std::memcpy(&s[g + 96 + last * record_bytes + 4 + 4 * 2 * Fixture::kM + 8], &nan, 4);
        inputs.push_back(s);
    }
    // A neighbour id past the element count in a middle record.
    {
        std::string s = f.bytes;
        const std::uint32_t bad = 0x7FFFFFFF;
        std::memcpy(&s[g + 96 + 2000 * record_bytes + 4], &bad, 4);
        inputs.push_back(s);
    }
    // A count of 1: what follows its record is far more than one element's
    // link lists, and is rejected before it is copied.
    {
        std::string s = f.bytes;
        const std::uint64_t one = 1;
        std::memcpy(&s[g + 8], &one, 8);
        std::memcpy(&s[g + 16], &one, 8);
        std::memcpy(&s[g + 52], "\0\0\0\0", 4);  // entry point 0
        EXPECT_NE(message_from_pieces(s, 4099).find("more than 1 elements can have"), std::string::npos)
            << message_from_pieces(s, 4099);
        inputs.push_back(s);
    }
    inputs.push_back(f.bytes.substr(0, f.bytes.size() - 3));                  // truncated link lists
    inputs.push_back(f.bytes + "xyz");                                        // trailing garbage
    inputs.push_back(f.bytes.substr(0, 5));                                   // shorter than the preamble
    inputs.push_back(f.bytes.substr(0, g + 50));                              // truncated graph header
    inputs.push_back(f.bytes.substr(0, g - 1));                               // truncated envelope
    for (std::size_t i = 0; i < inputs.size(); i++) {
        SCOPED_TRACE(i);
        const std::string expected = message_from_memory(inputs[i]);
        EXPECT_NE(expected, "accepted");
        EXPECT_EQ(message_from_pieces(inputs[i], 4099), expected);
        EXPECT_EQ(message_from_pieces(inputs[i], 1u << 20), expected);
    }
}

TEST(Lhv1Source, AFailedReadHalfWayGivesEverythingBack) {
    Fixture f;
    for (std::size_t fail_after : {std::size_t{10}, f.records_end / 2, f.records_end - 100}) {
        SCOPED_TRACE(fail_after);
        HeapChunkMemory memory;
        PiecewiseSource source(f.bytes, 1u << 20);
        source.fail_after(fail_after);
        try {
            destroy_graph(memory, lhv::decode_lhv1(source, memory, nullptr));
            ADD_FAILURE() << "decoded although a read failed";
        } catch (const lhv::Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::Internal) << e.what();
        }
        EXPECT_EQ(memory.allocated_bytes(), 0u);
    }
}

}  // namespace
