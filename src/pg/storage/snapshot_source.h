// snapshot_source.h: an LHV1 snapshot in lhv_snapshot read as the decoder
// asks for it, slice by slice from TOAST, so that loading a graph copies each
// byte once from the table's buffers into the decoder's view and once into
// the graph: no detoasted part, no joined snapshot.
//
// A C++ class used inside lhv_guard: its PostgreSQL calls go through pg_call.
#pragma once

extern "C" {
#include "postgres.h"

#include "storage/bufmgr.h"
}

#include "core/lhv1_codec.h"
#include "storage/snapshot_store.h"

namespace lhv::pg {

class SnapshotSource final : public lhv::ByteSource {
public:
    // Reads the parts of `ref`, viewing them through `buffer`, a palloc'd
    // block of lhv::kMaxSourceView bytes, and reading TOAST pages through
    // `strategy` (a ring, e.g. BAS_BULKREAD); the caller frees both.
    SnapshotSource(const LhvSnapshotRef& ref, char* buffer, BufferAccessStrategy strategy);

    std::size_t size() const override { return ref_.total; }
    const char* view(std::size_t offset, std::size_t length) override;

private:
    // Copies `length` bytes at `offset` of part `part` to `into`.
    void read_part(int part, Size offset, Size length, char* into);

    const LhvSnapshotRef& ref_;
    char* buffer_;
    BufferAccessStrategy strategy_;
    int part_ = 0;   // the part the last view started in
    Size part_start_ = 0;
};

}  // namespace lhv::pg
