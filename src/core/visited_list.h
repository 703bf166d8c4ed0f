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
    VisitedList() { allocate(kInitialBits); }

    // Starts a new search.
    void begin() {
        if (bits_ > kInitialBits && used_ < (std::size_t(1) << bits_) / 16) resize(bits_ - 1);
        used_ = 0;
        if (++search_ == 0) {  // after 2^32 searches: old slots could match again
            std::fill(slots_.get(), slots_.get() + (std::size_t(1) << bits_), 0);
            search_ = 1;
        }
    }

    // Marks `id`; returns true if it was already marked in this search.
    bool test_and_mark(std::uint32_t id) {
        const std::uint64_t key = (std::uint64_t(search_) << 32) | id;
        std::uint64_t* const slots = slots_.get();
        for (std::uint32_t i = slot_of(id);; i = (i + 1) & mask_) {
            const std::uint64_t slot = slots[i];
            if (slot == key) return true;
            if ((slot >> 32) != search_) {  // empty for this search
                slots[i] = key;
                if (++used_ * 2 > mask_) resize(bits_ + 1);
                return false;
            }
        }
    }

    // Bytes this set holds.
    std::size_t bytes() const noexcept { return sizeof(*this) + (std::size_t(1) << bits_) * sizeof(std::uint64_t); }

private:
    static constexpr std::uint32_t kInitialBits = 11;  // 2,048 slots, 16 kB

    // Fibonacci hashing: the top bits of id x 2^32/phi; neighbouring ids land far apart.
    std::uint32_t slot_of(std::uint32_t id) const noexcept { return (id * 0x9E3779B1u) >> (32 - bits_); }

    void allocate(std::uint32_t bits) {
        slots_.reset(new std::uint64_t[std::size_t(1) << bits]());
        bits_ = bits;
        mask_ = (std::uint32_t(1) << bits) - 1;
    }

    // Moves this search's ids into a table of 2^bits slots.
    void resize(std::uint32_t bits) {
        std::unique_ptr<std::uint64_t[]> old = std::move(slots_);
        const std::size_t old_size = std::size_t(1) << bits_;
        allocate(bits);
        for (std::size_t k = 0; k < old_size; k++) {
            const std::uint64_t slot = old[k];
            if ((slot >> 32) != search_) continue;
            std::uint32_t i = slot_of(std::uint32_t(slot));
            while (slots_[i] != 0) i = (i + 1) & mask_;
            slots_[i] = slot;
        }
    }

    std::unique_ptr<std::uint64_t[]> slots_;  // (search << 32) | id; 2^bits_ of them
    std::uint32_t bits_ = 0;
    std::uint32_t mask_ = 0;
    std::uint32_t search_ = 0;  // the current search's number, never 0 once begun
    std::uint32_t used_ = 0;    // ids marked in this search
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
