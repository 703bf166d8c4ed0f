// lhv1_envelope.cpp: the LHV1 wrapper around the graph bytes: magic, the
// big-endian envelope length and the JSON envelope; encode_lhv1 and
// decode_lhv1 join it to hnswlib_format.cpp.
//
//   [4 bytes "LHV1"][u32 big-endian envelope length][JSON envelope][graph bytes]
//   {"version":1,
//    "params":{"name":..,"dimension":..,"m":..,"ef_construction":..,
//              "ef_search":..,"distance":"l2"|"ip"|"cosine"},
//    "metadata":{...},
//    "labels":{"<graph label>":"<id>",...},           (exports of named indexes)
//    "vectors":{"<graph label>":"<base64 float32>",...}}   (cosine exports)
//
// "labels" and "vectors" can hold hundreds of thousands of entries: they are
// written as text directly rather than through a JSON tree.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "errors.h"
#include "lhv1_codec.h"

namespace lhv {
namespace {

using Json = nlohmann::json;

constexpr char kMagic[4] = {'L', 'H', 'V', '1'};
constexpr std::size_t kPreambleBytes = 8;  // magic + envelope length
// nlohmann's dump() and parts of its destruction recurse once per nesting
// level: 100,000 nested arrays overflow the stack. Envelopes (metadata
// included) may nest at most this deep, checked while parsing, on encode as
// on decode, so lhv never writes a snapshot it cannot read.
constexpr int kMaxJsonDepth = 1000;

struct TooDeep {};
struct TooManyValues {};

// Parses JSON text, throwing TooDeep past `max_depth` levels of nesting,
// TooManyValues past kLhv1MaxJsonValues values and keys (what the tree
// costs is proportional to them), and nlohmann's exceptions on malformed text.
Json parse_json_limited(const char* begin, const char* end, int max_depth) {
    std::size_t events = 0;
    const Json::parser_callback_t guard = [max_depth, &events](int depth, Json::parse_event_t event, Json&) {
        if (++events > kLhv1MaxJsonValues) throw TooManyValues{};
        if ((event == Json::parse_event_t::object_start || event == Json::parse_event_t::array_start) &&
            depth >= max_depth)
            throw TooDeep{};
        return true;
    };
    return Json::parse(begin, end, guard);
}

[[noreturn]] void corrupt(const std::string& what) {
    throw Error(ErrorKind::CorruptSnapshot, "LHV1 snapshot: " + what);
}

// Shows up to four bytes printably, e.g. "PK\x03\x04", for the bad-magic message.
std::string printable(const char* bytes, std::size_t size) {
    std::string text;
    for (std::size_t i = 0; i < size; i++) {
        const unsigned char c = static_cast<unsigned char>(bytes[i]);
        if (std::isprint(c) && c != '\\' && c != '"') {
            text += static_cast<char>(c);
        } else {
            char escaped[5];
            std::snprintf(escaped, sizeof escaped, "\\x%02X", c);
            text += escaped;
        }
    }
    return text;
}

// Reads a big-endian u32.
std::uint32_t load_u32_be(const char* data) {
    const auto* b = reinterpret_cast<const unsigned char*>(data);
    return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) |
           std::uint32_t{b[3]};
}

// Writes a big-endian u32.
void store_u32_be(std::uint32_t value, char* out) {
    out[0] = static_cast<char>(value >> 24);
    out[1] = static_cast<char>(value >> 16);
    out[2] = static_cast<char>(value >> 8);
    out[3] = static_cast<char>(value);
}

// The unsigned integer params[key], which must lie in [min, max].
std::uint32_t param_u32(const Json& params, const char* key, std::uint32_t min, std::uint32_t max) {
    const auto it = params.find(key);
    if (it == params.end()) corrupt(std::string("envelope params have no \"") + key + "\"");
    if (!it->is_number_integer())
        corrupt(std::string("envelope params.") + key + " has type " + it->type_name() + ", expected integer");
    const bool negative = it->is_number_integer() && !it->is_number_unsigned();
    const std::uint64_t value = negative ? 0 : it->get<std::uint64_t>();
    if (negative || value < min || value > max)
        corrupt(std::string("envelope params.") + key + " is " + it->dump() + ", outside [" +
                std::to_string(min) + ", " + std::to_string(max) + "]");
    return static_cast<std::uint32_t>(value);
}

// The string params[key].
std::string param_string(const Json& params, const char* key) {
    const auto it = params.find(key);
    if (it == params.end()) corrupt(std::string("envelope params have no \"") + key + "\"");
    if (!it->is_string())
        corrupt(std::string("envelope params.") + key + " has type " + it->type_name() + ", expected string");
    return it->get<std::string>();
}

constexpr char kBase64Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Appends the standard base64 (RFC 4648, padded) of `size` bytes to `out`.
void append_base64(const unsigned char* bytes, std::size_t size, std::string& out) {
    std::size_t i = 0;
    for (; i + 3 <= size; i += 3) {
        const std::uint32_t v = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
        out += kBase64Alphabet[v >> 18];
        out += kBase64Alphabet[(v >> 12) & 63];
        out += kBase64Alphabet[(v >> 6) & 63];
        out += kBase64Alphabet[v & 63];
    }
    if (i < size) {
        const bool two = size - i == 2;
        const std::uint32_t v = (std::uint32_t{bytes[i]} << 16) | (two ? std::uint32_t{bytes[i + 1]} << 8 : 0);
        out += kBase64Alphabet[v >> 18];
        out += kBase64Alphabet[(v >> 12) & 63];
        out += two ? kBase64Alphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
}

// The value of one base64 character, or -1.
int base64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

// Decodes padded standard base64 that must hold exactly `size` bytes into
// `out`; false on any other text (wrong length, bad character or padding).
bool decode_base64_exact(const std::string& text, std::size_t size, unsigned char* out) {
    if (text.size() != (size + 2) / 3 * 4) return false;
    std::size_t written = 0;
    for (std::size_t i = 0; i < text.size(); i += 4) {
        const bool last = i + 4 == text.size();
        int v[4];
        int padding = 0;
        for (int j = 0; j < 4; j++) {
            const char c = text[i + j];
            if (c == '=' && last && j >= 2) {
                padding++;
                v[j] = 0;
                continue;
            }
            if (padding > 0) return false;  // data after '='
            v[j] = base64_value(c);
            if (v[j] < 0) return false;
        }
        const std::uint32_t bits = (std::uint32_t(v[0]) << 18) | (std::uint32_t(v[1]) << 12) |
                                   (std::uint32_t(v[2]) << 6) | std::uint32_t(v[3]);
        const unsigned char decoded[3] = {static_cast<unsigned char>(bits >> 16),
                                          static_cast<unsigned char>(bits >> 8), static_cast<unsigned char>(bits)};
        for (int j = 0; j < 3 - padding; j++) {
            if (written == size) return false;
            out[written++] = decoded[j];
        }
        // Bits under the padding must be zero (one encoding per value).
        if (padding > 0 && (bits & ((1u << (8 * padding)) - 1)) != 0) return false;
    }
    return written == size;
}

// Parses a graph label written as a decimal integer ("0", "17"; no sign,
// no leading zero, at most 2^64 - 1).
bool parse_label(const std::string& text, std::uint64_t* label) {
    if (text.empty() || text.size() > 20 || (text.size() > 1 && text[0] == '0')) return false;
    std::uint64_t value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return false;
        const std::uint64_t digit = static_cast<std::uint64_t>(c - '0');
        if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return false;
        value = value * 10 + digit;
    }
    *label = value;
    return true;
}

// A JSON string literal for `text`; throws InvalidParameter unless it is UTF-8.
std::string json_string(const std::string& text, const char* what) {
    try {
        return Json(text).dump();
    } catch (const Json::exception& e) {
        throw Error(ErrorKind::InvalidParameter, std::string("LHV1 encode: ") + what + ": " + e.what());
    }
}

// The text of "labels" and "vectors", each with a leading comma, for
// appending to the envelope object.
std::string labels_and_vectors_text(const Lhv1Envelope& envelope, const GraphParams& params) {
    std::string text;
    if (envelope.has_labels || !envelope.labels.empty()) {
        text += ",\"labels\":{";
        bool first = true;
        for (const Lhv1Label& entry : envelope.labels) {
            if (entry.id.empty())
                throw Error(ErrorKind::InvalidParameter,
                            "LHV1 encode: label " + std::to_string(entry.label) + " has an empty id");
            if (!first) text += ',';
            first = false;
            text += '"' + std::to_string(entry.label) + "\":" + json_string(entry.id, "an id");
            if (text.size() > kLhv1MaxEnvelope) break;  // reported by the caller
        }
        text += '}';
    }
    if (!envelope.vector_labels.empty()) {
        const std::size_t dim = params.dimension;
        if (envelope.vector_values.size() != envelope.vector_labels.size() * dim)
            throw Error(ErrorKind::Internal, "LHV1 encode: " + std::to_string(envelope.vector_values.size()) +
                                                 " vector values for " +
                                                 std::to_string(envelope.vector_labels.size()) + " vectors");
        text += ",\"vectors\":{";
        for (std::size_t i = 0; i < envelope.vector_labels.size(); i++) {
            const float* v = envelope.vector_values.data() + i * dim;
            for (std::size_t j = 0; j < dim; j++)
                if (!std::isfinite(v[j]))
                    throw Error(ErrorKind::InvalidParameter, "LHV1 encode: the vector of label " +
                                                                 std::to_string(envelope.vector_labels[i]) +
                                                                 " is not finite");
            if (i > 0) text += ',';
            text += '"' + std::to_string(envelope.vector_labels[i]) + "\":\"";
            append_base64(reinterpret_cast<const unsigned char*>(v), dim * sizeof(float), text);
            text += '"';
            if (text.size() > kLhv1MaxEnvelope) break;  // reported by the caller
        }
        text += '}';
    }
    return text;
}

// Builds the envelope JSON text for encode_lhv1; throws InvalidParameter on
// values that decode_lhv1 would reject.
std::string envelope_text(const Lhv1Envelope& envelope, const GraphParams& params) {
    if (envelope.ef_search < 1 || envelope.ef_search > kMaxEfSearch)
        throw Error(ErrorKind::InvalidParameter,
                    "LHV1 encode: ef_search " + std::to_string(envelope.ef_search) + " is outside [1, " +
                        std::to_string(kMaxEfSearch) + "]");
    Json metadata;
    try {
        // The metadata object sits one level inside the envelope.
        metadata = parse_json_limited(envelope.metadata_json.data(),
                                      envelope.metadata_json.data() + envelope.metadata_json.size(),
                                      kMaxJsonDepth - 1);
    } catch (const TooDeep&) {
        throw Error(ErrorKind::InvalidParameter, "LHV1 encode: metadata nests deeper than " +
                                                     std::to_string(kMaxJsonDepth - 1) + " levels");
    } catch (const TooManyValues&) {
        throw Error(ErrorKind::InvalidParameter, "LHV1 encode: metadata has more than " +
                                                     std::to_string(kLhv1MaxJsonValues) + " JSON values");
    } catch (const Json::exception& e) {
        throw Error(ErrorKind::InvalidParameter, std::string("LHV1 encode: metadata is not valid JSON: ") + e.what());
    }
    if (!metadata.is_object())
        throw Error(ErrorKind::InvalidParameter, "LHV1 encode: metadata is not a JSON object");
    Json json = {
        {"version", kLhv1Version},
        {"params",
         {{"name", envelope.name},
          {"dimension", params.dimension},
          {"m", params.m},
          {"ef_construction", params.ef_construction},
          {"ef_search", envelope.ef_search},
          {"distance", metric_name(params.metric)}}},
        {"metadata", std::move(metadata)},
    };
    std::string text;
    try {
        text = json.dump();
    } catch (const Json::exception& e) {  // a name that is not valid UTF-8
        throw Error(ErrorKind::InvalidParameter, std::string("LHV1 encode: envelope: ") + e.what());
    }
    text.pop_back();  // the object's closing brace: the large parts go before it
    text += labels_and_vectors_text(envelope, params);
    text += '}';
    if (text.size() > kLhv1MaxEnvelope)
        throw Error(ErrorKind::InvalidParameter, "LHV1 encode: envelope of " + std::to_string(text.size()) +
                                                     " bytes exceeds the limit of " +
                                                     std::to_string(kLhv1MaxEnvelope));
    return text;
}

// Parses the JSON text of the envelope (which starts at byte kPreambleBytes).
// Besides syntax errors, nlohmann throws out_of_range for a number too large
// for a double (e.g. 1E400): every parser exception is a corrupt envelope.
Json parse_envelope_json(const char* text, std::size_t size) {
    try {
        return parse_json_limited(text, text + size, kMaxJsonDepth);
    } catch (const TooDeep&) {
        corrupt("envelope at byte " + std::to_string(kPreambleBytes) + " nests deeper than " +
                std::to_string(kMaxJsonDepth) + " levels");
    } catch (const TooManyValues&) {
        corrupt("envelope at byte " + std::to_string(kPreambleBytes) + " has more than " +
                std::to_string(kLhv1MaxJsonValues) + " JSON values and keys");
    } catch (const Json::parse_error& e) {
        corrupt("envelope at byte " + std::to_string(kPreambleBytes) +
                " is not valid JSON (near byte " + std::to_string(kPreambleBytes + e.byte) + "): " + e.what());
    } catch (const Json::exception& e) {
        corrupt("envelope at byte " + std::to_string(kPreambleBytes) + " is not valid JSON: " + e.what());
    }
}

// A label key of "labels" or "vectors", for messages: printable, at most 32 bytes.
std::string key_text(const std::string& key) {
    return printable(key.data(), std::min<std::size_t>(key.size(), 32));
}

// Reads the envelope's "labels" (graph label -> id), if present.
void decode_labels(const Json& json, Lhv1Envelope* envelope) {
    const auto labels = json.find("labels");
    if (labels == json.end()) return;
    if (!labels->is_object())
        corrupt(std::string("envelope labels has type ") + labels->type_name() + ", expected object");
    envelope->has_labels = true;
    envelope->labels.reserve(labels->size());
    for (auto it = labels->begin(); it != labels->end(); ++it) {
        std::uint64_t label = 0;
        if (!parse_label(it.key(), &label))
            corrupt("envelope labels key \"" + key_text(it.key()) + "\" is not a graph label (a decimal integer)");
        if (!it->is_string())
            corrupt("envelope labels[\"" + key_text(it.key()) + "\"] has type " + it->type_name() +
                    ", expected string");
        std::string id = it->get<std::string>();
        if (id.empty()) corrupt("envelope labels[\"" + key_text(it.key()) + "\"] is an empty id");
        envelope->labels.push_back(Lhv1Label{label, std::move(id)});
    }
}

// Reads the envelope's "vectors" (graph label -> base64 float32), if present.
void decode_vectors(const Json& json, Lhv1Envelope* envelope) {
    const auto vectors = json.find("vectors");
    if (vectors == json.end()) return;
    if (!vectors->is_object())
        corrupt(std::string("envelope vectors has type ") + vectors->type_name() + ", expected object");
    const std::size_t dim = envelope->params.dimension;
    std::vector<float> values(dim);
    for (auto it = vectors->begin(); it != vectors->end(); ++it) {
        std::uint64_t label = 0;
        if (!parse_label(it.key(), &label))
            corrupt("envelope vectors key \"" + key_text(it.key()) + "\" is not a graph label (a decimal integer)");
        const std::string where = "envelope vectors[\"" + key_text(it.key()) + "\"]";
        if (!it->is_string()) corrupt(where + " has type " + it->type_name() + ", expected string");
        // The length is checked before anything is decoded or kept.
        if (!decode_base64_exact(it->get_ref<const std::string&>(), dim * sizeof(float),
                                 reinterpret_cast<unsigned char*>(values.data())))
            corrupt(where + " is not the base64 of " + std::to_string(dim) + " float32 values");
        for (std::size_t j = 0; j < dim; j++)
            if (!std::isfinite(values[j])) corrupt(where + " component " + std::to_string(j) + " is not finite");
        envelope->vector_labels.push_back(label);
        envelope->vector_values.insert(envelope->vector_values.end(), values.begin(), values.end());
    }
}

}  // namespace

