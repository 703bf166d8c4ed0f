// hnsw_publication_test.cpp: an element becomes visible only once add() has
// written all of it. Readers that walk ids [0, size()) without a lock (as
// the PostgreSQL layer's VACUUM and full index scans do) must never see a
// label or vector that is not yet written, and an add() still linking its
// element must not be counted by size(). Odd and even dimensions, because
// with an even one every other record's 8-byte label is not 8-byte aligned.
//
// The suite is named *Concurrency so that scripts/test.sh also runs it under
// ThreadSanitizer, which reports the unordered reads these tests make
// whenever publication comes too early.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include "graph_layout.h"
#include "test_data.h"

namespace {

#if defined(__SANITIZE_THREAD__)
constexpr bool kUnderTsan = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr bool kUnderTsan = true;
#else
constexpr bool kUnderTsan = false;
#endif
#else
constexpr bool kUnderTsan = false;
#endif

// Labels that a record not (fully) written cannot pass for: the high half is
// a non-zero hash of the low half, which is the row number.
std::uint64_t label_of(std::size_t row) {
    const std::uint32_t low = static_cast<std::uint32_t>(row);
    const std::uint32_t high = ((low + 1) * 2654435761u) | 1u;
    return (std::uint64_t(high) << 32) | low;
}

// The row a label_of() names, or -1 if `label` is no label_of() a row below n.
std::int64_t row_of(std::uint64_t label, std::size_t n) {
    const std::uint64_t low = label & 0xFFFFFFFFu;
    if (low >= n || label_of(low) != label) return -1;
    return std::int64_t(low);
}

lhv::GraphParams small_params(std::size_t dim) {
    lhv::GraphParams params;
    params.dimension = static_cast<std::uint32_t>(dim);
    params.m = 8;
    params.ef_construction = 32;
    return params;
}

// One graph shared by the threads of a test, each using its own view.
struct SharedGraph {
    SharedGraph(const lhv::GraphParams& params, bool atomic_locks) : header(lhv::HnswGraph::create(memory, params)) {
        if (atomic_locks)
            locks = std::make_unique<lhv::AtomicGraphLocks>(lhv::HnswGraph::lock_words(memory, header));
        else
            locks = std::make_unique<lhv::StdGraphLocks>(lhv::HnswGraph::kLockSlots);
    }
    ~SharedGraph() { lhv::HnswGraph(memory, *locks, header).destroy(); }
    std::unique_ptr<lhv::HnswGraph> view() { return std::make_unique<lhv::HnswGraph>(memory, *locks, header); }

