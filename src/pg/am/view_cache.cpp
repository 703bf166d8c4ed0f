// view_cache.cpp: this backend's cache of graph views (view_cache.h): one
// view per index it used, swept when the registry says their graphs are gone.
extern "C" {
#include "postgres.h"

#include "access/xact.h"
}

#include <memory>
#include <unordered_map>
#include <vector>

#include "am/view_cache.h"
#include "core/locks.h"
#include "guard.h"
#include "shmem/dsa_memory.h"

using lhv::pg::RegistryEntry;
using lhv::pg::RegistryGraphKey;

namespace {

// One view and the locks it reads through.
struct CachedView {
    RegistryGraphKey key;
    std::unique_ptr<lhv::AtomicGraphLocks> locks;
    std::unique_ptr<lhv::HnswGraph> graph;
};

// Current views by registry slot; views swept in this transaction; and the
// registry's change counter when the views were last checked.
std::unordered_map<int, CachedView>* views = nullptr;
std::vector<CachedView>* retired = nullptr;
uint64 checked_changes = 0;

// Makes the containers on first use (never freed: they live as long as the backend).
void ensure_containers()
{
    if (views == nullptr) {
        views = new std::unordered_map<int, CachedView>();
        retired = new std::vector<CachedView>();
    }
}

// Retires every view whose graph the registry no longer holds, if the
// registry changed since the last check. With `locked`, checks under the
// registry lock (may throw); otherwise reads the slots without it (never
// throws; see registry_still_hold_unlocked).
void sweep(bool locked)
{
    if (views == nullptr || views->empty())
        return;
    const uint64 changes = lhv::pg::registry_changes();
    if (changes == checked_changes)
        return;
    std::vector<RegistryGraphKey> keys;
    keys.reserve(views->size());
    for (const auto& item : *views)
        keys.push_back(item.second.key);
    std::unique_ptr<bool[]> held(new bool[keys.size()]);
    if (locked)
        lhv::pg::registry_still_hold(keys.data(), int(keys.size()), held.get());
    else
        lhv::pg::registry_still_hold_unlocked(keys.data(), int(keys.size()), held.get());
    retired->reserve(retired->size() + keys.size());
    for (std::size_t k = 0; k < keys.size(); k++) {
        if (held[k])
            continue;
        auto found = views->find(keys[k].slot);
        retired->push_back(std::move(found->second));
        views->erase(found);
    }
    checked_changes = changes;
}

// At the end of each top-level transaction, when no scan holds a view any
// more (the portals are gone): sweeps without a lock, and frees what was
// retired. Never throws (a failed sweep waits for the next one).
void at_transaction_end(XactEvent event, void*)
{
    if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT && event != XACT_EVENT_PARALLEL_COMMIT &&
        event != XACT_EVENT_PARALLEL_ABORT)
        return;
    if (views == nullptr)
        return;
    try {
        sweep(false);
    } catch (const std::exception&) {
    }
    retired->clear();
}

}  // namespace

lhv::HnswGraph* lhv_graph_view(const RegistryEntry& entry)
{
    ensure_containers();
    sweep(true);
    auto found = views->find(entry.slot);
    if (found != views->end()) {
        const RegistryGraphKey& key = found->second.key;
        if (key.generation == entry.generation && key.graph == entry.graph)
            return found->second.graph.get();
        retired->push_back(std::move(found->second));  // replaced: a scan may still hold it
        views->erase(found);
    }
    if (!DsaPointerIsValid(entry.graph))
        return nullptr;

    lhv::pg::DsaChunkMemory& memory = lhv::pg::dsa_memory();
    CachedView view;
    view.key.slot = entry.slot;
    view.key.generation = entry.generation;
    view.key.graph = entry.graph;
    view.locks = std::make_unique<lhv::AtomicGraphLocks>(lhv::HnswGraph::lock_words(memory, entry.graph));
    view.graph = std::make_unique<lhv::HnswGraph>(memory, *view.locks, entry.graph);
    lhv::HnswGraph* graph = view.graph.get();
    (*views)[entry.slot] = std::move(view);
    return graph;
}

LhvViewCacheStats lhv_view_cache_stats()
{
    LhvViewCacheStats stats;
    if (views == nullptr)
        return stats;
    sweep(true);
    stats.views = int(views->size());
    stats.retired = int(retired->size());
    for (auto& item : *views)
        stats.view_bytes += item.second.graph->view_bytes() + sizeof(lhv::AtomicGraphLocks);
    for (CachedView& view : *retired)
        stats.view_bytes += view.graph->view_bytes() + sizeof(lhv::AtomicGraphLocks);
    return stats;
}

void lhv_view_cache_init()
{
    RegisterXactCallback(at_transaction_end, nullptr);
}
