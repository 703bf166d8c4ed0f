// lhv1_import.h: what LHV1 bytes bring into a named index: one row (id,
// vector, metadata) per graph element not marked deleted, checked in full
// before anything is created.
//
// The bytes come from lhv_export (labels are element ids, "labels" maps them
// to ids, "vectors" holds the vectors the graph keeps normalised) or from an
// index saved by stock hnswlib behind a hand-written envelope (no "labels":
// each id is its label in decimal; metadata optional).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lhv1_codec.h"

namespace lhv {

// One row: a graph element not marked deleted.
struct Lhv1ImportRow {
    std::uint32_t element;
    std::string id;          // UTF-8, non-empty, no NUL, unique among the rows
    bool has_metadata;
    std::string metadata;    // JSON text
    const char* vector;      // dimension little-endian floats, not aligned
};

// Decoded and checked LHV1 bytes, ready to import. Points into the bytes it
// was made from, which must outlive it.
struct Lhv1Import {
    GraphParams params;
    std::uint32_t ef_search = 0;
    std::string name;                         // params.name, for information
    const char* graph_bytes = nullptr;        // hnswlib layout, checked
    std::size_t graph_size = 0;
    std::uint32_t elements = 0;               // in the graph, deleted ones included
    std::vector<Lhv1ImportRow> rows;          // in element order
    std::vector<float> stored_vectors;        // from "vectors"; rows point into it
};

// Under Cosine, a vector in "vectors" must point the way the graph's unit
// vector does: 1 - cos(angle) at most this (float rounding is far below).
constexpr double kLhv1DirectionTolerance = 1e-4;

// Decodes LHV1 bytes for an import: the envelope and every byte of the
// graph, then ids (each element not deleted has exactly one, unique), the
// metadata (keyed by ids of rows) and the vectors (Cosine only, each for a
// row's label, pointing the graph vector's way). Throws CorruptSnapshot.
std::unique_ptr<Lhv1Import> decode_lhv1_import(const char* data, std::size_t size);

}  // namespace lhv
