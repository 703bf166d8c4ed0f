// vector_datum.cpp: vector datums as checked vectors (see vector_datum.h).
extern "C" {
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/dependency.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
}

#include <cmath>
#include <cstring>

#include "core/hnsw_graph.h"
#include "types/lhvector.h"
#include "vector_datum.h"

static_assert(LHVECTOR_MAX_DIM == lhv::kMaxDimension,
              "lhvector's dimension limit must be the engine's");

namespace {

// The vector types lhv reads besides real[]: a type name and the extension
// it must belong to.
struct KnownVectorType {
    const char* type_name;
    const char* extension_name;
};
constexpr KnownVectorType kFloatVectorTypes[] = {
    {"lhvector", "lhv"},
    {"vector", "vector"},  // pgvector
};

// The last type looked up (an index's type rarely changes within a backend),
// forgotten whenever a pg_type row changes, so a dropped and re-created
// extension whose type got another OID is looked up again.
struct TypeFormatCache {
    bool callback_registered;
    bool valid;
    Oid type;
    bool supported;
    LhvVectorFormat format;
};
TypeFormatCache type_cache;

void forget_type_format(Datum, int, uint32)
{
    type_cache.valid = false;
}

// True if `type` is one of kFloatVectorTypes: same name, a varlena, and a
// member of the named extension.
bool is_float_vector_type(Oid type)
{
    HeapTuple tuple = SearchSysCache1(TYPEOID, ObjectIdGetDatum(type));
    if (!HeapTupleIsValid(tuple))
        return false;
    Form_pg_type form = (Form_pg_type)GETSTRUCT(tuple);
    const KnownVectorType* known = nullptr;
    for (const KnownVectorType& candidate : kFloatVectorTypes) {
        if (strcmp(NameStr(form->typname), candidate.type_name) == 0)
            known = &candidate;
    }
    bool layout_ok = form->typlen == -1 && form->typalign == TYPALIGN_INT;
    ReleaseSysCache(tuple);
    if (known == nullptr || !layout_ok)
        return false;

    Oid extension = getExtensionOfObject(TypeRelationId, type);
    if (!OidIsValid(extension))
        return false;
    char* extension_name = get_extension_name(extension);
    bool member = extension_name != nullptr && strcmp(extension_name, known->extension_name) == 0;
    if (extension_name != nullptr)
        pfree(extension_name);
    return member;
}

void raise_bad_dimension(int dimension, const char* what)
{
    ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                    errmsg("%s has %d dimensions; lhv supports 1 to %u", what, dimension,
                           lhv::kMaxDimension)));
}

LhvVector float_vector_from_datum(Datum datum, const char* what)
{
    const LhvectorValue* value = DatumGetLhvector(datum);
    int dimension = value->dim;
    if (dimension < 1 || dimension > int(lhv::kMaxDimension))
        raise_bad_dimension(dimension, what);
    // A value of another layout (a future pgvector, a corrupt row) would
    // otherwise be read past its end.
    if (VARSIZE(value) != LHVECTOR_SIZE(dimension) || value->unused != 0)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("%s is not a vector lhv can read: %d dimensions in %zu bytes", what,
                               dimension, size_t(VARSIZE(value))),
                        errdetail("lhv reads a varlena header, an int16 dimension, an int16 zero "
                                  "and float4 components.")));
    return LhvVector{value->x, dimension};
}

}  // namespace

bool lhv_vector_type_format(Oid type, LhvVectorFormat* format)
{
    if (type == FLOAT4ARRAYOID) {
        *format = LhvVectorFormat::RealArray;
        return true;
    }
    if (!type_cache.callback_registered) {
        CacheRegisterSyscacheCallback(TYPEOID, forget_type_format, (Datum)0);
        type_cache.callback_registered = true;
    }
    if (!type_cache.valid || type_cache.type != type) {
        bool supported = is_float_vector_type(type);
        type_cache.type = type;
        type_cache.supported = supported;
        type_cache.format = LhvVectorFormat::FloatVector;
        type_cache.valid = true;
    }
    *format = type_cache.format;
    return type_cache.supported;
}

LhvVectorFormat lhv_index_vector_format(Relation index)
{
    Oid type = index->rd_opcintype[0];
    LhvVectorFormat format;
    if (!lhv_vector_type_format(type, &format))
        ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                        errmsg("lhv cannot index type %s", format_type_be(type)),
                        errhint("lhv indexes real[], lhvector and, with the lhv_pgvector "
                                "extension, pgvector's vector.")));
    return format;
}

LhvVector lhv_vector_from_datum(Datum datum, const char* what)
{
    ArrayType* array = DatumGetArrayTypeP(datum);

    if (ARR_ELEMTYPE(array) != FLOAT4OID)
        ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                        errmsg("%s must be an array of real", what)));
    if (ARR_NDIM(array) != 1)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("%s must be a one-dimensional array, not %d-dimensional", what,
                               ARR_NDIM(array))));
    if (ARR_HASNULL(array) && array_contains_nulls(array))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                        errmsg("%s must not contain NULL elements", what)));

    int dimension = ARR_DIMS(array)[0];
    if (dimension < 1 || dimension > int(lhv::kMaxDimension))
        raise_bad_dimension(dimension, what);

    return LhvVector{reinterpret_cast<const float*>(ARR_DATA_PTR(array)), dimension};
}

LhvVector lhv_vector_from_datum(Datum datum, LhvVectorFormat format, const char* what)
{
    if (format == LhvVectorFormat::FloatVector)
        return float_vector_from_datum(datum, what);
    return lhv_vector_from_datum(datum, what);
}

LhvVector lhv_vector_from_datum_finite(Datum datum, LhvVectorFormat format, const char* what)
{
    LhvVector vector = lhv_vector_from_datum(datum, format, what);
    if (format == LhvVectorFormat::RealArray)
        lhv_vector_check_finite(vector, what);
    return vector;
}

void lhv_vector_check_finite(const LhvVector& vector, const char* what)
{
    for (int i = 0; i < vector.dimension; i++) {
        if (!std::isfinite(vector.values[i]))
            ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                            errmsg("%s has a non-finite component at position %d", what, i + 1),
                            errdetail("NaN and infinite values cannot be indexed or compared.")));
    }
}

void lhv_vector_check_same_dimension(const LhvVector& a, const LhvVector& b)
{
    if (a.dimension != b.dimension)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("vectors have different dimensions (%d and %d)", a.dimension,
                               b.dimension)));
}

void lhv_vector_check_cosine_indexable(const float* values, int dimension)
{
    double norm = 0;
    for (int i = 0; i < dimension; i++)
        norm += double(values[i]) * values[i];
    if (norm == 0)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("a zero vector cannot be indexed for cosine distance")));
}
