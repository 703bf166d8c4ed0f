// named_import_graph.cpp: the graph lhv_import offers to the build of its
// new index, and its adoption by that build (named_import.h).
extern "C" {
#include "postgres.h"

#include "utils/memutils.h"
#include "utils/rel.h"
}

#include "am/index_graph.h"
#include "api/named_import.h"
#include "guard.h"
#include "shmem/dsa_memory.h"
#include "shmem/registry.h"

namespace {

// The offer of this backend, if any.
const LhvImportOffer* pending_offer = nullptr;

// Withdraws offer `arg` when the memory it lives in goes away.
void withdraw_on_reset(void* arg)
{
    if (pending_offer == arg)
        pending_offer = nullptr;
}

}  // namespace

void lhv_import_offer(const LhvImportOffer* offer, MemoryContext owner)
{
    MemoryContextCallback* callback =
        static_cast<MemoryContextCallback*>(MemoryContextAlloc(owner, sizeof(MemoryContextCallback)));
    callback->func = withdraw_on_reset;
    callback->arg = const_cast<LhvImportOffer*>(offer);
    MemoryContextRegisterResetCallback(owner, callback);
    pending_offer = offer;
}

void lhv_import_withdraw(void)
{
    pending_offer = nullptr;
}

bool lhv_import_adopt(Relation heap, Relation index, double* heap_tuples, double* index_tuples)
{
    const LhvImportOffer* offer = pending_offer;
    if (offer == nullptr || offer->table != RelationGetRelid(heap))
        return false;
    pending_offer = nullptr;  // one build takes it

    lhv::GraphParams params = lhv_index_params(index, int(offer->params.dimension));
    if (params.m != offer->params.m || params.ef_construction != offer->params.ef_construction ||
        params.metric != offer->params.metric)
        elog(ERROR, "lhv: the imported graph's parameters differ from those of index \"%s\"",
             RelationGetRelationName(index));

    lhv::pg::RegistryEntry entry;
    if (!lhv_graph_claim(index, true, &entry))
        elog(ERROR, "lhv: could not claim a registry slot for index \"%s\"", RelationGetRelationName(index));
    dsa_pointer header = lhv::pg::lhv_guard([&] {
        lhv::pg::DsaChunkMemory& memory = lhv::pg::dsa_memory();
        // Checked again: the bytes are the caller's, and this is cheap next to the copy.
        lhv::HnswlibGraphBytes bytes(offer->graph_bytes, offer->graph_size, offer->params);
        lhv::ChunkHandle handle = bytes.load(memory, offer->rewrite);
        // Recorded at once, so that an abort frees it with the slot.
        if (!lhv::pg::registry_update(entry, handle, 0, lhv::pg::SlotState::Loading)) {
            lhv::AtomicGraphLocks locks(lhv::HnswGraph::lock_words(memory, handle));
            lhv::HnswGraph(memory, locks, handle).destroy();
            throw lhv::Error(lhv::ErrorKind::Internal, "lhv: registry slot vanished during an import");
        }
        return dsa_pointer(handle);
    });
    lhv_graph_publish(entry, header, true);
    *heap_tuples = double(offer->rows);
    *index_tuples = double(offer->rows);
    return true;
}
