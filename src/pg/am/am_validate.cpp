// am_validate.cpp: amvalidate, which checks that an lhv operator class is one
// the access method can use. Each problem is reported with INFO, as the core
// access methods do, and makes the result false.
extern "C" {
#include "postgres.h"

#include "access/amvalidate.h"
#include "access/htup_details.h"
#include "catalog/pg_amop.h"
#include "catalog/pg_amproc.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_opfamily.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/syscache.h"
}

#include "am/lhv_am.h"
#include "vector_datum.h"

// Reports one problem with the operator family.
static void lhv_validate_problem(const char* family, const char* what)
{
    ereport(INFO, (errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
                   errmsg("lhv operator family \"%s\" %s", family, what)));
}

bool lhv_validate(Oid opclassoid)
{
    bool valid = true;

    HeapTuple classtup = SearchSysCache1(CLAOID, ObjectIdGetDatum(opclassoid));
    if (!HeapTupleIsValid(classtup))
        elog(ERROR, "cache lookup failed for operator class %u", opclassoid);
    Form_pg_opclass classform = (Form_pg_opclass)GETSTRUCT(classtup);
    Oid opfamilyoid = classform->opcfamily;
    Oid opcintype = classform->opcintype;

    HeapTuple familytup = SearchSysCache1(OPFAMILYOID, ObjectIdGetDatum(opfamilyoid));
    if (!HeapTupleIsValid(familytup))
        elog(ERROR, "cache lookup failed for operator family %u", opfamilyoid);
    char* family = pstrdup(NameStr(((Form_pg_opfamily)GETSTRUCT(familytup))->opfname));
    ReleaseSysCache(familytup);

    LhvVectorFormat format;
    if (!lhv_vector_type_format(opcintype, &format)) {
        lhv_validate_problem(family, "must index real[], lhvector or pgvector's vector");
        valid = false;
    }

    // Operators: exactly one, strategy 1, an ORDER BY operator sorting by float8.
    CatCList* oprlist = SearchSysCacheList1(AMOPSTRATEGY, ObjectIdGetDatum(opfamilyoid));
    int order_operators = 0;
    for (int i = 0; i < oprlist->n_members; i++) {
        Form_pg_amop oprform = (Form_pg_amop)GETSTRUCT(&oprlist->members[i]->tuple);
        if (oprform->amopstrategy != LHV_DISTANCE_STRATEGY) {
            lhv_validate_problem(family, psprintf("has operator %s with invalid strategy %d",
                                                  format_operator(oprform->amopopr),
                                                  oprform->amopstrategy));
            valid = false;
            continue;
        }
        if (oprform->amoppurpose != AMOP_ORDER ||
            !OidIsValid(oprform->amopsortfamily)) {
            lhv_validate_problem(family, psprintf("operator %s must be an ORDER BY operator",
                                                  format_operator(oprform->amopopr)));
            valid = false;
            continue;
        }
        if (!check_amop_signature(oprform->amopopr, FLOAT8OID, oprform->amoplefttype,
                                  oprform->amoprighttype) ||
            oprform->amoplefttype != opcintype || oprform->amoprighttype != opcintype) {
            lhv_validate_problem(family, psprintf("operator %s must be (%s, %s) -> float8",
                                                  format_operator(oprform->amopopr),
                                                  format_type_be(opcintype), format_type_be(opcintype)));
            valid = false;
            continue;
        }
        order_operators++;
    }
    ReleaseSysCacheList(oprlist);
    if (order_operators != 1) {
        lhv_validate_problem(family, "must have exactly one ORDER BY operator with strategy 1");
        valid = false;
    }

    // Support function 1 names the metric: (internal) -> int4.
    CatCList* proclist = SearchSysCacheList1(AMPROCNUM, ObjectIdGetDatum(opfamilyoid));
    int metric_procs = 0;
    for (int i = 0; i < proclist->n_members; i++) {
        Form_pg_amproc procform = (Form_pg_amproc)GETSTRUCT(&proclist->members[i]->tuple);
        if (procform->amprocnum != LHV_METRIC_PROC) {
            lhv_validate_problem(family, psprintf("has function %s with invalid support number %d",
                                                  format_procedure(procform->amproc),
                                                  procform->amprocnum));
            valid = false;
            continue;
        }
        if (!check_amproc_signature(procform->amproc, INT4OID, true, 1, 1, INTERNALOID)) {
            lhv_validate_problem(family, psprintf("function %s must be (internal) -> int4",
                                                  format_procedure(procform->amproc)));
            valid = false;
            continue;
        }
        metric_procs++;
    }
    ReleaseSysCacheList(proclist);
    if (metric_procs != 1) {
        lhv_validate_problem(family, "must have exactly one support function 1 (the metric)");
        valid = false;
    }

    ReleaseSysCache(classtup);
    return valid;
}
