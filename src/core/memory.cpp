// memory.cpp: HeapChunkMemory, process-private chunk memory for tests and tools.
//
// Each block is preceded by a 64-byte prefix holding its size, so release()
// can account for it; the handle is the block's address.
#include "memory.h"

#include <cstdlib>
#include <cstring>
#include <string>

#include "errors.h"

namespace lhv {

namespace {

constexpr std::size_t kBlockAlignment = 64;
constexpr std::size_t kPrefixBytes = 64;  // keeps the block itself 64-byte aligned

char* prefix_of(ChunkHandle handle) {
    return reinterpret_cast<char*>(static_cast<std::uintptr_t>(handle)) - kPrefixBytes;
}

}  // namespace

HeapChunkMemory::~HeapChunkMemory() = default;

// A zeroed, 64-byte aligned block; refuses when the test limit would be passed.
ChunkHandle HeapChunkMemory::allocate(std::size_t bytes) {
    if (bytes == 0) bytes = 1;
    std::size_t rounded = (bytes + kBlockAlignment - 1) / kBlockAlignment * kBlockAlignment;
    std::size_t total = rounded + kPrefixBytes;
    if (rounded < bytes || total < rounded)
        throw Error(ErrorKind::OutOfMemory, "allocation of " + std::to_string(bytes) + " bytes is too large");
    std::size_t in_use = allocated_bytes_.load();
    if (in_use + rounded > limit_.load() || in_use + rounded < in_use)
        throw Error(ErrorKind::OutOfMemory, "memory limit reached: cannot allocate " +
                                                std::to_string(bytes) + " more bytes");
    char* raw = static_cast<char*>(std::aligned_alloc(kBlockAlignment, total));
    if (raw == nullptr)
        throw Error(ErrorKind::OutOfMemory, "out of memory allocating " + std::to_string(bytes) + " bytes");
    std::memset(raw, 0, total);
    std::memcpy(raw, &rounded, sizeof(rounded));
    allocated_bytes_ += rounded;
    return static_cast<ChunkHandle>(reinterpret_cast<std::uintptr_t>(raw + kPrefixBytes));
}

void HeapChunkMemory::release(ChunkHandle handle) noexcept {
    if (handle == kInvalidChunk) return;
    char* raw = prefix_of(handle);
    std::size_t rounded;
    std::memcpy(&rounded, raw, sizeof(rounded));
    allocated_bytes_ -= rounded;
    std::free(raw);
}

void* HeapChunkMemory::resolve(ChunkHandle handle) {
    if (handle == kInvalidChunk) throw Error(ErrorKind::Internal, "resolve of an invalid chunk handle");
    return reinterpret_cast<void*>(static_cast<std::uintptr_t>(handle));
}

}  // namespace lhv
