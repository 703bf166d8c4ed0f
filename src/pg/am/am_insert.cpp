// am_insert.cpp: aminsert: a new or updated row's vector goes into the live
// graph while other backends search it.
extern "C" {
#include "postgres.h"

#include "utils/memutils.h"
}

#include "am/index_graph.h"
#include "am/lhv_am.h"
#include "vector_datum.h"

bool lhv_insert(Relation index, Datum* values, bool* isnull, ItemPointer heap_tid, Relation heap,
                IndexUniqueCheck checkUnique, bool indexUnchanged, IndexInfo* indexInfo)
{
    (void)checkUnique;
    (void)indexUnchanged;
    (void)indexInfo;
    (void)heap;  // the graph and its log need only the index
    if (isnull[0])
        return false;  // NULL vectors are not indexed

    // Detoasting may copy the vector: keep that in a context freed below.
    MemoryContext context = AllocSetContextCreate(CurrentMemoryContext, "lhv insert",
                                                  ALLOCSET_SMALL_SIZES);
    MemoryContext old = MemoryContextSwitchTo(context);
    LhvVector vector = lhv_vector_from_datum_finite(values[0], lhv_index_vector_format(index), "vector");
    lhv_graph_insert(index, vector.values, vector.dimension, lhv_tid_to_label(heap_tid));
    MemoryContextSwitchTo(old);
    MemoryContextDelete(context);
    return false;
}
