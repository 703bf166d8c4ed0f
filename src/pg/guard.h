// guard.h: the error boundary between C++ and PostgreSQL, both directions.
//
// PostgreSQL reports errors with ereport(ERROR), which is a siglongjmp to the
// nearest PG_TRY (or to the top of the backend loop). A longjmp does not run
// C++ destructors, and a C++ exception must never unwind through PostgreSQL's
// C frames. So the two kinds of error are kept apart:
//
//   lhv_guard(body)   PostgreSQL -> C++. Every entry point PostgreSQL calls
//                     (SQL function, AM callback, hook) is an extern "C" thin
//                     wrapper: it converts its arguments, runs the C++ work as
//                     lhv_guard([&] { ... }), converts the result. The guard
//                     catches every C++ exception, copies the message into a
//                     fixed-size buffer, leaves the try/catch scope (so every
//                     C++ destructor has run and no exception object is
//                     alive) and only then calls ereport(ERROR).
//
//   pg_call(call)     C++ -> PostgreSQL. Every call into PostgreSQL that can
//                     ereport, made from C++ code, runs as pg_call([&] { ... }).
//                     The call runs under its own PG_TRY in a frame that holds
//                     no C++ object; a PostgreSQL error is copied out, the
//                     error state flushed, and thrown as lhv::pg::PgError once
//                     the PG_TRY block is left. lhv_guard re-raises it with its
//                     original SQLSTATE, message and hint.
//
// Rules (break one and a destructor is skipped or the error stack corrupted):
//  1. Never call ereport/elog(ERROR), CHECK_FOR_INTERRUPTS() or any PostgreSQL
//     function that may raise an error directly from code that runs inside
//     lhv_guard's body: go through pg_call.
//  2. A pg_call lambda holds no C++ object with a non-trivial destructor and
//     never throws (it is called through a noexcept thunk: a throw terminates
//     the process rather than leaving PostgreSQL's error stack dangling). Keep
//     it to plain C calls.
//  3. Values returned by either lambda are trivially destructible (Datum,
//     pointers, integers): they cross a longjmp-capable frame.
//  4. The extern "C" wrapper itself holds no C++ object with a destructor:
//     PostgreSQL calls made there (argument detoasting, building the result)
//     may longjmp through it.
//  5. No catch clause here ever sees a PostgreSQL error: those are longjmps,
//     not exceptions. The final catch (...) only maps foreign C++ exceptions.
//
// After a PostgreSQL error inside pg_call the current (sub)transaction must be
// aborted, as after any PG_CATCH: a PgError may be caught to clean up C++
// state, but it has to reach lhv_guard, which re-raises it.
//
// Include postgres.h before this header.
#pragma once

#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>

#include "core/errors.h"

namespace lhv::pg {

// What an error becomes in SQL, in a form with no destructor.
struct ErrorBuffer {
    int sqlerrcode;        // PostgreSQL's encoded SQLSTATE; 0 = no error
    bool memory_hint;      // add the hint that names lhv's memory GUCs
    char message[1024];
    char detail[512];
    char hint[512];
    // Where PostgreSQL raised it (pg_call only; empty otherwise).
    char filename[128];
    int lineno;
    char funcname[128];
};

// A PostgreSQL error caught by pg_call, carried through C++ as an exception.
// Its kind is OutOfMemory for SQLSTATE class 53, CapacityExceeded for class
// 54, Internal otherwise; the SQLSTATE itself is kept for lhv_guard.
class PgError : public lhv::Error {
public:
    PgError(int sqlerrcode, const std::string& message, std::string detail, std::string hint);
    int sqlerrcode() const noexcept { return sqlerrcode_; }
    const std::string& detail() const noexcept { return detail_; }
    const std::string& hint() const noexcept { return hint_; }
    // Where PostgreSQL raised the error.
    void set_location(const char* filename, int lineno, const char* funcname);
    const char* filename() const noexcept { return filename_.c_str(); }
    int lineno() const noexcept { return lineno_; }
    const char* funcname() const noexcept { return funcname_.c_str(); }

private:
    int sqlerrcode_;
    std::string detail_;
    std::string hint_;
    std::string filename_;
    int lineno_ = 0;
    std::string funcname_;
};

// The SQLSTATE an ErrorKind maps to.
int sqlstate_for(lhv::ErrorKind kind) noexcept;

// Fills `error` from the exception being handled; call only inside a catch.
void capture_current_exception(ErrorBuffer* error) noexcept;

// Raises `error` with ereport(ERROR). Call only where no C++ object is alive.
[[noreturn]] void raise_error(const ErrorBuffer& error);

// Runs fn(arg) under PG_TRY; on a PostgreSQL error fills `error`, flushes the
// error state and returns false.
bool pg_try_invoke(void (*fn)(void*) noexcept, void* arg, ErrorBuffer* error) noexcept;

// Throws the PostgreSQL error captured by pg_try_invoke as a PgError.
[[noreturn]] void throw_pg_error(const ErrorBuffer& error);

// Runs body() and turns any C++ exception it throws into ereport(ERROR), after
// every destructor has run. Returns body's (trivially destructible) result.
template <typename F>
auto lhv_guard(F&& body) -> decltype(body()) {
    using R = decltype(body());
    static_assert(std::is_void_v<R> || std::is_trivially_destructible_v<R>,
                  "lhv_guard: the body must return a trivially destructible value");
    ErrorBuffer error;
    error.sqlerrcode = 0;
    if constexpr (std::is_void_v<R>) {
        try {
            body();
        } catch (...) {
            capture_current_exception(&error);
        }
        if (error.sqlerrcode != 0) raise_error(error);
    } else {
        R result{};
        try {
            result = body();
        } catch (...) {
            capture_current_exception(&error);
        }
        if (error.sqlerrcode != 0) raise_error(error);
        return result;
    }
}

// Runs call(), a call into PostgreSQL that may ereport, and turns a
// PostgreSQL error into a thrown PgError. See the rules above.
template <typename F>
auto pg_call(F&& call) -> decltype(call()) {
    using R = decltype(call());
    static_assert(std::is_void_v<R> || std::is_trivially_copyable_v<R>,
                  "pg_call: the call must return a trivially copyable value");
    ErrorBuffer error;
    error.sqlerrcode = 0;
    if constexpr (std::is_void_v<R>) {
        auto thunk = [](void* arg) noexcept { (*static_cast<std::remove_reference_t<F>*>(arg))(); };
        void* arg = const_cast<void*>(static_cast<const void*>(&call));
        if (!pg_try_invoke(thunk, arg, &error)) throw_pg_error(error);
    } else {
        struct State {
            std::remove_reference_t<F>* call;
            R result;
        } state{&call, R{}};
        auto thunk = [](void* arg) noexcept {
            State* s = static_cast<State*>(arg);
            s->result = (*s->call)();
        };
        if (!pg_try_invoke(thunk, static_cast<void*>(&state), &error)) throw_pg_error(error);
        return state.result;
    }
}

}  // namespace lhv::pg
