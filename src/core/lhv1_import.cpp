// lhv1_import.cpp: LHV1 bytes decoded into the rows of a named index
// (decode_lhv1_import): which elements become rows, under which ids, with
// which metadata and vectors, and every way the bytes can disagree with
// themselves.
#include <cmath>
#include <cstring>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "errors.h"
#include "lhv1_import.h"

namespace lhv {
namespace {

[[noreturn]] void malformed(const std::string& what) {
    throw Error(ErrorKind::CorruptSnapshot, "LHV1 import: " + what);
}

// An id for messages: at most 40 bytes, in quotes.
std::string quoted(const std::string& id) {
    return "\"" + (id.size() <= 40 ? id : id.substr(0, 40) + "...") + "\"";
}

// Checks the graph bytes, turning their error into one that says where they start.
std::unique_ptr<HnswlibGraphBytes> check_graph(const char* data, std::size_t size, std::size_t offset,
                                               const GraphParams& params) {
    try {
        return std::make_unique<HnswlibGraphBytes>(data + offset, size - offset, params);
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::CorruptSnapshot) throw;
        throw Error(ErrorKind::CorruptSnapshot, "LHV1 snapshot: graph bytes (from byte " + std::to_string(offset) +
                                                    "; offsets below are relative): " + e.what());
    }
}

// Whether `stored` (dimension floats) points the way the unit vector at `unit` does.
bool same_direction(const float* stored, const char* unit, std::uint32_t dimension) {
    double dot = 0, norm2 = 0;
    for (std::uint32_t j = 0; j < dimension; j++) {
        float u;
        std::memcpy(&u, unit + 4 * std::size_t{j}, sizeof u);
        dot += double(stored[j]) * u;
        norm2 += double(stored[j]) * stored[j];
    }
    return norm2 > 0 && 1 - dot / std::sqrt(norm2) <= kLhv1DirectionTolerance;
}

// The rows: one per element not marked deleted, with its id from "labels"
// (which must name exactly those elements) or its label in decimal.
void plan_rows(const Lhv1Envelope& envelope, const HnswlibGraphBytes& graph, Lhv1Import* import,
               std::unordered_map<std::string, std::size_t>* row_of_id,
               std::unordered_map<std::uint64_t, std::size_t>* row_of_label) {
    std::unordered_map<std::uint64_t, std::size_t> entry_of_label;
    for (std::size_t i = 0; i < envelope.labels.size(); i++)
        if (!entry_of_label.emplace(envelope.labels[i].label, i).second)
            malformed("\"labels\" names graph label " + std::to_string(envelope.labels[i].label) + " twice");
    std::vector<bool> entry_used(envelope.labels.size(), false);

    for (std::uint32_t e = 0; e < graph.size(); e++) {
        if (graph.is_deleted(e)) continue;
        const std::uint64_t label = graph.label(e);
        std::string id;
        if (envelope.has_labels) {
            const auto entry = entry_of_label.find(label);
            if (entry == entry_of_label.end())
                malformed("element " + std::to_string(e) + " (graph label " + std::to_string(label) +
                          ") is not deleted, but \"labels\" gives it no id");
            entry_used[entry->second] = true;
            id = envelope.labels[entry->second].id;
        } else {
            id = std::to_string(label);
        }
        if (id.find('\0') != std::string::npos)
            malformed("the id of graph label " + std::to_string(label) + " contains a NUL character");
        const auto inserted = row_of_id->emplace(id, import->rows.size());
        if (!inserted.second)
            malformed("id " + quoted(id) + " belongs to two elements, " +
                      std::to_string(import->rows[inserted.first->second].element) + " and " + std::to_string(e));
        row_of_label->emplace(label, import->rows.size());
        import->rows.push_back(Lhv1ImportRow{e, std::move(id), false, std::string(), graph.vector_bytes(e)});
    }
    for (std::size_t i = 0; i < envelope.labels.size(); i++)
        if (!entry_used[i])
            malformed("\"labels\" names graph label " + std::to_string(envelope.labels[i].label) +
                      ", which is no element of the graph that is not deleted");
}

// Attaches "metadata" (id -> JSON) to the rows.
void plan_metadata(const Lhv1Envelope& envelope, Lhv1Import* import,
                   const std::unordered_map<std::string, std::size_t>& row_of_id) {
    for (auto& entry : lhv1_metadata_entries(envelope.metadata_json)) {
        const auto row = row_of_id.find(entry.first);
        if (row == row_of_id.end())
            malformed("\"metadata\" names id " + quoted(entry.first) + ", which no element of the graph has");
        import->rows[row->second].has_metadata = true;
        import->rows[row->second].metadata = std::move(entry.second);
    }
}

// Points rows at their vectors from "vectors" (Cosine only).
void plan_vectors(Lhv1Envelope& envelope, Lhv1Import* import,
                  const std::unordered_map<std::uint64_t, std::size_t>& row_of_label) {
    if (envelope.vector_labels.empty()) return;
    if (import->params.metric != Metric::Cosine)
        malformed("\"vectors\" is only for cosine graphs (l2 and ip graphs hold the vectors as stored)");
    import->stored_vectors = std::move(envelope.vector_values);
    const std::uint32_t dimension = import->params.dimension;
    for (std::size_t i = 0; i < envelope.vector_labels.size(); i++) {
        const std::uint64_t label = envelope.vector_labels[i];
        const auto row = row_of_label.find(label);
        if (row == row_of_label.end())
            malformed("\"vectors\" names graph label " + std::to_string(label) +
                      ", which is no element of the graph that is not deleted");
        Lhv1ImportRow& target = import->rows[row->second];
        const float* stored = import->stored_vectors.data() + i * std::size_t{dimension};
        if (!same_direction(stored, target.vector, dimension))
            malformed("the vector of graph label " + std::to_string(label) +
                      " in \"vectors\" does not point the way the graph's unit vector does");
        target.vector = reinterpret_cast<const char*>(stored);
    }
}

}  // namespace

std::unique_ptr<Lhv1Import> decode_lhv1_import(const char* data, std::size_t size) {
    auto import = std::make_unique<Lhv1Import>();
    std::size_t offset = 0;
    Lhv1Envelope envelope = decode_lhv1_envelope(data, size, &offset);
    import->params = envelope.params;
    import->ef_search = envelope.ef_search;
    import->name = envelope.name;
    import->graph_bytes = data + offset;
    import->graph_size = size - offset;
    const std::unique_ptr<HnswlibGraphBytes> graph = check_graph(data, size, offset, import->params);
    import->elements = graph->size();

    std::unordered_map<std::string, std::size_t> row_of_id;
    std::unordered_map<std::uint64_t, std::size_t> row_of_label;
    plan_rows(envelope, *graph, import.get(), &row_of_id, &row_of_label);
    plan_metadata(envelope, import.get(), row_of_id);
    plan_vectors(envelope, import.get(), row_of_label);
    return import;
}

}  // namespace lhv
