// lhv_am.h: the lhv index access method: its constants, options and the
// callbacks each file of the access method provides (one file per phase:
// am_handler, am_build, am_insert, am_scan, am_vacuum, am_cost, am_validate).
#pragma once

extern "C" {
#include "postgres.h"

#include "access/amapi.h"
#include "access/genam.h"
#include "nodes/pathnodes.h"
#include "utils/relcache.h"
}

#include "lhv_config.h"

struct LhvOptions {
    int32 vl_len_;  // varlena header, required by build_reloptions
    int m;
    int ef_construction;
};

extern int lhv_ef_search;
extern int lhv_max_scan_tuples;
extern int lhv_build_threads;

// am_handler.cpp
void lhv_am_init(void);
int lhv_index_m(Relation index);
int lhv_index_ef_construction(Relation index);

// am_build.cpp
IndexBuildResult* lhv_build(Relation heap, Relation index, IndexInfo* indexInfo);
void lhv_build_empty(Relation index);

// am_insert.cpp
bool lhv_insert(Relation index, Datum* values, bool* isnull, ItemPointer heap_tid, Relation heap,
                IndexUniqueCheck checkUnique, bool indexUnchanged, IndexInfo* indexInfo);

// am_scan.cpp
IndexScanDesc lhv_begin_scan(Relation index, int nkeys, int norderbys);
void lhv_rescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys);
bool lhv_get_tuple(IndexScanDesc scan, ScanDirection direction);
void lhv_end_scan(IndexScanDesc scan);

// am_vacuum.cpp
IndexBulkDeleteResult* lhv_bulk_delete(IndexVacuumInfo* info, IndexBulkDeleteResult* stats,
                                       IndexBulkDeleteCallback callback, void* callback_state);
IndexBulkDeleteResult* lhv_vacuum_cleanup(IndexVacuumInfo* info, IndexBulkDeleteResult* stats);

// am_cost.cpp
void lhv_cost_estimate(PlannerInfo* root, IndexPath* path, double loop_count,
                       Cost* indexStartupCost, Cost* indexTotalCost,
                       Selectivity* indexSelectivity, double* indexCorrelation,
                       double* indexPages);

// am_validate.cpp
bool lhv_validate(Oid opclassoid);
