// named_input.cpp: checking what lhv_add and lhv_search receive, before
// anything is stored or searched.
//
//   lhv_named_vector(v anyarray, dimension, cosine, what) -> real[]
//       one vector or query as the arrays drivers send (real[], double
//       precision[], numeric[], smallint[], integer[], bigint[]), checked
//       and converted to real[];
//   lhv_named_batch(items jsonb, dimension, cosine)
//       -> SETOF (id text, embedding real[], metadata jsonb)
//       a batch for lhv_add, every item checked before the first row is
//       returned; one row per id, in id order (its last vector, its last
//       non-null metadata), as if the items were added one by one.
//
// Errors: 22000 for a wrong dimension, a non-finite component or a zero
// vector under cosine; 22004 for NULLs; 22023 for a malformed batch item;
// 42804 for an array of something other than numbers.
//
// Plain PostgreSQL-style code: it ereports directly and holds no C++ object.
extern "C" {
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/tuplestore.h"

PG_FUNCTION_INFO_V1(lhv_named_vector);
PG_FUNCTION_INFO_V1(lhv_named_batch);
}

#include <cerrno>
#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "api/named.h"

// Raises 22000 unless every component is finite and, under cosine, not all
// are zero. `what` names the vector in messages.
static void lhv_named_check_values(const float* values, int dimension, bool cosine, const char* what)
{
    bool nonzero = false;
    for (int i = 0; i < dimension; i++) {
        if (!std::isfinite(values[i]))
            ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                            errmsg("%s has a non-finite component at position %d", what, i + 1),
                            errdetail("NaN and infinite values (or numbers out of the range of real) "
                                      "cannot be indexed.")));
        nonzero |= values[i] != 0.0f;
    }
    if (cosine && !nonzero)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("%s is a zero vector, which has no cosine distance", what)));
}

// Raises 22000 unless `got` is the index's dimension.
static void lhv_named_check_dimension(int got, int dimension, const char* what)
{
    if (got != dimension)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("%s has %d dimensions, the index has %d", what, got, dimension)));
}

// A numeric as the nearest real, read from the numeric's stored form (its
// on-disk format, which PostgreSQL keeps stable for pg_upgrade: a uint16
// header, for the long form an int16 weight, then base-10000 digits) and
// written as a decimal string for strtof, which rounds it as real's input
// function does. numeric_out would give the same string with more work; it is
// kept for numbers of more than 16 digits (64 decimal digits). NaN and the
// infinities, and numbers out of real's range, come back as NaN, which the
// caller reports as non-finite.
static float lhv_named_numeric_to_float(Numeric number)
{
    const char* data = VARDATA_ANY(number);
    size_t size = VARSIZE_ANY_EXHDR(number);
    uint16 header;
    memcpy(&header, data, sizeof header);
    const uint16 flags = header & 0xC000;
    if (flags == 0xC000)  // NUMERIC_SPECIAL: NaN, +Infinity, -Infinity
        return NAN;
    bool negative;
    int weight;
    const char* digits;
    size_t ndigits;
    if (flags == 0x8000) {  // NUMERIC_SHORT
        negative = (header & 0x2000) != 0;
        weight = (header & 0x0040) ? int(~0x003F | (header & 0x003F)) : int(header & 0x003F);
        digits = data + sizeof(uint16);
        ndigits = (size - sizeof(uint16)) / sizeof(int16);
    } else {  // NUMERIC_POS or NUMERIC_NEG, long form
        negative = flags == 0x4000;
        int16 w;
        memcpy(&w, data + sizeof(uint16), sizeof w);
        weight = w;
        digits = data + 2 * sizeof(uint16);
        ndigits = (size - 2 * sizeof(uint16)) / sizeof(int16);
    }
    if (ndigits == 0)
        return 0.0f;

    char buffer[128];
    char* digits_text = buffer;
    if (ndigits > 16) {
        digits_text = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(number)));
    } else {
        int pos = 0;
        if (negative)
            buffer[pos++] = '-';
        for (size_t i = 0; i < ndigits; i++) {
            int16 digit;
            memcpy(&digit, digits + i * sizeof(int16), sizeof digit);
            pos += snprintf(buffer + pos, sizeof buffer - pos, i == 0 ? "%d" : "%04d", int(digit));
        }
        snprintf(buffer + pos, sizeof buffer - pos, "e%d", 4 * (weight - int(ndigits) + 1));
    }
    errno = 0;
    char* end = NULL;
    float value = strtof(digits_text, &end);
    if (errno == ERANGE && (value == 0.0f || std::isinf(value)))
        value = NAN;
    if (digits_text != buffer)
        pfree(digits_text);
    return value;
}

