// lhvector_io.cpp: lhvector's input and output: text ('[1,2,3]'), binary
// (pgvector's wire format: int16 dimension, int16 zero, float4 components,
// network byte order), the dimension typmod lhvector(n) and the checks every
// producer of a value shares.
//
// The text input is on every query's path (a query vector arrives as a
// literal): it parses straight into the result, with no array machinery, and
// takes a correctly rounded fast path for short decimals before falling back
// to strtof, which float4in also uses, so a component reads exactly as the
// same text read as real. The fast path covers decimals of up to 15-16
// significant digits: what clients print for float4 and float8 values.
extern "C" {
#include "postgres.h"

#include "common/shortest_dec.h"
#include "fmgr.h"
#include "libpq/pqformat.h"
#include "port/pg_bswap.h"
#include "utils/array.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(lhvector_in);
PG_FUNCTION_INFO_V1(lhvector_out);
PG_FUNCTION_INFO_V1(lhvector_recv);
PG_FUNCTION_INFO_V1(lhvector_send);
PG_FUNCTION_INFO_V1(lhvector_typmod_in);
PG_FUNCTION_INFO_V1(lhvector_typmod_out);
PG_FUNCTION_INFO_V1(lhvector_apply_typmod);
PG_FUNCTION_INFO_V1(lhvector_dims);
}

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "types/lhvector.h"

LhvectorValue* lhvector_alloc(int dim)
{
    Size size = LHVECTOR_SIZE(dim);
    LhvectorValue* value = static_cast<LhvectorValue*>(palloc0(size));
    SET_VARSIZE(value, size);
    value->dim = int16(dim);
    return value;
}

void lhvector_check_dimension(int dim)
{
    if (dim < 1 || dim > LHVECTOR_MAX_DIM)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("lhvector has %d dimensions; lhv supports 1 to %d", dim,
                               LHVECTOR_MAX_DIM)));
}

void lhvector_check_typmod(int32 typmod, int dim)
{
    if (typmod != -1 && typmod != dim)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("expected %d dimensions, not %d", typmod, dim)));
}

void lhvector_report_non_finite(int position)
{
    ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                    errmsg("lhvector has a non-finite component at position %d", position + 1),
                    errdetail("NaN and infinite values cannot be indexed or compared.")));
    pg_unreachable();
}

namespace {

// The whitespace PostgreSQL's scanner skips.
inline bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

inline bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

// What may follow a component in the text form.
inline bool ends_component(char c)
{
    return c == ',' || c == ']' || is_space(c);
}

[[noreturn]] void raise_syntax(const char* literal, const char* detail)
{
    if (detail != nullptr)
        ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
                        errmsg("invalid input syntax for type lhvector: \"%s\"", literal),
                        errdetail("%s", detail)));
    ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
                    errmsg("invalid input syntax for type lhvector: \"%s\"", literal)));
    pg_unreachable();
}

// Powers of ten a double holds exactly (5^22 < 2^53).
constexpr double kExactPowersOfTen[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                        1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                        1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
constexpr int kMaxExactPower = 22;
// Integers up to 2^53 are exact doubles.
constexpr uint64 kMaxExactMantissa = uint64(1) << 53;

// True if `d` lies exactly halfway between two adjacent floats: the 29
// mantissa bits a float drops are 1 followed by zeros.
inline bool is_float_midpoint(double d)
{
    uint64 bits;
    memcpy(&bits, &d, sizeof(bits));
    return (bits & ((uint64(1) << 29) - 1)) == (uint64(1) << 28);
}

// Clinger's fast path, then one rounding to float. A decimal [sign] digits
// [. digits] [e [sign] digits] whose digits form an integer m <= 2^53 and
// whose scale 10^k has |k| <= 22 is m * 10^k or m / 10^k of two exact
// doubles: one IEEE operation gives d, the double nearest the exact value x.
// Every float midpoint is a double, so unless d is itself a midpoint, x and
// d lie on the same side of every midpoint and (float)d is the float nearest
// x, as strtof gives; a midpoint d falls back to strtof. Such values are
// within float's normal range (1e-22 .. 9e37). Returns the end of the
// component, or nullptr when the text is not such a decimal.
const char* parse_fast_decimal(const char* p, float* out)
{
    bool negative = false;
    if (*p == '-' || *p == '+') {
        negative = *p == '-';
        p++;
    }
    uint64 mantissa = 0;
    int scale = 0;
    bool any_digit = false;
    for (; is_digit(*p); p++) {
        mantissa = mantissa * 10 + uint64(*p - '0');
        if (mantissa > kMaxExactMantissa)
            return nullptr;
        any_digit = true;
    }
    if (*p == '.') {
        for (p++; is_digit(*p); p++) {
            mantissa = mantissa * 10 + uint64(*p - '0');
            if (mantissa > kMaxExactMantissa)
                return nullptr;
            scale--;
            any_digit = true;
        }
    }
    if (!any_digit)
        return nullptr;
    if (*p == 'e' || *p == 'E') {
        p++;
        bool negative_exponent = false;
        if (*p == '-' || *p == '+') {
            negative_exponent = *p == '-';
            p++;
        }
        if (!is_digit(*p))
            return nullptr;
        int exponent = 0;
        for (; is_digit(*p); p++) {
            exponent = exponent * 10 + (*p - '0');
            if (exponent > 100)
                return nullptr;
        }
        scale += negative_exponent ? -exponent : exponent;
    }
    if (!ends_component(*p) && *p != '\0')
        return nullptr;  // hexadecimal, or junk strtof may treat differently
    float value;
    if (mantissa == 0) {
        value = 0.0f;
    } else {
        if (scale < -kMaxExactPower || scale > kMaxExactPower)
            return nullptr;
        double d = scale >= 0 ? double(mantissa) * kExactPowersOfTen[scale]
                              : double(mantissa) / kExactPowersOfTen[-scale];
        if (is_float_midpoint(d))
            return nullptr;
        value = float(d);
    }
    *out = negative ? -value : value;
    return p;
}

// One component at `p`, read as float4in reads a real: returns its end.
const char* parse_component(const char* p, float* out, const char* literal)
{
    const char* end = parse_fast_decimal(p, out);
    if (end != nullptr)
        return end;

    char* strtof_end;
    errno = 0;
    float value = strtof(p, &strtof_end);
    if (strtof_end == p)
        raise_syntax(literal, nullptr);
    // As float4in: ERANGE for a denormal is fine, for 0 or infinity it is not.
    if (errno == ERANGE && (value == 0.0f || std::isinf(value)))
        ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
                        errmsg("\"%s\" is out of range for type real",
                               pnstrdup(p, Size(strtof_end - p)))));
    *out = value;
    return strtof_end;
}

