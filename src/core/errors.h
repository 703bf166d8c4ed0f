// errors.h: the one exception type the engine throws.
//
// Each error carries a category that the PostgreSQL layer maps to a SQLSTATE,
// so callers never parse messages.
#pragma once

#include <stdexcept>
#include <string>

namespace lhv {

enum class ErrorKind {
    InvalidParameter,  // bad m, ef, k, dimension ...          -> 22023
    InvalidVector,     // wrong dimension, NaN/Inf, zero norm  -> 22000 class
    CorruptSnapshot,   // malformed LHV1 or graph bytes        -> 22P03
    OutOfMemory,       // the memory provider refused          -> 53200
    CapacityExceeded,  // a fixed engine limit was reached     -> 54000
    Internal,          // a broken invariant                   -> XX000
};

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, const std::string& message)
        : std::runtime_error(message), kind_(kind) {}
    ErrorKind kind() const noexcept { return kind_; }

private:
    ErrorKind kind_;
};

}  // namespace lhv