    lhv::HeapChunkMemory memory;
    lhv::ChunkHandle header;
    std::unique_ptr<lhv::GraphLocks> locks;
};

// What the readers found wrong while the inserts ran.
struct Problems {
    std::atomic<std::size_t> bad_labels{0};    // not a label_of() any row
    std::atomic<std::size_t> bad_vectors{0};   // not the vector its label's row has
    std::atomic<std::size_t> bad_results{0};   // search result with a wrong label or distance
    std::atomic<std::size_t> reads{0};
};

// Checks one id below size(): its label names a row and its vector is that row's.
void check_element(const lhv::HnswGraph& graph, const lhv_test::Dataset& data, std::uint32_t id,
                   Problems& problems) {
    const std::int64_t row = row_of(graph.label(id), data.n);
    (void)graph.is_deleted(id);
    (void)graph.level(id);
    problems.reads++;
    if (row < 0) {
        problems.bad_labels++;
        return;
    }
    if (std::memcmp(graph.vector(id), data.row(std::size_t(row)), data.dim * sizeof(float)) != 0)
        problems.bad_vectors++;
}

struct ReaderScenario {
    std::size_t dim;
    bool atomic_locks;
    std::size_t elements;
};

// Inserters add every row while readers walk [0, size()) (from the start, as
// VACUUM does, and the newest few ids over and over) and a searcher checks
// that every result is a row's label at that row's distance.
void run_readers(const ReaderScenario& s) {
    constexpr int kInserters = 3;
    const lhv_test::Dataset data = lhv_test::uniform_dataset(s.elements, s.dim, 21);
    SharedGraph shared(small_params(s.dim), s.atomic_locks);
    Problems problems;
    std::atomic<int> inserters_running{kInserters};
    std::vector<std::thread> threads;
    for (int t = 0; t < kInserters; t++) {
        threads.emplace_back([&, t] {
            auto view = shared.view();
            for (std::size_t i = t; i < s.elements; i += kInserters) view->add(data.row(i), label_of(i));
            inserters_running--;
        });
    }
    threads.emplace_back([&] {  // sweeps from id 0, as lhv_bulk_delete does
        auto view = shared.view();
        while (inserters_running.load() > 0) {
            const std::uint32_t size = view->size();
            for (std::uint32_t id = 0; id < size; id++) check_element(*view, data, id, problems);
        }
    });
    threads.emplace_back([&] {  // the newest ids, where an early publication shows
        auto view = shared.view();
        while (inserters_running.load() > 0) {
            const std::uint32_t size = view->size();
            for (std::uint32_t id = size > 4 ? size - 4 : 0; id < size; id++) check_element(*view, data, id, problems);
        }
    });
    threads.emplace_back([&] {
        auto view = shared.view();
        std::mt19937 rng(3);
        std::uniform_int_distribution<std::size_t> pick(0, s.elements - 1);
        while (inserters_running.load() > 0) {
            const float* query = data.row(pick(rng));
            for (const lhv::SearchResult& r : view->search(query, 5, 20)) {
                const std::int64_t row = row_of(r.label, data.n);
                if (row < 0 ||
                    std::fabs(lhv_test::exact_distance(lhv::Metric::L2, query, data.row(std::size_t(row)), s.dim) -
                              r.distance) > 1e-4 * (1.0 + r.distance))
                    problems.bad_results++;
            }
        }
    });
    for (std::thread& thread : threads) thread.join();

    auto view = shared.view();
    ASSERT_EQ(view->size(), s.elements);
    std::vector<int> seen(s.elements, 0);
    for (std::uint32_t id = 0; id < view->size(); id++) {
        const std::int64_t row = row_of(view->label(id), s.elements);
        ASSERT_GE(row, 0) << "id " << id;
        seen[std::size_t(row)]++;
    }
    for (std::size_t i = 0; i < s.elements; i++) ASSERT_EQ(seen[i], 1) << "row " << i;
    std::printf("dim %zu, %s locks: %zu elements, %zu reads during the inserts\n", s.dim,
                s.atomic_locks ? "atomic" : "std", s.elements, problems.reads.load());
    EXPECT_EQ(problems.bad_labels.load(), 0u);
    EXPECT_EQ(problems.bad_vectors.load(), 0u);
    EXPECT_EQ(problems.bad_results.load(), 0u);
}

std::size_t reader_elements() { return kUnderTsan ? 1500 : 20000; }

TEST(PublicationConcurrency, ReadersSeeCompleteElementsDim3) { run_readers({3, false, reader_elements()}); }
TEST(PublicationConcurrency, ReadersSeeCompleteElementsDim16) { run_readers({16, true, reader_elements()}); }
TEST(PublicationConcurrency, ReadersSeeCompleteElementsDim17) { run_readers({17, true, reader_elements()}); }

// VACUUM's pattern while rows are inserted: the rows 0..kDead-1 are dead,
// and a sweep marks deleted every element whose label is one of them. Labels
// are plain row numbers here, so a label read before it is written (0) would
// match the dead row 0 and delete a live row's element for good.
TEST(PublicationConcurrency, VacuumDuringInsertsDeletesOnlyDeadRows) {
    constexpr std::size_t kDim = 17;
    constexpr std::size_t kDead = 100;
    constexpr int kInserters = 3;
    const std::size_t elements = kUnderTsan ? 1500 : 30000;
    const lhv_test::Dataset data = lhv_test::uniform_dataset(elements, kDim, 31);
    SharedGraph shared(small_params(kDim), true);
    {
        auto view = shared.view();
        for (std::size_t i = 0; i < kDead; i++) view->add(data.row(i), i);
    }

    std::atomic<int> inserters_running{kInserters};
    std::atomic<std::size_t> wrong_vectors{0};
    std::atomic<std::size_t> sweeps{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kInserters; t++) {
        threads.emplace_back([&, t] {
            auto view = shared.view();
            for (std::size_t i = kDead + t; i < elements; i += kInserters) view->add(data.row(i), i);
            inserters_running--;
        });
    }
    auto sweep = [&](lhv::HnswGraph& view, std::uint32_t from) {
        const std::uint32_t size = view.size();
        for (std::uint32_t id = from; id < size; id++) {
            if (view.is_deleted(id)) continue;
            const std::uint64_t label = view.label(id);
            if (label >= elements || std::memcmp(view.vector(id), data.row(label), kDim * sizeof(float)) != 0)
                wrong_vectors++;
            if (label < kDead) view.mark_deleted(id);
        }
    };
    threads.emplace_back([&] {  // whole sweeps
        auto view = shared.view();
        while (inserters_running.load() > 0) {
            sweep(*view, 0);
            sweeps++;
        }
    });
    threads.emplace_back([&] {  // sweeps of the newest ids
        auto view = shared.view();
        while (inserters_running.load() > 0) {
            const std::uint32_t size = view->size();
            sweep(*view, size > 4 ? size - 4 : 0);
        }
    });
    for (std::thread& thread : threads) thread.join();

    auto view = shared.view();
    sweep(*view, 0);
    ASSERT_EQ(view->size(), elements);
    std::size_t live_deleted = 0;
    for (std::uint32_t id = 0; id < view->size(); id++) {
        const std::uint64_t label = view->label(id);
        EXPECT_EQ(view->is_deleted(id), label < kDead) << "id " << id << " label " << label;
        if (label >= kDead && view->is_deleted(id)) live_deleted++;
    }
    std::printf("%zu elements, %zu whole sweeps during the inserts, %zu live rows deleted\n", elements,
                sweeps.load(), live_deleted);
    EXPECT_EQ(live_deleted, 0u);
    EXPECT_EQ(wrong_vectors.load(), 0u);
    EXPECT_EQ(view->deleted_count(), kDead);
    // Every live row is still found by its own vector.
    std::size_t found = 0;
    for (std::size_t i = kDead; i < elements; i += kUnderTsan ? 7 : 1) {
        std::vector<lhv::SearchResult> top = view->search(data.row(i), 1, 64);
        if (!top.empty() && top[0].label == i) found++;
    }
    const std::size_t probed = kUnderTsan ? (elements - kDead + 6) / 7 : elements - kDead;
    EXPECT_GE(double(found) / double(probed), 0.99);
}

// StdGraphLocks, plus a hook on the neighbour-list slots for the thread that
// arms it: it stops that thread inside add() (its id claimed, its links not
// yet written) until resumed, or makes its next such lock fail.
class HookedLocks final : public lhv::GraphLocks {
public:
    enum class Action { None, Pause, Throw };

