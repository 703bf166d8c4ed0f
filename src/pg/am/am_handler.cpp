// am_handler.cpp: the lhv index access method's handler, its options
// (m, ef_construction) and the GUCs that steer its scans.
extern "C" {
#include "postgres.h"

#include "access/amapi.h"
#include "access/reloptions.h"
#include "commands/progress.h"
#include "commands/vacuum.h"
#include "utils/guc.h"
#include "utils/rel.h"
}

#include "am/lhv_am.h"

int lhv_ef_search = LHV_EF_SEARCH_DEFAULT;
int lhv_max_scan_tuples = LHV_MAX_SCAN_TUPLES_DEFAULT;
int lhv_build_threads = LHV_BUILD_THREADS_DEFAULT;

static relopt_kind lhv_relopt_kind;

// Registers the index options and the access method's GUCs (from _PG_init).
void lhv_am_init(void)
{
    lhv_relopt_kind = add_reloption_kind();
    add_int_reloption(lhv_relopt_kind, "m", "Max number of neighbours per element and layer (HNSW M)",
                      LHV_M_DEFAULT, LHV_M_MIN, LHV_M_MAX, AccessExclusiveLock);
    add_int_reloption(lhv_relopt_kind, "ef_construction",
                      "Size of the candidate list while building the graph",
                      LHV_EF_CONSTRUCTION_DEFAULT, LHV_EF_CONSTRUCTION_MIN,
                      LHV_EF_CONSTRUCTION_MAX, AccessExclusiveLock);

    DefineCustomIntVariable("lhv.ef_search", "Size of the candidate list for index scans.",
                            "Larger values give better recall and slower scans.", &lhv_ef_search,
                            LHV_EF_SEARCH_DEFAULT, LHV_EF_SEARCH_MIN, LHV_EF_SEARCH_MAX,
                            PGC_USERSET, 0, NULL, NULL, NULL);
    DefineCustomIntVariable("lhv.max_scan_tuples",
                            "Most index entries one scan may return while rows are filtered out.",
                            "A scan keeps widening its search past lhv.ef_search while the "
                            "executor asks for more rows, up to this many.",
                            &lhv_max_scan_tuples, LHV_MAX_SCAN_TUPLES_DEFAULT,
                            LHV_MAX_SCAN_TUPLES_MIN, LHV_MAX_SCAN_TUPLES_MAX, PGC_USERSET, 0, NULL,
                            NULL, NULL);
    DefineCustomIntVariable("lhv.build_threads",
                            "Threads that insert into the graph during CREATE INDEX.",
                            "0 means one per CPU core. At most 1 + max_parallel_maintenance_workers "
                            "(or the table's parallel_workers), and at most 1 + max_worker_processes.",
                            &lhv_build_threads,
                            LHV_BUILD_THREADS_DEFAULT, LHV_BUILD_THREADS_MIN,
                            LHV_BUILD_THREADS_MAX, PGC_USERSET, 0, NULL, NULL, NULL);
}

// Parses WITH (m = ..., ef_construction = ...).
static bytea* lhv_options(Datum reloptions, bool validate)
{
    static const relopt_parse_elt table[] = {
        {"m", RELOPT_TYPE_INT, offsetof(LhvOptions, m)},
        {"ef_construction", RELOPT_TYPE_INT, offsetof(LhvOptions, ef_construction)},
    };
    return static_cast<bytea*>(build_reloptions(reloptions, validate, lhv_relopt_kind,
                                                sizeof(LhvOptions), table, lengthof(table)));
}

// Names the build phases shown in pg_stat_progress_create_index.
static char* lhv_build_phase_name(int64 phase)
{
    switch (phase) {
        case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE:
            return const_cast<char*>("initializing");
        case LHV_PHASE_READ_HEAP:
            return const_cast<char*>("reading table");
        case LHV_PHASE_INSERT:
            return const_cast<char*>("building graph");
        case LHV_PHASE_SNAPSHOT:
            return const_cast<char*>("writing snapshot");
        default:
            return NULL;
    }
}

extern "C" {

PG_FUNCTION_INFO_V1(lhv_handler);

// The access method's entry point: what it can do and its callbacks.
Datum lhv_handler(PG_FUNCTION_ARGS)
{
    IndexAmRoutine* am = makeNode(IndexAmRoutine);

    am->amstrategies = 0;
    am->amsupport = LHV_SUPPORT_PROCS;
    am->amoptsprocnum = 0;
    am->amcanorder = false;
    am->amcanorderbyop = true;
    am->amcanbackward = false;
    am->amcanunique = false;
    am->amcanmulticol = false;
    am->amoptionalkey = true;
    am->amsearcharray = false;
    am->amsearchnulls = false;
    am->amstorage = false;
    am->amclusterable = false;
    am->ampredlocks = false;
    am->amcanparallel = false;
    am->amcaninclude = false;
    am->amusemaintenanceworkmem = false;
    am->amparallelvacuumoptions = VACUUM_OPTION_NO_PARALLEL;
    am->amkeytype = InvalidOid;

    am->ambuild = lhv_build;
    am->ambuildempty = lhv_build_empty;
    am->aminsert = lhv_insert;
    am->ambulkdelete = lhv_bulk_delete;
    am->amvacuumcleanup = lhv_vacuum_cleanup;
    am->amcanreturn = NULL;
    am->amcostestimate = lhv_cost_estimate;
    am->amoptions = lhv_options;
    am->amproperty = NULL;
    am->ambuildphasename = lhv_build_phase_name;
    am->amvalidate = lhv_validate;
    am->amadjustmembers = NULL;
    am->ambeginscan = lhv_begin_scan;
    am->amrescan = lhv_rescan;
    am->amgettuple = lhv_get_tuple;
    am->amgetbitmap = NULL;
    am->amendscan = lhv_end_scan;
    am->ammarkpos = NULL;
    am->amrestrpos = NULL;
    am->amestimateparallelscan = NULL;
    am->aminitparallelscan = NULL;
    am->amparallelrescan = NULL;

    PG_RETURN_POINTER(am);
}

}  // extern "C"

// The index's m option (default when the index has no options).
int lhv_index_m(Relation index)
{
    LhvOptions* options = reinterpret_cast<LhvOptions*>(index->rd_options);
    return options ? options->m : LHV_M_DEFAULT;
}

// The index's ef_construction option.
int lhv_index_ef_construction(Relation index)
{
    LhvOptions* options = reinterpret_cast<LhvOptions*>(index->rd_options);
    return options ? options->ef_construction : LHV_EF_CONSTRUCTION_DEFAULT;
}
