// lifecycle.cpp: graphs follow their transactions and their indexes.
//
// Shared memory is not transactional, so this backend keeps a short list of
// what its transaction did to the registry and settles it at the end:
//   - a slot claimed for a build (CREATE INDEX, REINDEX, TRUNCATE, a rebuild
//     after restart) is freed if the (sub)transaction aborts;
//   - DROP of an lhv index (directly, or through DROP TABLE / DROP EXTENSION)
//     and DROP DATABASE free the graphs once the transaction commits, since a
//     rolled-back DROP leaves the index in place; the index's snapshot rows
//     are deleted in the DROP's own transaction.
extern "C" {
#include "postgres.h"

#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_class.h"
#include "catalog/pg_database.h"
#include "commands/defrem.h"
#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "access/htup_details.h"
#include "access/genam.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"
}

#include "guard.h"
#include "shmem/dsa_memory.h"
#include "shmem/lifecycle.h"
#include "storage/metapage.h"
#include "storage/snapshot_store.h"

using lhv::pg::RegistryEntry;

namespace {

enum class ActionKind : uint8 { FreeOnAbort, DropIndexOnCommit, DropDatabaseOnCommit };

// One thing to settle at the end of the transaction. Plain data: the list
// lives in TopMemoryContext.
struct PendingAction {
    ActionKind kind;
    SubTransactionId subxact;  // the subtransaction that did it
    RegistryEntry entry;       // FreeOnAbort: the claimed slot
    Oid database;              // Drop*: what to free
    Oid index;
};

PendingAction* pending = nullptr;
int pending_count = 0;
int pending_capacity = 0;
object_access_hook_type previous_object_access_hook = nullptr;

// Appends an action to the list.
void add_action(const PendingAction& action)
{
    if (pending_count == pending_capacity) {
        int capacity = pending_capacity == 0 ? 16 : pending_capacity * 2;
        pending = static_cast<PendingAction*>(
            pending == nullptr
                ? MemoryContextAlloc(TopMemoryContext, sizeof(PendingAction) * capacity)
                : repalloc(pending, sizeof(PendingAction) * capacity));
        pending_capacity = capacity;
    }
    pending[pending_count++] = action;
}

// Removes action i (order does not matter).
void remove_action(int i)
{
    pending[i] = pending[--pending_count];
}

// Runs one registry change at transaction end, where an ERROR is not allowed:
// a failure becomes a WARNING.
template <typename F>
void settle(F&& change)
{
    char message[512];
    message[0] = '\0';
    try {
        change();
    } catch (const std::exception& e) {
        strlcpy(message, e.what(), sizeof(message));
    }
    if (message[0] != '\0')
        ereport(WARNING, (errmsg("lhv: could not free a graph at transaction end: %s", message)));
}

// Carries out the action, for commit (drops) or abort (claims).
void carry_out(const PendingAction& action)
{
    switch (action.kind) {
        case ActionKind::FreeOnAbort:
            settle([&] { lhv::pg::registry_remove_entry(action.entry); });
            break;
        case ActionKind::DropIndexOnCommit:
            settle([&] { lhv::pg::registry_remove(action.database, action.index); });
            break;
        case ActionKind::DropDatabaseOnCommit:
            settle([&] { lhv::pg::registry_remove_all_for_database(action.database); });
            break;
    }
}

// Settles the list when the top-level transaction ends.
void lhv_xact_callback(XactEvent event, void*)
{
    switch (event) {
        case XACT_EVENT_PRE_PREPARE:
            if (pending_count > 0)
                ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                                errmsg("cannot PREPARE a transaction that built or dropped an lhv index")));
            break;
        case XACT_EVENT_COMMIT:
        case XACT_EVENT_PARALLEL_COMMIT:
            for (int i = 0; i < pending_count; i++)
                if (pending[i].kind != ActionKind::FreeOnAbort)
                    carry_out(pending[i]);
            pending_count = 0;
            break;
        case XACT_EVENT_ABORT:
        case XACT_EVENT_PARALLEL_ABORT:
            // DSA is usable again once the abort released its locks: free
            // what an error left first, then each graph through its header.
            lhv::pg::release_deferred_frees();
            for (int i = 0; i < pending_count; i++)
                if (pending[i].kind == ActionKind::FreeOnAbort)
                    carry_out(pending[i]);
            pending_count = 0;
            break;
        default:
            break;
    }
}