    HookedLocks() : inner_(lhv::HnswGraph::kLockSlots) {}

    // Arms the hook for the calling thread only.
    static void arm(Action action) { armed_ = action; }

    void lock(std::uint32_t slot) override {
        if (slot >= lhv::layout::kFirstStripeSlot && armed_ != Action::None) {
            const Action action = armed_;
            armed_ = Action::None;
            if (action == Action::Throw) throw std::runtime_error("injected lock failure");
            std::unique_lock<std::mutex> guard(mutex_);
            paused_ = true;
            changed_.notify_all();
            changed_.wait(guard, [&] { return !paused_; });
        }
        inner_.lock(slot);
    }
    void unlock(std::uint32_t slot) override { inner_.unlock(slot); }

    void wait_until_paused() {
        std::unique_lock<std::mutex> guard(mutex_);
        changed_.wait(guard, [&] { return paused_; });
    }
    void resume() {
        std::lock_guard<std::mutex> guard(mutex_);
        paused_ = false;
        changed_.notify_all();
    }

private:
    static thread_local Action armed_;
    lhv::StdGraphLocks inner_;
    std::mutex mutex_;
    std::condition_variable changed_;
    bool paused_ = false;
};

thread_local HookedLocks::Action HookedLocks::armed_ = HookedLocks::Action::None;

struct HookedGraph {
    explicit HookedGraph(const lhv::GraphParams& params) : header(lhv::HnswGraph::create(memory, params)) {}
    ~HookedGraph() { lhv::HnswGraph(memory, locks, header).destroy(); }

