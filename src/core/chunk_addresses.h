// chunk_addresses.h: a view's cache of chunk addresses in this process
// (internal).
//
// A graph refers to its chunks by handles; each view resolves a chunk once
// and keeps its address. The cache is one flat table that grows (at least
// doubling) to the highest chunk resolved, so a view of a small graph holds
// a few hundred bytes instead of room for the largest graph (16,384 + 4,096
// addresses, 160 kB, in every view of every backend), and a lookup is still
// one table load and one entry load. Tables replaced by a larger one are
// kept until the view goes, since another thread may still be reading them
// (at most as much again as the current table). Lookups take no lock and may
// run on any number of threads; filling is rare (once per chunk per view)
// and takes a process-local mutex, so no address is lost to a table copied
// meanwhile.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <new>
#include <vector>

namespace lhv {

class ChunkAddresses {
public:
    // Room for chunks [0, max_chunks) at most.
    explicit ChunkAddresses(std::uint32_t max_chunks) : max_chunks_(max_chunks), table_(empty_table()) {}
    ~ChunkAddresses() { clear(); }
    ChunkAddresses(const ChunkAddresses&) = delete;
    ChunkAddresses& operator=(const ChunkAddresses&) = delete;

    // The address of `chunk`, or nullptr if it was not resolved yet.
    char* get(std::uint32_t chunk) const noexcept {
        const Table* table = table_.load(std::memory_order_acquire);
        return chunk < table->size ? table->entries()[chunk].load(std::memory_order_acquire) : nullptr;
    }

    // Records the address of `chunk` (< max_chunks). May throw std::bad_alloc.
    void set(std::uint32_t chunk, char* address) {
        std::lock_guard<std::mutex> guard(mutex_);
        Table* table = table_.load(std::memory_order_relaxed);
        if (chunk >= table->size) {
            const std::uint32_t size =
                std::min(max_chunks_, std::max({chunk + 1, table->size * 2, std::uint32_t(kMinEntries)}));
            Table* larger = Table::make(size);
            for (std::uint32_t c = 0; c < table->size; c++)
                larger->entries()[c].store(table->entries()[c].load(std::memory_order_relaxed),
                                           std::memory_order_relaxed);
            if (table != empty_table()) {
                try {
                    replaced_.push_back(table);
                } catch (...) {
                    Table::destroy(larger);
                    throw;
                }
            }
            table_.store(larger, std::memory_order_release);
            table = larger;
        }
        table->entries()[chunk].store(address, std::memory_order_release);
    }

    // Forgets every address and frees the tables. No lookup may run meanwhile.
    void clear() noexcept {
        std::lock_guard<std::mutex> guard(mutex_);
        Table* table = table_.exchange(empty_table());
        if (table != empty_table()) Table::destroy(table);
        for (Table* old : replaced_) Table::destroy(old);
        replaced_.clear();
        replaced_.shrink_to_fit();
    }

    // Bytes of process memory held (tables, including replaced ones).
    std::size_t bytes() noexcept {
        std::lock_guard<std::mutex> guard(mutex_);
        const Table* table = table_.load(std::memory_order_relaxed);
        std::size_t total = table == empty_table() ? 0 : Table::bytes_for(table->size);
        for (const Table* old : replaced_) total += Table::bytes_for(old->size);
        return total + replaced_.capacity() * sizeof(Table*);
    }

private:
    static constexpr std::uint32_t kMinEntries = 16;

    // A size, then that many atomic addresses, in one block.
    struct Table {
        std::uint32_t size;
        std::uint32_t unused;  // keeps the entries 8-byte aligned
        std::atomic<char*>* entries() noexcept { return reinterpret_cast<std::atomic<char*>*>(this + 1); }
        const std::atomic<char*>* entries() const noexcept {
            return reinterpret_cast<const std::atomic<char*>*>(this + 1);
        }
        static std::size_t bytes_for(std::uint32_t size) noexcept {
            return sizeof(Table) + std::size_t(size) * sizeof(std::atomic<char*>);
        }
        static Table* make(std::uint32_t size) {
            Table* table = static_cast<Table*>(::operator new(bytes_for(size)));
            table->size = size;
            for (std::uint32_t c = 0; c < size; c++) new (&table->entries()[c]) std::atomic<char*>(nullptr);
            return table;
        }
        static void destroy(Table* table) noexcept { ::operator delete(table); }
    };
    static_assert(sizeof(Table) % alignof(std::atomic<char*>) == 0, "entries follow the size, aligned");

    // The table of every view that resolved nothing yet (size 0, never written).
    static Table* empty_table() noexcept {
        static Table empty{0, 0};
        return &empty;
    }

    const std::uint32_t max_chunks_;
    std::atomic<Table*> table_;
    std::mutex mutex_;
    std::vector<Table*> replaced_;
};

}  // namespace lhv