// An upper bound of the components of a literal that starts at `p` (after
// '['): one more than the commas before the first ']'.
int count_components(const char* p)
{
    int count = 1;
    for (; *p != '\0' && *p != ']'; p++)
        count += *p == ',';
    return count;
}

// The dimension of an lhvector datum, reading no more than its header.
int datum_dimension(Datum datum)
{
    struct varlena* raw = reinterpret_cast<struct varlena*>(DatumGetPointer(datum));
    if (!VARATT_IS_EXTENDED(raw))
        return reinterpret_cast<const LhvectorValue*>(raw)->dim;
    struct varlena* head = pg_detoast_datum_slice(raw, 0, sizeof(int16) * 2);
    int16 dim;
    memcpy(&dim, VARDATA(head), sizeof(dim));
    return dim;
}

}  // namespace

extern "C" {

// Text input: '[1, 2.5, -3e-2]'. Whitespace is allowed around components.
Datum lhvector_in(PG_FUNCTION_ARGS)
{
    const char* literal = PG_GETARG_CSTRING(0);
    int32 typmod = PG_GETARG_INT32(2);

    const char* p = literal;
    while (is_space(*p))
        p++;
    if (*p != '[')
        raise_syntax(literal, "Vector contents must start with \"[\".");
    p++;

    int capacity = count_components(p);
    if (capacity > LHVECTOR_MAX_DIM)
        capacity = LHVECTOR_MAX_DIM + 1;  // parsing stops at the limit
    LhvectorValue* result = lhvector_alloc(capacity);

    int dim = 0;
    while (is_space(*p))
        p++;
    if (*p == ']')
        lhvector_check_dimension(0);
    for (;;) {
        while (is_space(*p))
            p++;
        if (*p == '\0')
            raise_syntax(literal, nullptr);
        if (dim >= LHVECTOR_MAX_DIM)
            ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                            errmsg("lhvector has more than %d dimensions; lhv supports 1 to %d",
                                   LHVECTOR_MAX_DIM, LHVECTOR_MAX_DIM)));
        if (dim >= capacity)  // cannot happen: components end at ',' or ']'
            raise_syntax(literal, nullptr);
        float value;
        p = parse_component(p, &value, literal);
        lhvector_check_component(value, dim);
        result->x[dim++] = value;
        while (is_space(*p))
            p++;
        if (*p == ',') {
            p++;
        } else if (*p == ']') {
            p++;
            break;
        } else {
            raise_syntax(literal, nullptr);
        }
    }
    while (is_space(*p))
        p++;
    if (*p != '\0')
        raise_syntax(literal, "Junk after closing right bracket.");

    lhvector_check_typmod(typmod, dim);
    result->dim = int16(dim);
    SET_VARSIZE(result, LHVECTOR_SIZE(dim));
    PG_RETURN_POINTER(result);
}

