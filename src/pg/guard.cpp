// guard.cpp: the non-template halves of lhv_guard and pg_call (guard.h):
// mapping exceptions to SQLSTATEs, raising them with ereport, and running a
// PostgreSQL call under PG_TRY.
extern "C" {
#include "postgres.h"
#include "miscadmin.h"
#include "utils/elog.h"
#include "utils/memutils.h"
}

#include <cstdio>
#include <cstring>
#include <exception>
#include <new>

#include "guard.h"
#include "lhv_config.h"

namespace lhv::pg {

namespace {

// Copies a C string into a fixed buffer, truncating it if needed.
void copy_text(char* out, std::size_t capacity, const char* text) noexcept {
    if (text == nullptr) text = "";
    std::snprintf(out, capacity, "%s", text);
}

// The ErrorKind a PostgreSQL SQLSTATE corresponds to, for C++ callers.
lhv::ErrorKind kind_for_sqlstate(int sqlerrcode) noexcept {
    const int category = ERRCODE_TO_CATEGORY(sqlerrcode);
    if (category == ERRCODE_TO_CATEGORY(ERRCODE_INSUFFICIENT_RESOURCES)) return lhv::ErrorKind::OutOfMemory;
    if (category == ERRCODE_TO_CATEGORY(ERRCODE_PROGRAM_LIMIT_EXCEEDED)) return lhv::ErrorKind::CapacityExceeded;
    return lhv::ErrorKind::Internal;
}

}  // namespace

PgError::PgError(int sqlerrcode, const std::string& message, std::string detail, std::string hint)
    : lhv::Error(kind_for_sqlstate(sqlerrcode), message),
      sqlerrcode_(sqlerrcode),
      detail_(std::move(detail)),
      hint_(std::move(hint)) {}

void PgError::set_location(const char* filename, int lineno, const char* funcname) {
    filename_ = filename != nullptr ? filename : "";
    lineno_ = lineno;
    funcname_ = funcname != nullptr ? funcname : "";
}

int sqlstate_for(lhv::ErrorKind kind) noexcept {
    switch (kind) {
        case lhv::ErrorKind::InvalidParameter: return ERRCODE_INVALID_PARAMETER_VALUE;
        case lhv::ErrorKind::InvalidVector: return ERRCODE_DATA_EXCEPTION;
        case lhv::ErrorKind::CorruptSnapshot: return ERRCODE_INVALID_BINARY_REPRESENTATION;
        case lhv::ErrorKind::OutOfMemory: return ERRCODE_OUT_OF_MEMORY;
        case lhv::ErrorKind::CapacityExceeded: return ERRCODE_PROGRAM_LIMIT_EXCEEDED;
        case lhv::ErrorKind::Internal: return ERRCODE_INTERNAL_ERROR;
    }
    return ERRCODE_INTERNAL_ERROR;
}

void capture_current_exception(ErrorBuffer* error) noexcept {
    error->memory_hint = false;
    error->detail[0] = '\0';
    error->hint[0] = '\0';
    error->filename[0] = '\0';
    error->lineno = 0;
    error->funcname[0] = '\0';
    try {
        throw;
    } catch (const PgError& e) {
        error->sqlerrcode = e.sqlerrcode() != 0 ? e.sqlerrcode() : ERRCODE_INTERNAL_ERROR;
        copy_text(error->message, sizeof error->message, e.what());
        copy_text(error->detail, sizeof error->detail, e.detail().c_str());
        copy_text(error->hint, sizeof error->hint, e.hint().c_str());
        copy_text(error->filename, sizeof error->filename, e.filename());
        error->lineno = e.lineno();
        copy_text(error->funcname, sizeof error->funcname, e.funcname());
    } catch (const lhv::Error& e) {
        error->sqlerrcode = sqlstate_for(e.kind());
        error->memory_hint = e.kind() == lhv::ErrorKind::OutOfMemory;
        copy_text(error->message, sizeof error->message, e.what());
    } catch (const std::bad_alloc&) {
        error->sqlerrcode = ERRCODE_OUT_OF_MEMORY;
        copy_text(error->message, sizeof error->message, "lhv: out of process memory");
    } catch (const std::exception& e) {
        error->sqlerrcode = ERRCODE_INTERNAL_ERROR;
        std::snprintf(error->message, sizeof error->message, "lhv: internal error: %s", e.what());
    } catch (...) {
        // Only a foreign C++ exception can get here; PostgreSQL errors are
        // longjmps and never pass through a catch clause.
        error->sqlerrcode = ERRCODE_INTERNAL_ERROR;
        copy_text(error->message, sizeof error->message, "lhv: internal error: unknown C++ exception");
    }
}

void raise_error(const ErrorBuffer& error) {
    if (error.memory_hint) {
        ereport(ERROR,
                (errcode(error.sqlerrcode), errmsg_internal("%s", error.message),
                 errhint("lhv keeps its graphs in one shared memory area of at most lhv.max_shared_memory "
                         "(now %d MB): raise it and restart the server. If dynamic shared memory "
                         "(/dev/shm) is what ran out, raise lhv.shared_memory_reserved (now %d MB) instead.",
                         lhv_max_shared_memory_mb, lhv_shared_memory_reserved_mb)));
    }
    if (error.filename[0] != '\0') {
        // A PostgreSQL error from pg_call: report it where PostgreSQL raised it.
        // errfinish() keeps the location pointers until the error is
        // reported, after this frame is gone: copy them somewhere static.
        static char filename[sizeof error.filename];
        static char funcname[sizeof error.funcname];
        copy_text(filename, sizeof filename, error.filename);
        copy_text(funcname, sizeof funcname, error.funcname);
        if (errstart(ERROR, TEXTDOMAIN)) {
            errcode(error.sqlerrcode);
            errmsg_internal("%s", error.message);
            if (error.detail[0] != '\0') errdetail_internal("%s", error.detail);
            if (error.hint[0] != '\0') errhint("%s", error.hint);
            errfinish(filename, error.lineno, funcname[0] != '\0' ? funcname : nullptr);
        }
    }
    ereport(ERROR, (errcode(error.sqlerrcode), errmsg_internal("%s", error.message),
                    error.detail[0] != '\0' ? errdetail_internal("%s", error.detail) : 0,
                    error.hint[0] != '\0' ? errhint("%s", error.hint) : 0));
    pg_unreachable();
}

bool pg_try_invoke(void (*fn)(void*) noexcept, void* arg, ErrorBuffer* error) noexcept {
    MemoryContext caller_context = CurrentMemoryContext;
    const uint32 interrupt_holdoff = InterruptHoldoffCount;
    const uint32 cancel_holdoff = QueryCancelHoldoffCount;
    volatile bool ok = true;
    PG_TRY();
    {
        fn(arg);
    }
    PG_CATCH();
    {
        // errfinish() zeroed the holdoff counts; give the caller back its own.
        InterruptHoldoffCount = interrupt_holdoff;
        QueryCancelHoldoffCount = cancel_holdoff;
        MemoryContextSwitchTo(caller_context);
        ErrorData* edata = CopyErrorData();
        FlushErrorState();
        error->sqlerrcode = edata->sqlerrcode;
        error->memory_hint = false;
        copy_text(error->message, sizeof error->message, edata->message);
        copy_text(error->detail, sizeof error->detail, edata->detail);
        copy_text(error->hint, sizeof error->hint, edata->hint);
        copy_text(error->filename, sizeof error->filename, edata->filename);
        error->lineno = edata->lineno;
        copy_text(error->funcname, sizeof error->funcname, edata->funcname);
        FreeErrorData(edata);
        ok = false;
    }
    PG_END_TRY();
    return ok;
}

void throw_pg_error(const ErrorBuffer& error) {
    PgError e(error.sqlerrcode, error.message, error.detail, error.hint);
    e.set_location(error.filename, error.lineno, error.funcname);
    throw e;
}

}  // namespace lhv::pg