// The array `array` as a fresh float[dimension]; elements of any numeric type.
static float* lhv_named_convert(ArrayType* array)
{
    Oid elemtype = ARR_ELEMTYPE(array);
    int16 typlen;
    bool typbyval;
    char typalign;
    get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
    Datum* elems;
    bool* nulls;
    int count;
    deconstruct_array(array, elemtype, typlen, typbyval, typalign, &elems, &nulls, &count);
    float* values = static_cast<float*>(palloc(sizeof(float) * Max(count, 1)));
    for (int i = 0; i < count; i++) {
        switch (elemtype) {
            case FLOAT4OID: values[i] = DatumGetFloat4(elems[i]); break;
            case FLOAT8OID: {
                double d = DatumGetFloat8(elems[i]);
                values[i] = std::isfinite(d) && std::fabs(d) > FLT_MAX ? NAN : float(d);
                break;
            }
            case NUMERICOID: values[i] = lhv_named_numeric_to_float(DatumGetNumeric(elems[i])); break;
            case INT2OID: values[i] = float(DatumGetInt16(elems[i])); break;
            case INT4OID: values[i] = float(DatumGetInt32(elems[i])); break;
            case INT8OID: values[i] = float(DatumGetInt64(elems[i])); break;
        }
    }
    return values;
}

ArrayType* lhv_named_check_vector(ArrayType* array, Oid argtype, int dimension, bool cosine,
                                  const char* what)
{
    Oid elemtype = ARR_ELEMTYPE(array);
    if (elemtype != FLOAT4OID && elemtype != FLOAT8OID && elemtype != NUMERICOID &&
        elemtype != INT2OID && elemtype != INT4OID && elemtype != INT8OID)
        ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                        errmsg("%s must be an array of numbers, not %s", what,
                               format_type_be(OidIsValid(argtype) ? argtype : get_array_type(elemtype))),
                        errhint("Pass real[], double precision[], numeric[], smallint[], integer[] "
                                "or bigint[].")));
    if (ARR_NDIM(array) > 1)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("%s must be a one-dimensional array, not %d-dimensional", what,
                               ARR_NDIM(array))));
    int count = ARR_NDIM(array) == 0 ? 0 : ARR_DIMS(array)[0];
    lhv_named_check_dimension(count, dimension, what);
    if (ARR_HASNULL(array) && array_contains_nulls(array))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                        errmsg("%s must not contain NULL elements", what)));

    // A real[] with lower bound 1 is used as it is.
    if (elemtype == FLOAT4OID && ARR_LBOUND(array)[0] == 1) {
        lhv_named_check_values(reinterpret_cast<const float*>(ARR_DATA_PTR(array)), count, cosine, what);
        return array;
    }
    float* values = lhv_named_convert(array);
    lhv_named_check_values(values, count, cosine, what);
    Datum* elems = static_cast<Datum*>(palloc(sizeof(Datum) * count));
    for (int i = 0; i < count; i++)
        elems[i] = Float4GetDatum(values[i]);
    return construct_array(elems, count, FLOAT4OID, sizeof(float4), true, TYPALIGN_INT);
}

// lhv_named_vector(v anyarray, dimension int, cosine bool, what text) -> real[]
extern "C" Datum lhv_named_vector(PG_FUNCTION_ARGS)
{
    const char* what = PG_ARGISNULL(3) ? "vector" : text_to_cstring(PG_GETARG_TEXT_PP(3));
    if (PG_ARGISNULL(0))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s must not be NULL", what)));
    if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
        elog(ERROR, "lhv_named_vector: dimension and cosine must not be NULL");
    PG_RETURN_ARRAYTYPE_P(lhv_named_check_vector(PG_GETARG_ARRAYTYPE_P(0),
                                                 get_fn_expr_argtype(fcinfo->flinfo, 0),
                                                 PG_GETARG_INT32(1), PG_GETARG_BOOL(2), what));
}

// One item of a batch, as read.
struct LhvBatchItem {
    char* id;
    float* values;
    Jsonb* metadata;  // NULL: absent or JSON null (keep what is stored)
    int position;     // 1-based position in the batch, for messages and order
};

// Raises 22023 for a malformed batch item.
static void lhv_named_bad_item(int position, const char* message)
{
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("batch item %d: %s", position, message),
                    errhint("Each item is {\"id\": \"...\", \"vector\": [numbers], \"metadata\": {...}}; "
                            "metadata is optional.")));
}