// Text output: the shortest decimal of each component that reads back to
// the same float, as float4out gives with extra_float_digits > 0.
Datum lhvector_out(PG_FUNCTION_ARGS)
{
    const LhvectorValue* value = PG_GETARG_LHVECTOR(0);
    int dim = value->dim;
    // Each component takes at most FLOAT_SHORTEST_DECIMAL_LEN - 1 characters
    // plus a separator; then '[', ']' and the terminator.
    char* out = static_cast<char*>(palloc(Size(dim) * FLOAT_SHORTEST_DECIMAL_LEN + 3));
    char* p = out;
    *p++ = '[';
    for (int i = 0; i < dim; i++) {
        if (i > 0)
            *p++ = ',';
        p += float_to_shortest_decimal_bufn(value->x[i], p);
    }
    *p++ = ']';
    *p = '\0';
    PG_RETURN_CSTRING(out);
}

// Binary input, pgvector's format: int16 dimension, int16 zero, then the
// float4 components, all in network byte order.
Datum lhvector_recv(PG_FUNCTION_ARGS)
{
    StringInfo buf = reinterpret_cast<StringInfo>(PG_GETARG_POINTER(0));
    int32 typmod = PG_GETARG_INT32(2);

    int dim = int(pq_getmsgint(buf, sizeof(int16)));
    int unused = int(pq_getmsgint(buf, sizeof(int16)));
    lhvector_check_dimension(dim);
    lhvector_check_typmod(typmod, dim);
    if (unused != 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
                        errmsg("invalid binary lhvector: the reserved field is %d, not 0", unused)));
    Size bytes = Size(dim) * sizeof(float);
    if (Size(buf->len - buf->cursor) < bytes)
        ereport(ERROR, (errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
                        errmsg("invalid binary lhvector: %d dimensions need %zu bytes, %d left", dim,
                               bytes, buf->len - buf->cursor)));

    LhvectorValue* result = lhvector_alloc(dim);
    const char* source = buf->data + buf->cursor;
    // One pass that only swaps bytes and ORs an "all exponent bits set" (NaN
    // or infinity) flag, so it vectorises; the component is named only when
    // there is one.
    uint32 non_finite = 0;
    for (int i = 0; i < dim; i++) {
        uint32 bits;
        memcpy(&bits, source + Size(i) * sizeof(bits), sizeof(bits));
        bits = pg_ntoh32(bits);
        memcpy(&result->x[i], &bits, sizeof(bits));
        non_finite |= uint32((bits & 0x7f800000u) == 0x7f800000u);
    }
    if (non_finite)
        for (int i = 0; i < dim; i++)
            lhvector_check_component(result->x[i], i);
    buf->cursor += int(bytes);
    PG_RETURN_POINTER(result);
}

// Binary output, the format lhvector_recv and pgvector's vector_recv read.
Datum lhvector_send(PG_FUNCTION_ARGS)
{
    const LhvectorValue* value = PG_GETARG_LHVECTOR(0);
    StringInfoData buf;
    pq_begintypsend(&buf);
    enlargeStringInfo(&buf, int(sizeof(int16) * 2 + sizeof(float) * Size(value->dim)));
    pq_sendint16(&buf, uint16(value->dim));
    pq_sendint16(&buf, uint16(value->unused));
    for (int i = 0; i < value->dim; i++) {
        uint32 bits;
        memcpy(&bits, &value->x[i], sizeof(bits));
        pq_writeint32(&buf, bits);
    }
    PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

// lhvector(n): n dimensions, 1 .. 16000.
Datum lhvector_typmod_in(PG_FUNCTION_ARGS)
{
    ArrayType* modifiers = PG_GETARG_ARRAYTYPE_P(0);
    int count;
    int32* values = ArrayGetIntegerTypmods(modifiers, &count);
    if (count != 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("lhvector takes one type modifier, its dimension")));
    if (values[0] < 1 || values[0] > LHVECTOR_MAX_DIM)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("lhvector dimension must be between 1 and %d, not %d",
                               LHVECTOR_MAX_DIM, values[0])));
    PG_RETURN_INT32(values[0]);
}

Datum lhvector_typmod_out(PG_FUNCTION_ARGS)
{
    int32 typmod = PG_GETARG_INT32(0);
    PG_RETURN_CSTRING(typmod < 0 ? pstrdup("") : psprintf("(%d)", typmod));
}

// The length coercion lhvector -> lhvector(n): checks the dimension of a
// value stored into, or cast to, a column with a typmod. Returns the datum
// itself, toasted or not.
Datum lhvector_apply_typmod(PG_FUNCTION_ARGS)
{
    Datum datum = PG_GETARG_DATUM(0);
    lhvector_check_typmod(PG_GETARG_INT32(1), datum_dimension(datum));
    PG_RETURN_DATUM(datum);
}

Datum lhvector_dims(PG_FUNCTION_ARGS)
{
    PG_RETURN_INT32(datum_dimension(PG_GETARG_DATUM(0)));
}

}  // extern "C"
