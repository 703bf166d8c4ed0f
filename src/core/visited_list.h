// visited_list.h: the backend-local "visited" set of a search (internal).
//
// As hnswlib's VisitedList: one u16 tag per id, and a search marks an id by
// writing the current tag, so starting a new search is a tag bump, not a
// clear. Grows on demand, because inserts running at the same time may hand
// a search ids beyond the size it started with.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace lhv {

class VisitedList {
public:
    // Starts a new search over at least `ids` ids.
    void begin(std::size_t ids) {
        if (tags_.size() < ids) tags_.resize(ids + ids / 8 + 64, 0);
        if (++current_ == 0) {
            std::fill(tags_.begin(), tags_.end(), 0);
            current_ = 1;
        }
    }

    // Marks `id`; returns true if it was already marked in this search.
    bool test_and_mark(std::uint32_t id) {
        if (id >= tags_.size()) tags_.resize(std::max<std::size_t>(std::size_t(id) + 1, tags_.size() * 2), 0);
        if (tags_[id] == current_) return true;
        tags_[id] = current_;
        return false;
    }

private:
    std::vector<std::uint16_t> tags_;
    std::uint16_t current_ = 0;
};

// A few visited lists shared by the threads that use one graph view.
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

private:
    std::mutex mutex_;
    std::vector<std::unique_ptr<VisitedList>> free_;
};

// Borrows a list from the pool for one search.
class VisitedLease {
public:
    VisitedLease(VisitedListPool& pool, std::size_t ids) : pool_(pool), list_(pool.take()) {
        list_->begin(ids);
    }
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