    lhv::HeapChunkMemory memory;
    HookedLocks locks;
    lhv::ChunkHandle header;
};

// An add() stopped while linking its element: size() does not count it and
// its id is not readable; a later add() that finishes first is not counted
// either (ids become visible in order); both are once the first finishes.
TEST(PublicationConcurrency, ElementInvisibleUntilItsAddFinishes) {
    constexpr std::size_t kDim = 17, kFirst = 500;
    const lhv_test::Dataset data = lhv_test::uniform_dataset(kFirst + 2, kDim, 41);
    lhv::GraphParams params = small_params(kDim);
    params.m = 4;  // many levels, so neither add below becomes the new top (which would hold the entry slot)
    HookedGraph g(params);
    lhv::HnswGraph graph(g.memory, g.locks, g.header);
    for (std::size_t i = 0; i < kFirst; i++) graph.add(data.row(i), label_of(i));
    const int top_level = graph.max_level();

    std::uint32_t paused_id = 0;
    std::thread paused([&] {
        lhv::HnswGraph view(g.memory, g.locks, g.header);
        HookedLocks::arm(HookedLocks::Action::Pause);
        paused_id = view.add(data.row(kFirst), label_of(kFirst));
    });
    g.locks.wait_until_paused();
    EXPECT_EQ(graph.size(), kFirst);
    EXPECT_THROW(graph.label(kFirst), lhv::Error);
    EXPECT_THROW(graph.is_deleted(kFirst), lhv::Error);
    EXPECT_THROW(graph.mark_deleted(kFirst), lhv::Error);

    const std::uint32_t later = graph.add(data.row(kFirst + 1), label_of(kFirst + 1));
    EXPECT_EQ(later, kFirst + 1);
    EXPECT_EQ(graph.size(), kFirst);
    EXPECT_THROW(graph.label(later), lhv::Error);

    g.locks.resume();
    paused.join();
    EXPECT_EQ(paused_id, kFirst);
    ASSERT_EQ(graph.size(), kFirst + 2);
    EXPECT_EQ(graph.label(kFirst), label_of(kFirst));
    EXPECT_EQ(graph.label(kFirst + 1), label_of(kFirst + 1));
    EXPECT_EQ(graph.max_level(), top_level);
    for (std::size_t i = kFirst; i < kFirst + 2; i++) {
        std::vector<lhv::SearchResult> top = graph.search(data.row(i), 1, 32);
        ASSERT_EQ(top.size(), 1u);
        EXPECT_EQ(top[0].label, label_of(i));
    }
}

// An add() that fails after its id was claimed still publishes the id (as
// deleted, so no search returns it): otherwise every later element would
// stay invisible to size().
TEST(PublicationConcurrency, FailedAddIsPublishedAsDeleted) {
    constexpr std::size_t kDim = 3, kFirst = 50;
    const lhv_test::Dataset data = lhv_test::uniform_dataset(kFirst + 2, kDim, 43);
    HookedGraph g(small_params(kDim));
    lhv::HnswGraph graph(g.memory, g.locks, g.header);
    for (std::size_t i = 0; i < kFirst; i++) graph.add(data.row(i), label_of(i));

    HookedLocks::arm(HookedLocks::Action::Throw);
    EXPECT_THROW(graph.add(data.row(kFirst), label_of(kFirst)), std::runtime_error);
    ASSERT_EQ(graph.size(), kFirst + 1);
    EXPECT_TRUE(graph.is_deleted(kFirst));
    EXPECT_EQ(graph.label(kFirst), label_of(kFirst));
    EXPECT_EQ(graph.deleted_count(), 1u);

    EXPECT_EQ(graph.add(data.row(kFirst + 1), label_of(kFirst + 1)), kFirst + 1);
    EXPECT_EQ(graph.size(), kFirst + 2);
    std::vector<lhv::SearchResult> top = graph.search(data.row(kFirst), 1, 32);
    ASSERT_EQ(top.size(), 1u);
    EXPECT_NE(top[0].label, label_of(kFirst));
    top = graph.search(data.row(kFirst + 1), 1, 32);
    ASSERT_EQ(top.size(), 1u);
    EXPECT_EQ(top[0].label, label_of(kFirst + 1));
}

}  // namespace
