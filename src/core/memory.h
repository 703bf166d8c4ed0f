// memory.h: how the engine gets memory for its chunks.
//
// The engine never calls malloc for graph storage. It asks a ChunkMemory for
// large zeroed blocks and refers to them by 64-bit handles, so the same graph
// code runs over process heap (tests, tools) and over a PostgreSQL DSA area
// (shared by every backend, mapped at different addresses in each).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace lhv {

using ChunkHandle = std::uint64_t;
constexpr ChunkHandle kInvalidChunk = 0;

class ChunkMemory {
public:
    virtual ~ChunkMemory() = default;

    // A zeroed block of at least `bytes`, aligned to 64 bytes.
    // Throws lhv::Error(OutOfMemory) when the provider refuses.
    virtual ChunkHandle allocate(std::size_t bytes) = 0;

    // Gives a block back. Never throws.
    virtual void release(ChunkHandle handle) noexcept = 0;

    // The block's address in this process. May throw lhv::Error.
    virtual void* resolve(ChunkHandle handle) = 0;
};

// Process-private memory: for unit tests, fuzzers and offline tools.
class HeapChunkMemory final : public ChunkMemory {
public:
    HeapChunkMemory() = default;
    ~HeapChunkMemory() override;
    HeapChunkMemory(const HeapChunkMemory&) = delete;
    HeapChunkMemory& operator=(const HeapChunkMemory&) = delete;

    ChunkHandle allocate(std::size_t bytes) override;
    void release(ChunkHandle handle) noexcept override;
    void* resolve(ChunkHandle handle) override;

    // Bytes currently allocated (for memory accounting tests).
    std::size_t allocated_bytes() const noexcept { return allocated_bytes_; }
    // Makes every later allocate() fail once `limit` bytes are in use (tests).
    void set_limit(std::size_t limit) noexcept { limit_ = limit; }

private:
    // Atomic so that graphs on one HeapChunkMemory may grow from several threads.
    std::atomic<std::size_t> allocated_bytes_{0};
    std::atomic<std::size_t> limit_{SIZE_MAX};
};

}  // namespace lhv