// Reads and checks item `position` of a batch (a jsonb value).
static void lhv_named_read_item(JsonbValue* item, int position, int dimension, bool cosine,
                                LhvBatchItem* out)
{
    if (item->type != jbvBinary || !JsonContainerIsObject(item->val.binary.data))
        lhv_named_bad_item(position, "is not a JSON object");
    JsonbContainer* object = item->val.binary.data;
    out->position = position;

    JsonbValue value;
    if (getKeyJsonValueFromContainer(object, "id", 2, &value) == NULL || value.type == jbvNull)
        lhv_named_bad_item(position, "has no \"id\"");
    if (value.type != jbvString)
        lhv_named_bad_item(position, "\"id\" must be a JSON string");
    if (value.val.string.len == 0)
        lhv_named_bad_item(position, "\"id\" must not be empty");
    out->id = pnstrdup(value.val.string.val, value.val.string.len);

    if (getKeyJsonValueFromContainer(object, "vector", 6, &value) == NULL || value.type == jbvNull)
        lhv_named_bad_item(position, "has no \"vector\"");
    if (value.type != jbvBinary || !JsonContainerIsArray(value.val.binary.data))
        lhv_named_bad_item(position, "\"vector\" must be a JSON array of numbers");
    JsonbContainer* vector = value.val.binary.data;
    char what[64];
    snprintf(what, sizeof what, "batch item %d: vector", position);
    lhv_named_check_dimension(int(JsonContainerSize(vector)), dimension, what);
    out->values = static_cast<float*>(palloc(sizeof(float) * dimension));
    JsonbIterator* it = JsonbIteratorInit(vector);
    JsonbValue element;
    JsonbIteratorToken token;
    int i = 0;
    while ((token = JsonbIteratorNext(&it, &element, true)) != WJB_DONE) {
        if (token != WJB_ELEM)
            continue;
        if (element.type != jbvNumeric)
            lhv_named_bad_item(position, "\"vector\" must be a JSON array of numbers");
        out->values[i++] = lhv_named_numeric_to_float(element.val.numeric);
    }
    lhv_named_check_values(out->values, dimension, cosine, what);

    out->metadata = NULL;
    if (getKeyJsonValueFromContainer(object, "metadata", 8, &value) != NULL && value.type != jbvNull)
        out->metadata = JsonbValueToJsonb(&value);
}

// Orders items by id, then position.
static int lhv_named_compare_items(const void* a, const void* b)
{
    const LhvBatchItem* x = *static_cast<LhvBatchItem* const*>(a);
    const LhvBatchItem* y = *static_cast<LhvBatchItem* const*>(b);
    int c = strcmp(x->id, y->id);
    if (c != 0)
        return c;
    return x->position - y->position;
}

// lhv_named_batch(items jsonb, dimension int, cosine bool)
//   -> SETOF (id text, embedding real[], metadata jsonb)
extern "C" Datum lhv_named_batch(PG_FUNCTION_ARGS)
{
    if (PG_ARGISNULL(0))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("items must not be NULL")));
    if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
        elog(ERROR, "lhv_named_batch: dimension and cosine must not be NULL");
    Jsonb* items = PG_GETARG_JSONB_P(0);
    int dimension = PG_GETARG_INT32(1);
    bool cosine = PG_GETARG_BOOL(2);
    if (!JB_ROOT_IS_ARRAY(items) || JB_ROOT_IS_SCALAR(items))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("items must be a JSON array of {\"id\", \"vector\", \"metadata\"} objects")));

    int count = int(JB_ROOT_COUNT(items));
    LhvBatchItem* batch = static_cast<LhvBatchItem*>(palloc0(sizeof(LhvBatchItem) * Max(count, 1)));
    JsonbIterator* it = JsonbIteratorInit(&items->root);
    JsonbValue value;
    JsonbIteratorToken token;
    int n = 0;
    while ((token = JsonbIteratorNext(&it, &value, true)) != WJB_DONE) {
        if (token != WJB_ELEM)
            continue;
        CHECK_FOR_INTERRUPTS();
        lhv_named_read_item(&value, n + 1, dimension, cosine, &batch[n]);
        n++;
    }

    // One row per id, in id order: an id given more than once gets its last
    // vector and its last non-null metadata, as if the items were added one
    // by one. The order means concurrent batches lock their rows in the same
    // order, so two batches upserting the same ids cannot deadlock.
    LhvBatchItem** sorted = static_cast<LhvBatchItem**>(palloc(sizeof(LhvBatchItem*) * Max(n, 1)));
    for (int i = 0; i < n; i++)
        sorted[i] = &batch[i];
    qsort(sorted, n, sizeof(LhvBatchItem*), lhv_named_compare_items);

    InitMaterializedSRF(fcinfo, 0);
    ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    Datum* elems = static_cast<Datum*>(palloc(sizeof(Datum) * dimension));
    for (int i = 0; i < n;) {
        int j = i;
        Jsonb* metadata = NULL;
        while (j < n && strcmp(sorted[j]->id, sorted[i]->id) == 0) {
            if (sorted[j]->metadata != NULL)
                metadata = sorted[j]->metadata;
            j++;
        }
        const LhvBatchItem* last = sorted[j - 1];
        i = j;
        for (int d = 0; d < dimension; d++)
            elems[d] = Float4GetDatum(last->values[d]);
        Datum values[3];
        bool nulls[3] = {false, false, false};
        values[0] = CStringGetTextDatum(last->id);
        values[1] = PointerGetDatum(construct_array(elems, dimension, FLOAT4OID, sizeof(float4), true,
                                                    TYPALIGN_INT));
        if (metadata != NULL)
            values[2] = JsonbPGetDatum(metadata);
        else
            nulls[2] = true;
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    return (Datum)0;
}