// Settles what a subtransaction did when it ends.
void lhv_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
                          SubTransactionId parentSubid, void*)
{
    if (event == SUBXACT_EVENT_COMMIT_SUB) {
        for (int i = 0; i < pending_count; i++)
            if (pending[i].subxact == mySubid)
                pending[i].subxact = parentSubid;
    } else if (event == SUBXACT_EVENT_ABORT_SUB) {
        lhv::pg::release_deferred_frees();  // as at a top-level abort
        for (int i = pending_count - 1; i >= 0; i--) {
            if (pending[i].subxact != mySubid)
                continue;
            if (pending[i].kind == ActionKind::FreeOnAbort)
                carry_out(pending[i]);
            remove_action(i);
        }
    }
}

// True if relation `relid` is an index of the lhv access method.
bool is_lhv_index(Oid relid)
{
    HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
    if (!HeapTupleIsValid(tuple))
        return false;
    Form_pg_class form = (Form_pg_class)GETSTRUCT(tuple);
    bool is_index = form->relkind == RELKIND_INDEX && OidIsValid(form->relam) &&
                    form->relam == get_index_am_oid("lhv", true);
    ReleaseSysCache(tuple);
    return is_index;
}

// Deletes the snapshots of an index being dropped, in the DROP's transaction
// (a rolled-back DROP keeps them). Keyed by the log identity in its metapage.
void forget_snapshots(Oid relid)
{
    Relation index = index_open(relid, AccessExclusiveLock);
    if (index->rd_rel->relpersistence != RELPERSISTENCE_TEMP && RelationGetNumberOfBlocks(index) > 0) {
        LhvMetaPageData meta = lhv_meta_read(index);
        lhv_snapshot_forget(meta.log_id);
    }
    index_close(index, NoLock);
}

// Notes DROPs of lhv indexes and of databases, to free graphs at commit.
void lhv_object_access(ObjectAccessType access, Oid classId, Oid objectId, int subId, void* arg)
{
    if (previous_object_access_hook)
        previous_object_access_hook(access, classId, objectId, subId, arg);
    if (access != OAT_DROP)
        return;

    PendingAction action{};
    action.subxact = GetCurrentSubTransactionId();
    if (classId == RelationRelationId && subId == 0 && is_lhv_index(objectId)) {
        action.kind = ActionKind::DropIndexOnCommit;
        action.database = MyDatabaseId;
        action.index = objectId;
        add_action(action);
        // DROP INDEX CONCURRENTLY must not write before its first commit:
        // its snapshot rows are left to the next snapshot's clean-up.
        const ObjectAccessDrop* drop = static_cast<const ObjectAccessDrop*>(arg);
        if (drop == nullptr || !(drop->dropflags & PERFORM_DELETION_CONCURRENTLY))
            forget_snapshots(objectId);
    } else if (classId == DatabaseRelationId) {
        action.kind = ActionKind::DropDatabaseOnCommit;
        action.database = objectId;
        add_action(action);
    }
}

}  // namespace

void lhv_lifecycle_init(void)
{
    RegisterXactCallback(lhv_xact_callback, NULL);
    RegisterSubXactCallback(lhv_subxact_callback, NULL);
    previous_object_access_hook = object_access_hook;
    object_access_hook = lhv_object_access;
}

void lhv_lifecycle_track_claim(const RegistryEntry& entry)
{
    PendingAction action{};
    action.kind = ActionKind::FreeOnAbort;
    action.subxact = GetCurrentSubTransactionId();
    action.entry = entry;
    add_action(action);
}

void lhv_lifecycle_untrack_claim(const RegistryEntry& entry)
{
    for (int i = pending_count - 1; i >= 0; i--)
        if (pending[i].kind == ActionKind::FreeOnAbort && pending[i].entry.slot == entry.slot &&
            pending[i].entry.generation == entry.generation)
            remove_action(i);
}
