// tsan_annotations.h: telling ThreadSanitizer about the one race lhv allows
// on purpose (internal).
//
// When add() reuses a deleted element, it rewrites the element's vector and
// label while searches may still read the old ones without a lock (searches
// take no lock at all). A search detects that a reuse overlapped it (the
// graph's reuse counters) and rechecks its results, so the torn read is
// harmless; under ThreadSanitizer those writes are hidden, so that tests of
// reuse under concurrent searches report only real races.
#pragma once

#if defined(__SANITIZE_THREAD__)
#define LHV_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LHV_TSAN 1
#endif
#endif

#ifdef LHV_TSAN
extern "C" void AnnotateIgnoreWritesBegin(const char* file, int line);
extern "C" void AnnotateIgnoreWritesEnd(const char* file, int line);
#endif

namespace lhv {

// Hides this thread's writes from ThreadSanitizer for its lifetime.
class TsanIgnoreWrites {
public:
#ifdef LHV_TSAN
    TsanIgnoreWrites() { AnnotateIgnoreWritesBegin(__FILE__, __LINE__); }
    ~TsanIgnoreWrites() { AnnotateIgnoreWritesEnd(__FILE__, __LINE__); }
#else
    TsanIgnoreWrites() = default;
#endif
    TsanIgnoreWrites(const TsanIgnoreWrites&) = delete;
    TsanIgnoreWrites& operator=(const TsanIgnoreWrites&) = delete;
};

}  // namespace lhv
