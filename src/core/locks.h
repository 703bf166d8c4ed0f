// locks.h: how the engine locks the parts of a graph it changes.
//
// A graph has a small fixed array of lock slots (see HnswGraph::kLockSlots).
// Slot numbers are chosen by the engine; the implementation decides what a
// slot is. The engine holds at most one neighbour-list slot at a time, so
// implementations need no deadlock detection.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

namespace lhv {

class GraphLocks {
public:
    virtual ~GraphLocks() = default;
    virtual void lock(std::uint32_t slot) = 0;
    virtual void unlock(std::uint32_t slot) = 0;
};

// A lock word that lives inside the graph's own (possibly shared) memory.
// It holds no address, so it works across processes and across threads.
using LockWord = std::atomic<std::uint32_t>;
static_assert(LockWord::is_always_lock_free, "lock words must be lock-free");

// Spin locks over the graph's own lock words: the implementation used in
// PostgreSQL shared memory (and by parallel build threads).
class AtomicGraphLocks final : public GraphLocks {
public:
    explicit AtomicGraphLocks(LockWord* words) : words_(words) {}
    void lock(std::uint32_t slot) override;
    void unlock(std::uint32_t slot) override;

private:
    LockWord* words_;
};

// std::mutex per slot: process-private; for tests and tools.
class StdGraphLocks final : public GraphLocks {
public:
    explicit StdGraphLocks(std::uint32_t slots);
    void lock(std::uint32_t slot) override;
    void unlock(std::uint32_t slot) override;

private:
    std::unique_ptr<std::mutex[]> mutexes_;
};

// RAII holder; the engine uses it so an exception never leaves a slot locked.
class SlotGuard {
public:
    SlotGuard(GraphLocks& locks, std::uint32_t slot) : locks_(locks), slot_(slot) {
        locks_.lock(slot_);
    }
    ~SlotGuard() { locks_.unlock(slot_); }
    SlotGuard(const SlotGuard&) = delete;
    SlotGuard& operator=(const SlotGuard&) = delete;

private:
    GraphLocks& locks_;
    std::uint32_t slot_;
};

}  // namespace lhv
