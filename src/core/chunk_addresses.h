// chunk_addresses.h: a view's cache of chunk addresses in this process
// (internal).
//
// A graph refers to its chunks by handles; each view resolves a chunk once
// and keeps its address. The cache is a directory of pages of kPageEntries
// addresses, each page allocated when a chunk in its range is first
// resolved, so a view of a small graph holds a page or two (about 2 kB with
// the directory) instead of room for the largest graph (16,384 + 4,096
// addresses, 160 kB, in every view of every backend). Lookups are two loads;
// any number of threads may look up and fill it at once (pages are installed
// with a compare-and-swap, entries are atomic).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace lhv {

class ChunkAddresses {
public:
    // Room for chunks [0, max_chunks).
    explicit ChunkAddresses(std::uint32_t max_chunks)
        : page_count_((max_chunks + kPageEntries - 1) / kPageEntries),
          pages_(new std::atomic<Page*>[page_count_]) {
        for (std::uint32_t p = 0; p < page_count_; p++) pages_[p].store(nullptr, std::memory_order_relaxed);
    }
    ~ChunkAddresses() { clear(); }
    ChunkAddresses(const ChunkAddresses&) = delete;
    ChunkAddresses& operator=(const ChunkAddresses&) = delete;

    // The address of `chunk`, or nullptr if it was not resolved yet.
    char* get(std::uint32_t chunk) const noexcept {
        const Page* page = pages_[chunk / kPageEntries].load(std::memory_order_acquire);
        return page == nullptr ? nullptr : page->entries[chunk % kPageEntries].load(std::memory_order_acquire);
    }

    // Records the address of `chunk` (< max_chunks). May throw std::bad_alloc.
    void set(std::uint32_t chunk, char* address) {
        std::atomic<Page*>& slot = pages_[chunk / kPageEntries];
        Page* page = slot.load(std::memory_order_acquire);
        if (page == nullptr) {
            std::unique_ptr<Page> fresh(new Page());
            if (slot.compare_exchange_strong(page, fresh.get(), std::memory_order_acq_rel)) {
                page = fresh.release();
                allocated_pages_.fetch_add(1, std::memory_order_relaxed);
            }  // else another thread installed one: `page` holds it, `fresh` is freed
        }
        page->entries[chunk % kPageEntries].store(address, std::memory_order_release);
    }

    // Forgets every address and frees the pages. No lookup may run meanwhile.
    void clear() noexcept {
        for (std::uint32_t p = 0; p < page_count_; p++) delete pages_[p].exchange(nullptr);
        allocated_pages_.store(0, std::memory_order_relaxed);
    }

    // Bytes of process memory held (directory and pages).
    std::size_t bytes() const noexcept {
        return page_count_ * sizeof(std::atomic<Page*>) +
               allocated_pages_.load(std::memory_order_relaxed) * sizeof(Page);
    }

private:
    static constexpr std::uint32_t kPageEntries = 128;  // 1 kB of addresses
    struct Page {
        Page() {
            for (std::atomic<char*>& entry : entries) entry.store(nullptr, std::memory_order_relaxed);
        }
        std::atomic<char*> entries[kPageEntries];
    };

    std::uint32_t page_count_;
    std::unique_ptr<std::atomic<Page*>[]> pages_;
    std::atomic<std::size_t> allocated_pages_{0};
};

}  // namespace lhv
