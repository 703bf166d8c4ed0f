// locks.cpp: the two GraphLocks implementations.
//
// AtomicGraphLocks spins on lock words inside the graph's memory (so it works
// across processes); StdGraphLocks is one std::mutex per slot for tests.
#include "locks.h"

#include <chrono>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace lhv {

namespace {

constexpr int kPauseSpins = 64;    // busy spins with a CPU pause before yielding
constexpr int kYieldSpins = 1024;  // further tries with a yield before sleeping

// Tells the CPU we are in a spin loop (saves power, helps the other hyperthread).
inline void cpu_pause() {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

}  // namespace

// Test-and-test-and-set: pause, then yield, then short sleeps, so a holder
// that was descheduled gets the CPU back.
void AtomicGraphLocks::lock(std::uint32_t slot) {
    LockWord& word = words_[slot];
    for (int attempt = 0;; attempt++) {
        if (word.load(std::memory_order_relaxed) == 0) {
            std::uint32_t expected = 0;
            if (word.compare_exchange_weak(expected, 1, std::memory_order_acquire,
                                           std::memory_order_relaxed))
                return;
        }
        if (attempt < kPauseSpins)
            cpu_pause();
        else if (attempt < kPauseSpins + kYieldSpins)
            std::this_thread::yield();
        else
            std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
}

void AtomicGraphLocks::unlock(std::uint32_t slot) { words_[slot].store(0, std::memory_order_release); }

StdGraphLocks::StdGraphLocks(std::uint32_t slots) : mutexes_(new std::mutex[slots]) {}

void StdGraphLocks::lock(std::uint32_t slot) { mutexes_[slot].lock(); }

void StdGraphLocks::unlock(std::uint32_t slot) { mutexes_[slot].unlock(); }

}  // namespace lhv
