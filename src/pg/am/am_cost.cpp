// am_cost.cpp: amcostestimate. The index serves ORDER BY distance with a
// LIMIT; for anything else it prices itself out so the planner sorts instead.
extern "C" {
#include "postgres.h"

#include "access/genam.h"
#include "optimizer/optimizer.h"
#include "utils/rel.h"
#include "utils/selfuncs.h"
#include "utils/float.h"
#include "utils/spccache.h"
}

#include <cmath>

#include "am/lhv_am.h"

// Cost added to a plan the index should not be used for (ORDER BY without a
// usable LIMIT): far above disable_cost (1e10), so that a sort wins even when
// enable_seqscan or enable_sort is off, but finite.
static const Cost lhv_unusable_cost = 1.0e15;

void lhv_cost_estimate(PlannerInfo* root, IndexPath* path, double loop_count,
                       Cost* indexStartupCost, Cost* indexTotalCost,
                       Selectivity* indexSelectivity, double* indexCorrelation,
                       double* indexPages)
{
    GenericCosts costs;
    MemSet(&costs, 0, sizeof(costs));

    // The index only orders; it cannot answer WHERE clauses, and a scan
    // without ORDER BY fails. An infinite cost keeps such a path out of every
    // plan, even with enable_seqscan = off (disable_cost is finite).
    if (path->indexorderbys == NIL) {
        *indexStartupCost = get_float8_infinity();
        *indexTotalCost = get_float8_infinity();
        *indexSelectivity = 0;
        *indexCorrelation = 0;
        *indexPages = 0;
        return;
    }

    double tuples = Max(path->indexinfo->tuples, 1.0);
    double limit = root->limit_tuples;

    Relation index = index_open(path->indexinfo->indexoid, NoLock);
    int m = lhv_index_m(index);
    index_close(index, NoLock);

    // A search visits about ef elements per layer and computes a distance
    // for each of their (up to 2*m) neighbours.
    double ef = Max(double(lhv_ef_search), limit > 0 ? limit : 0.0);
    double layers = Max(1.0, std::log(tuples) / std::log(double(Max(m, 2))));
    double visited = Min(tuples, ef * 2.0 * m + layers * m);

    costs.numIndexTuples = visited;
    genericcostestimate(root, path, loop_count, &costs);

    // All of the search happens before the first row comes back, and the graph
    // is in shared memory: no index pages are read.
    double distance_cost = visited * cpu_operator_cost * LHV_DISTANCE_COST_FACTOR;
    *indexStartupCost = distance_cost;
    *indexTotalCost = distance_cost + costs.indexTotalCost - costs.numIndexPages * random_page_cost;
    *indexSelectivity = Min(1.0, (limit > 0 ? limit : ef) / tuples);
    *indexCorrelation = 0;
    *indexPages = 0;

    // Without a LIMIT (or with one past lhv.max_scan_tuples) the scan could stop
    // before every row is returned, so leave such queries to a sort.
    if (limit <= 0 || limit > lhv_max_scan_tuples) {
        *indexStartupCost += lhv_unusable_cost;
        *indexTotalCost += lhv_unusable_cost;
    }
}
