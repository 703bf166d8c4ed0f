// visited_list.h: the process-local "visited" set of a search (internal).
//
// hnswlib keeps one u16 tag per element of the graph: 2 bytes x elements per
// searching thread, 20 MB per backend for a 10M-element index, however little
// a search visits. lhv keeps an open-addressing hash set of the ids a search
// visits instead, sized by what searches visit (a few thousand ids at usual
// ef: 16-64 kB), whatever the graph's size. Each slot holds the search's
// number in its high 32 bits and the id in its low 32 bits, so a slot from an
// earlier search reads as empty and starting a new search is a counter bump,
// not a clear (hnswlib's tag idea). The table doubles when half full; it
// keeps its size for the next searches, and halves at the start of a search
// after one that used less than a sixteenth of it, so one wide search does
// not pin a large table for good.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace lhv {

class VisitedList {
public:
    VisitedList() : slots_(kInitialSlots, 0) {}

    // Starts a new search.
    void begin() {
        if (slots_.size() > kInitialSlots && used_ < slots_.size() / 16) resize(slots_.size() / 2);
        used_ = 0;
        if (++search_ == 0) {  // after 2^32 searches: old slots could match again
            std::fill(slots_.begin(), slots_.end(), 0);
            search_ = 1;
        }
    }

    // Marks `id`; returns true if it was already marked in this search.
    bool test_and_mark(std::uint32_t id) {
        const std::uint64_t key = (std::uint64_t(search_) << 32) | id;
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t i = hash(id) & mask;; i = (i + 1) & mask) {
            const std::uint64_t slot = slots_[i];
            if (slot == key) return true;
            if (std::uint32_t(slot >> 32) != search_) {  // empty for this search
                slots_[i] = key;
                if (++used_ * 2 > slots_.size()) resize(slots_.size() * 2);
                return false;
            }
        }
    }

    // Bytes this set holds.
    std::size_t bytes() const noexcept { return sizeof(*this) + slots_.capacity() * sizeof(std::uint64_t); }

private:
    static constexpr std::size_t kInitialSlots = 2048;  // 16 kB

    // Fibonacci hashing: neighbouring ids land far apart.
    static std::size_t hash(std::uint32_t id) noexcept {
        return std::size_t((std::uint64_t(id) * 0x9E3779B97F4A7C15ull) >> 32);
    }

    // Moves this search's ids into a table of `slots` slots (a power of two).
    void resize(std::size_t slots) {
        std::vector<std::uint64_t> old(slots, 0);
        old.swap(slots_);
        const std::size_t mask = slots - 1;
        for (std::uint64_t slot : old) {
            if (std::uint32_t(slot >> 32) != search_) continue;
            std::size_t i = hash(std::uint32_t(slot)) & mask;
            while (slots_[i] != 0) i = (i + 1) & mask;
            slots_[i] = slot;
        }
    }

    std::vector<std::uint64_t> slots_;  // (search << 32) | id; a power of two of them
    std::uint32_t search_ = 0;          // the current search's number, never 0 once begun
    std::size_t used_ = 0;              // ids marked in this search
};

// A few visited sets shared by the threads that use one graph view.
class VisitedListPool {
public:
    std::unique_ptr<VisitedList> take() {
        std::lock_guard<std::mutex> guard(mutex_);
        if (free_.empty()) return std::make_unique<VisitedList>();
        std::unique_ptr<VisitedList> list = std::move(free_.back());
        free_.pop_back();
        return list;
    }
    void give_back(std::unique_ptr<VisitedList> list) {
        std::lock_guard<std::mutex> guard(mutex_);
        free_.push_back(std::move(list));
    }
    // Bytes of the sets waiting in the pool (those in use are not counted).
    std::size_t bytes() {
        std::lock_guard<std::mutex> guard(mutex_);
        std::size_t total = free_.capacity() * sizeof(free_[0]);
        for (const std::unique_ptr<VisitedList>& list : free_) total += list->bytes();
        return total;
    }

private:
    std::mutex mutex_;
    std::vector<std::unique_ptr<VisitedList>> free_;
};

// Borrows a set from the pool for one search.
class VisitedLease {
public:
    explicit VisitedLease(VisitedListPool& pool) : pool_(pool), list_(pool.take()) { list_->begin(); }
    ~VisitedLease() { pool_.give_back(std::move(list_)); }
    VisitedLease(const VisitedLease&) = delete;
    VisitedLease& operator=(const VisitedLease&) = delete;
    VisitedList& operator*() { return *list_; }
    VisitedList* operator->() { return list_.get(); }

private:
    VisitedListPool& pool_;
    std::unique_ptr<VisitedList> list_;
};

}  // namespace lhv