std::string encode_lhv1_envelope(const Lhv1Envelope& envelope, const GraphParams& params) {
    const std::string text = envelope_text(envelope, params);
    std::string out(kPreambleBytes, '\0');
    std::memcpy(&out[0], kMagic, sizeof kMagic);
    store_u32_be(static_cast<std::uint32_t>(text.size()), &out[4]);
    return out + text;
}

std::vector<std::pair<std::string, std::string>> lhv1_metadata_entries(const std::string& metadata_json) {
    Json metadata;
    try {
        metadata = parse_json_limited(metadata_json.data(), metadata_json.data() + metadata_json.size(),
                                      kMaxJsonDepth);
    } catch (const TooDeep&) {
        corrupt("metadata nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    } catch (const TooManyValues&) {
        corrupt("metadata has more than " + std::to_string(kLhv1MaxJsonValues) + " JSON values");
    } catch (const Json::exception& e) {
        corrupt(std::string("metadata is not valid JSON: ") + e.what());
    }
    if (!metadata.is_object()) corrupt(std::string("metadata has type ") + metadata.type_name() + ", expected object");
    std::vector<std::pair<std::string, std::string>> entries;
    entries.reserve(metadata.size());
    for (auto it = metadata.begin(); it != metadata.end(); ++it) entries.emplace_back(it.key(), it->dump());
    return entries;
}

void encode_lhv1(const Lhv1Envelope& envelope, const HnswGraph& graph, ByteSink& out) {
    const std::string header = encode_lhv1_envelope(envelope, graph.params());
    out.write(header.data(), header.size());
    write_hnswlib_graph(graph, out);
}

namespace {

// The envelope's length from the preamble at `data`, checked against the
// `size` bytes of the whole snapshot (of which the preamble may be all that
// `data` holds).
std::uint32_t envelope_length(const char* data, std::size_t size) {
    if (size == 0) corrupt("empty (0 bytes)");
    if (size < kPreambleBytes)
        corrupt(std::to_string(size) + " bytes, shorter than the " + std::to_string(kPreambleBytes) +
                "-byte header");
    if (std::memcmp(data, kMagic, sizeof kMagic) != 0)
        corrupt("bad magic at byte 0: \"" + printable(data, 4) + "\", expected \"LHV1\"");
    const std::uint32_t length = load_u32_be(data + 4);
    if (length > kLhv1MaxEnvelope)
        corrupt("envelope length " + std::to_string(length) + " at byte 4 exceeds the limit of " +
                std::to_string(kLhv1MaxEnvelope));
    if (length > size - kPreambleBytes)
        corrupt("envelope length " + std::to_string(length) + " at byte 4 runs past the end: only " +
                std::to_string(size - kPreambleBytes) + " bytes follow the header");
    return length;
}

}  // namespace

Lhv1Envelope decode_lhv1_envelope(const char* data, std::size_t size, std::size_t* graph_offset) {
    const std::uint32_t length = envelope_length(data, size);
    const Json json = parse_envelope_json(data + kPreambleBytes, length);
    if (!json.is_object()) corrupt(std::string("envelope has JSON type ") + json.type_name() + ", expected object");

    Lhv1Envelope envelope;
    const auto version = json.find("version");
    if (version == json.end()) corrupt("envelope has no \"version\"");
    if (!version->is_number_unsigned())
        corrupt("envelope version is " + version->dump() + ", expected unsigned integer");
    if (version->get<std::uint64_t>() != kLhv1Version)
        corrupt("unsupported envelope version " + version->dump() + " (this build reads version " +
                std::to_string(kLhv1Version) + ")");
    envelope.version = kLhv1Version;

    const auto params = json.find("params");
    if (params == json.end()) corrupt("envelope has no \"params\"");
    if (!params->is_object()) corrupt(std::string("envelope params has type ") + params->type_name() + ", expected object");
    envelope.name = param_string(*params, "name");
    envelope.params.dimension = param_u32(*params, "dimension", 1, kMaxDimension);
    envelope.params.m = param_u32(*params, "m", kMinM, kMaxM);
    envelope.params.ef_construction =
        param_u32(*params, "ef_construction", kMinEfConstruction, kMaxEfConstruction);
    envelope.ef_search = param_u32(*params, "ef_search", 1, kMaxEfSearch);
    const std::string distance = param_string(*params, "distance");
    if (!metric_from_name(distance, &envelope.params.metric))
        corrupt("unknown distance \"" + printable(distance.data(), std::min<std::size_t>(distance.size(), 32)) +
                "\" in envelope params (expected \"l2\", \"ip\" or \"cosine\")");

    const auto metadata = json.find("metadata");
    if (metadata != json.end()) {
        if (!metadata->is_object())
            corrupt(std::string("envelope metadata has type ") + metadata->type_name() + ", expected object");
        try {
            envelope.metadata_json = metadata->dump();
        } catch (const Json::exception& e) {  // cannot happen after a successful parse; stay safe
            corrupt(std::string("envelope metadata cannot be serialised: ") + e.what());
        }
    }
    decode_labels(json, &envelope);
    decode_vectors(json, &envelope);
    *graph_offset = kPreambleBytes + length;
    return envelope;
}

ChunkHandle decode_lhv1(const char* data, std::size_t size, ChunkMemory& memory, Lhv1Envelope* envelope) {
    MemorySource in(data, size);
    return decode_lhv1(in, memory, envelope);
}

ChunkHandle decode_lhv1(ByteSource& in, ChunkMemory& memory, Lhv1Envelope* envelope) {
    // The preamble and the envelope are small: copy them out and parse them
    // as above; the graph bytes stay in the source.
    char preamble[kPreambleBytes] = {};
    read_source(in, 0, preamble, std::min(in.size(), kPreambleBytes));
    const std::uint32_t length = envelope_length(preamble, in.size());
    std::string head(preamble, kPreambleBytes);
    head.resize(kPreambleBytes + length);
    read_source(in, kPreambleBytes, &head[kPreambleBytes], head.size() - kPreambleBytes);
    std::size_t graph_offset = 0;
    Lhv1Envelope parsed = decode_lhv1_envelope(head.data(), head.size(), &graph_offset);
    ChunkHandle handle = kInvalidChunk;
    try {
        handle = read_hnswlib_graph(in, graph_offset, parsed.params, memory);
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::CorruptSnapshot) throw;
        corrupt("graph bytes (from byte " + std::to_string(graph_offset) + "; offsets below are relative): " +
                e.what());
    }
    if (envelope) *envelope = std::move(parsed);
    return handle;
}

}  // namespace lhv
