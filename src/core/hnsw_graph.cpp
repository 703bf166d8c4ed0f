// hnsw_graph.cpp: creating a graph, opening views of it, its chunked storage
// (growth, reserve, release) and the raw accessors used by the codec.
//
// The algorithm lives in hnsw_insert.cpp, hnsw_search.cpp, hnsw_repair.cpp.
#include <cmath>
#include <new>
#include <string>

#include "hnsw_graph_impl.h"

namespace lhv {

using namespace layout;

const std::uint32_t HnswGraph::kLockSlots = kLockSlotCount;

namespace {

std::size_t round_up(std::size_t value, std::size_t multiple) {
    return (value + multiple - 1) / multiple * multiple;
}

// Checks params against the limits in hnsw_graph.h.
void validate_params(const GraphParams& params) {
    auto out_of_range = [](const char* name, std::uint64_t value, std::uint64_t low, std::uint64_t high) {
        if (value < low || value > high)
            throw Error(ErrorKind::InvalidParameter, std::string(name) + " must be between " +
                                                         std::to_string(low) + " and " + std::to_string(high) +
                                                         ", got " + std::to_string(value));
    };
    out_of_range("dimension", params.dimension, 1, kMaxDimension);
    out_of_range("m", params.m, kMinM, kMaxM);
    out_of_range("ef_construction", params.ef_construction, kMinEfConstruction, kMaxEfConstruction);
    out_of_range("records_per_chunk", params.records_per_chunk, 0, kMaxRecordsPerChunk);
    if (params.metric != Metric::L2 && params.metric != Metric::InnerProduct && params.metric != Metric::Cosine)
        throw Error(ErrorKind::InvalidParameter, "unknown metric");
}

GraphHeader* resolve_header(ChunkMemory& memory, ChunkHandle handle) {
    auto* header = static_cast<GraphHeader*>(memory.resolve(handle));
    if (header == nullptr || header->magic != kHeaderMagic || header->layout_version != kLayoutVersion)
        throw Error(ErrorKind::Internal, "chunk is not an lhv graph header");
    return header;
}

}  // namespace

ChunkHandle HnswGraph::create(ChunkMemory& memory, const GraphParams& params) {
    validate_params(params);
    ChunkHandle handle = memory.allocate(sizeof(GraphHeader));
    auto* header = new (memory.resolve(handle)) GraphHeader();
    header->magic = kHeaderMagic;
    header->layout_version = kLayoutVersion;
    header->params = params;
    header->params.ef_construction = std::max(params.ef_construction, params.m);
    header->max_m = params.m;
    header->max_m0 = 2 * params.m;
    header->record_bytes = sizeof(std::uint32_t) * (1 + header->max_m0) + sizeof(float) * params.dimension +
                           sizeof(std::uint64_t);
    header->upper_level_bytes = sizeof(std::uint32_t) * (1 + header->max_m);

    std::uint32_t shift = 0;
    if (params.records_per_chunk != 0) {
        while ((std::uint32_t(1) << shift) < params.records_per_chunk) shift++;
    } else {
        while ((std::size_t(2) << shift) * header->record_bytes <= kLevel0ChunkTargetBytes) shift++;
        while ((std::uint32_t(1) << shift) < kMinRecordsPerChunk) shift++;
    }
    header->records_per_chunk_shift = shift;
    std::size_t records = std::size_t(1) << shift;
    header->element_info_offset = round_up(records * header->record_bytes, 64);
    header->level0_chunk_bytes = header->element_info_offset + records * sizeof(ElementInfo);
    header->arena_chunk_bytes =
        std::max<std::size_t>(kMinArenaChunkBytes, round_up(std::size_t(kMaxLevel) * header->upper_level_bytes, 64));
    header->level_mult = 1.0 / std::log(double(params.m));
    header->entry_point = kNoEntryPoint;
    for (ElementList* list : {&header->pending, &header->repairing, &header->free})
        list->head = list->tail = kNoElement;
    header->level_generator.seed(params.random_seed);
    return handle;
}

LockWord* HnswGraph::lock_words(ChunkMemory& memory, ChunkHandle header) {
    return reinterpret_cast<LockWord*>(resolve_header(memory, header)->lock_words);
}

HnswGraph::Impl::Impl(ChunkMemory& memory_in, GraphLocks& locks_in, ChunkHandle header_in)
    : memory(memory_in), locks(locks_in), header_handle(header_in), header(resolve_header(memory_in, header_in)) {
    params = header->params;
    distance = distance_function(params.metric);
    dimension = params.dimension;
    max_m = header->max_m;
    max_m0 = header->max_m0;
    ef_construction = params.ef_construction;
    record_bytes = header->record_bytes;
    upper_level_bytes = header->upper_level_bytes;
    vector_offset = sizeof(std::uint32_t) * (1 + max_m0);
    label_offset = vector_offset + sizeof(float) * dimension;
    element_info_offset = header->element_info_offset;
    chunk_shift = header->records_per_chunk_shift;
    chunk_mask = (std::uint32_t(1) << chunk_shift) - 1;
}

// The address of a level-0 chunk in this process, resolved once.
char* HnswGraph::Impl::level0_chunk(std::uint32_t chunk) {
    char* address = level0_addresses.get(chunk);
    if (address != nullptr) return address;
    ChunkHandle handle = load_acquire(&header->level0_chunks[chunk]);
    if (handle == kInvalidChunk) throw Error(ErrorKind::Internal, "level-0 chunk " + std::to_string(chunk) + " missing");
    check_not_sealed("resolve a level-0 chunk");
    address = static_cast<char*>(memory.resolve(handle));
    level0_addresses.set(chunk, address);
    return address;
}

// The address of an arena chunk in this process, resolved once.
char* HnswGraph::Impl::arena_chunk(std::uint32_t chunk) {
    char* address = arena_addresses.get(chunk);
    if (address != nullptr) return address;
    ChunkHandle handle = load_acquire(&header->arena_chunks[chunk]);
    if (handle == kInvalidChunk) throw Error(ErrorKind::Internal, "arena chunk " + std::to_string(chunk) + " missing");
    check_not_sealed("resolve an arena chunk");
    address = static_cast<char*>(memory.resolve(handle));
    arena_addresses.set(chunk, address);
    return address;
}

std::uint32_t HnswGraph::Impl::copy_list(std::uint32_t id, int level_number, std::uint32_t* out) {
    std::uint32_t* words = list(id, level_number);
    SlotGuard guard(locks, stripe_slot(id));
    std::uint32_t count = load_relaxed(words) & kCountMask;
    count = std::min(count, max_links(level_number));
    std::memcpy(out, words + 1, count * sizeof(std::uint32_t));
    return count;
}

void HnswGraph::Impl::write_list(std::uint32_t id, int level_number, const std::uint32_t* ids, std::uint32_t count) {
    std::uint32_t* words = list(id, level_number);
    std::memcpy(words + 1, ids, count * sizeof(std::uint32_t));
    // Keep the flag bits (mark_deleted may set them at any time).
    std::uint32_t old_word = load_relaxed(words);
    while (!__atomic_compare_exchange_n(words, &old_word, (old_word & ~kCountMask) | count, true, __ATOMIC_RELEASE,
                                        __ATOMIC_RELAXED)) {
    }
}

void HnswGraph::Impl::check_not_sealed(const char* what) const {
    if (sealed.load(std::memory_order_relaxed))
        throw Error(ErrorKind::Internal, std::string("a sealed graph view would call its memory provider to ") + what +
                                             ": the graph outgrew what reserve() made room for");
}

void HnswGraph::Impl::grow_level0(std::uint32_t elements) {
    std::uint32_t chunks = load_relaxed(&header->level0_chunk_count);
    std::uint64_t needed = (std::uint64_t(elements) + chunk_mask) >> chunk_shift;
    if (needed > kMaxLevel0Chunks)
        throw Error(ErrorKind::CapacityExceeded, "graph is full: at most " +
                                                     std::to_string(std::uint64_t(kMaxLevel0Chunks) << chunk_shift) +
                                                     " elements of this size");
    while (chunks < needed) {
        check_not_sealed("allocate a level-0 chunk");
        ChunkHandle handle = memory.allocate(header->level0_chunk_bytes);
        store_release(&header->level0_chunks[chunks], handle);
        chunks++;
        store_release(&header->level0_chunk_count, chunks);
    }
}

void HnswGraph::Impl::grow_arena() {
    std::uint32_t chunks = load_relaxed(&header->arena_chunk_count);
    if (chunks >= kMaxArenaChunks)
        throw Error(ErrorKind::CapacityExceeded, "graph is full: upper-level arena has no room");
    check_not_sealed("allocate an arena chunk");
    ChunkHandle handle = memory.allocate(header->arena_chunk_bytes);
    store_release(&header->arena_chunks[chunks], handle);
    store_release(&header->arena_chunk_count, chunks + 1);
}

void HnswGraph::Impl::allocate_upper(std::size_t bytes, std::uint32_t* chunk, std::uint32_t* offset) {
    std::uint32_t chunks = load_relaxed(&header->arena_chunk_count);
    std::uint32_t current = header->arena_current;
    std::uint64_t used = header->arena_offset;
    if (chunks == 0 || used + bytes > header->arena_chunk_bytes) {
        std::uint32_t next = chunks == 0 ? 0 : current + 1;
        if (next >= chunks) grow_arena();
        current = next;
        used = 0;
    }
    *chunk = current;
    *offset = static_cast<std::uint32_t>(used);
    header->arena_current = current;
    header->arena_offset = used + bytes;
}

// Makes room for the next id and assigns it; nothing is changed if this
// throws. The id stays unpublished until publish().
std::uint32_t HnswGraph::Impl::claim_id(int level_number) {
    std::uint32_t id = load_relaxed(&header->claimed_count);
    if (id == UINT32_MAX) throw Error(ErrorKind::CapacityExceeded, "graph is full: 2^32-1 elements");
    grow_level0(id + 1);
    ElementInfo element{static_cast<std::int16_t>(level_number), 0, 0, 0, kNoElement};
    if (level_number > 0)
        allocate_upper(std::size_t(level_number) * upper_level_bytes, &element.arena_chunk, &element.arena_offset);
    *info(id) = element;
    store_release(&header->claimed_count, id + 1);
    return id;
}

// Under the growth lock, so the states and the watermark change in one
// order: whichever of two neighbouring ids finishes last moves the watermark
// over both. The release store pairs with size()'s acquire load, and the
// lock orders this insert's writes before any later publisher's store, so a
// reader that sees the watermark past an id sees all of that id's writes.
void HnswGraph::Impl::publish(std::uint32_t id) {
    SlotGuard guard(locks, kGrowthSlot);
    info(id)->state = kElementComplete;
    std::uint32_t watermark = load_relaxed(&header->element_count);
    const std::uint32_t claimed_ids = load_relaxed(&header->claimed_count);
    while (watermark < claimed_ids && info(watermark)->state == kElementComplete) watermark++;
    store_release(&header->element_count, watermark);
}

void HnswGraph::Impl::list_push(ElementList& list, std::uint32_t id) {
    info(id)->next_free = list.head;
    list.head = id;
    if (list.tail == kNoElement) list.tail = id;
    store_release(&list.count, list.count + 1);
}

std::uint32_t HnswGraph::Impl::list_pop(ElementList& list) {
    std::uint32_t id = list.head;
    if (id == kNoElement) return kNoElement;
    list.head = info(id)->next_free;
    if (list.head == kNoElement) list.tail = kNoElement;
    info(id)->next_free = kNoElement;
    store_release(&list.count, list.count - 1);
    return id;
}

void HnswGraph::Impl::list_move_all(ElementList& from, ElementList& to) {
    if (from.head == kNoElement) return;
    info(from.tail)->next_free = to.head;
    if (to.tail == kNoElement) to.tail = from.tail;
    to.head = from.head;
    store_release(&to.count, to.count + from.count);
    from.head = from.tail = kNoElement;
    store_release(&from.count, std::uint32_t{0});
}

HnswGraph::HnswGraph(ChunkMemory& memory, GraphLocks& locks, ChunkHandle header)
    : impl_(std::make_unique<Impl>(memory, locks, header)) {}

HnswGraph::~HnswGraph() = default;

const GraphParams& HnswGraph::params() const noexcept { return impl_->params; }
std::uint32_t HnswGraph::max_m0() const noexcept { return impl_->max_m0; }
std::size_t HnswGraph::record_bytes() const noexcept { return impl_->record_bytes; }
std::size_t HnswGraph::upper_level_bytes() const noexcept { return impl_->upper_level_bytes; }
std::uint32_t HnswGraph::size() const noexcept { return impl_->size(); }
std::uint32_t HnswGraph::deleted_count() const noexcept { return load_acquire(&impl_->header->deleted_count); }
std::uint32_t HnswGraph::free_count() const noexcept { return load_acquire(&impl_->header->free.count); }
std::uint32_t HnswGraph::unrepaired_count() const noexcept {
    return load_acquire(&impl_->header->pending.count) + load_acquire(&impl_->header->repairing.count);
}

std::uint32_t HnswGraph::capacity() const noexcept {
    std::uint64_t records = std::uint64_t(load_acquire(&impl_->header->level0_chunk_count)) << impl_->chunk_shift;
    return static_cast<std::uint32_t>(std::min<std::uint64_t>(records, UINT32_MAX));
}

void HnswGraph::reserve(std::uint32_t elements) {
    Impl& g = *impl_;
    GraphHeader* header = g.header;
    {
        SlotGuard guard(g.locks, kGrowthSlot);
        g.grow_level0(elements);
        // The upper-level bytes of the next ids are known: replay the level
        // draws their add() calls will make, and the arena's packing of them.
        std::default_random_engine generator = header->level_generator;
        std::uint32_t chunks = load_relaxed(&header->arena_chunk_count);
        std::uint32_t current = header->arena_current;
        std::uint64_t used = header->arena_offset;
        for (std::uint32_t id = load_relaxed(&header->claimed_count); id < elements; id++) {
            int level_number = Impl::draw_level(generator, header->level_mult);
            if (level_number == 0) continue;
            std::size_t bytes = std::size_t(level_number) * g.upper_level_bytes;
            if (chunks == 0 || used + bytes > header->arena_chunk_bytes) {
                std::uint32_t next = chunks == 0 ? 0 : current + 1;
                if (next >= chunks) chunks = next + 1;
                current = next;
                used = 0;
            }
            used += bytes;
        }
        if (chunks > kMaxArenaChunks)
            throw Error(ErrorKind::CapacityExceeded, "graph is full: upper-level arena has no room");
        while (load_relaxed(&header->arena_chunk_count) < chunks) g.grow_arena();
    }
    for (std::uint32_t c = 0; c < load_acquire(&header->level0_chunk_count); c++) g.level0_chunk(c);
    for (std::uint32_t c = 0; c < load_acquire(&header->arena_chunk_count); c++) g.arena_chunk(c);
}

void HnswGraph::seal() noexcept { impl_->sealed.store(true); }

namespace {

void check_id(std::uint32_t size, std::uint32_t id) {
    if (id >= size)
        throw Error(ErrorKind::InvalidParameter,
                    "element id " + std::to_string(id) + " out of range (size " + std::to_string(size) + ")");
}

}  // namespace

std::uint64_t HnswGraph::label(std::uint32_t id) const {
    check_id(impl_->size(), id);
    return impl_->label(id);
}

const float* HnswGraph::vector(std::uint32_t id) const {
    check_id(impl_->size(), id);
    return impl_->vector(id);
}

int HnswGraph::level(std::uint32_t id) const {
    check_id(impl_->size(), id);
    return impl_->level(id);
}

std::int64_t HnswGraph::entry_point() const noexcept {
    std::uint64_t packed = load_acquire(&impl_->header->entry_point);
    return packed == kNoEntryPoint ? -1 : std::int64_t(entry_id(packed));
}

int HnswGraph::max_level() const noexcept {
    std::uint64_t packed = load_acquire(&impl_->header->entry_point);
    return packed == kNoEntryPoint ? -1 : entry_level(packed);
}

std::size_t HnswGraph::memory_bytes() const noexcept {
    const GraphHeader* header = impl_->header;
    return sizeof(GraphHeader) + std::size_t(load_acquire(&header->level0_chunk_count)) * header->level0_chunk_bytes +
           std::size_t(load_acquire(&header->arena_chunk_count)) * header->arena_chunk_bytes;
}

std::size_t HnswGraph::view_bytes() noexcept {
    Impl& g = *impl_;
    return sizeof(HnswGraph) + sizeof(Impl) + g.level0_addresses.bytes() + g.arena_addresses.bytes() +
           g.visited_pool.bytes();
}

void HnswGraph::destroy() noexcept {
    Impl& g = *impl_;
    GraphHeader* header = g.header;
    for (std::uint32_t c = 0; c < header->arena_chunk_count; c++) g.memory.release(header->arena_chunks[c]);
    for (std::uint32_t c = 0; c < header->level0_chunk_count; c++) g.memory.release(header->level0_chunks[c]);
    g.level0_addresses.clear();
    g.arena_addresses.clear();
    g.header = nullptr;
    g.memory.release(g.header_handle);
}

const char* HnswGraph::record(std::uint32_t id) const {
    check_id(impl_->size(), id);
    return impl_->record(id);
}

const char* HnswGraph::upper_links(std::uint32_t id) const {
    check_id(impl_->size(), id);
    if (impl_->level(id) == 0) return nullptr;
    return reinterpret_cast<const char*>(impl_->list(id, 1));
}

// Copies a saved element in as is, after checking what would make later
// searches misbehave: its level and the counts of its lists.
std::uint32_t HnswGraph::append_raw(const char* record_data, int level_number, const char* upper_links_data) {
    Impl& g = *impl_;
    if (level_number < 0 || level_number > kMaxLevel)
        throw Error(ErrorKind::CorruptSnapshot, "element level " + std::to_string(level_number) + " is out of range");
    if (level_number > 0 && upper_links_data == nullptr)
        throw Error(ErrorKind::CorruptSnapshot, "element of level " + std::to_string(level_number) + " has no upper links");
    std::uint32_t word;
    std::memcpy(&word, record_data, sizeof(word));
    if ((word & kCountMask) > g.max_m0)
        throw Error(ErrorKind::CorruptSnapshot, "level-0 neighbour count " + std::to_string(word & kCountMask) +
                                                    " exceeds maxM0 " + std::to_string(g.max_m0));
    for (int l = 0; l < level_number; l++) {
        std::memcpy(&word, upper_links_data + std::size_t(l) * g.upper_level_bytes, sizeof(word));
        if ((word & kCountMask) > g.max_m)
            throw Error(ErrorKind::CorruptSnapshot, "upper-level neighbour count " + std::to_string(word & kCountMask) +
                                                        " exceeds maxM " + std::to_string(g.max_m));
    }
    std::uint32_t id;
    {
        SlotGuard guard(g.locks, kGrowthSlot);
        id = g.claim_id(level_number);
    }
    std::memcpy(g.record(id), record_data, g.record_bytes);
    if (level_number > 0)
        std::memcpy(g.list(id, 1), upper_links_data, std::size_t(level_number) * g.upper_level_bytes);
    g.publish(id);
    if (g.deleted(id)) {
        fetch_add(&g.header->deleted_count, std::uint32_t{1});
        SlotGuard guard(g.locks, kGrowthSlot);
        g.list_push(g.header->pending, id);  // a snapshot may predate the repair of its deletes
    }
    return id;
}

void HnswGraph::set_entry_point(std::uint32_t id, int level_number) {
    Impl& g = *impl_;
    if (id >= g.size())
        throw Error(ErrorKind::CorruptSnapshot, "entry point " + std::to_string(id) + " is not an element");
    if (level_number != g.level(id))
        throw Error(ErrorKind::CorruptSnapshot, "max level " + std::to_string(level_number) +
                                                    " differs from the entry point's level " +
                                                    std::to_string(g.level(id)));
    store_release(&g.header->entry_point, pack_entry(id, level_number));
}

}  // namespace lhv
