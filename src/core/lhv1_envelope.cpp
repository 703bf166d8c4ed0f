// lhv1_envelope.cpp: the LHV1 wrapper around the graph bytes: magic, the
// big-endian envelope length and the JSON envelope (version, params,
// metadata); encode_lhv1 and decode_lhv1 join it to hnswlib_format.cpp.
//
//   [4 bytes "LHV1"][u32 big-endian envelope length][JSON envelope][graph bytes]
//   {"version":1,
//    "params":{"name":..,"dimension":..,"m":..,"ef_construction":..,
//              "ef_search":..,"distance":"l2"|"ip"|"cosine"},
//    "metadata":{...}}
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <string>

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

// Parses JSON text, throwing TooDeep past `max_depth` levels of nesting
// and nlohmann's exceptions on malformed text.
Json parse_json_limited(const char* begin, const char* end, int max_depth) {
    const Json::parser_callback_t depth_guard = [max_depth](int depth, Json::parse_event_t event, Json&) {
        if ((event == Json::parse_event_t::object_start || event == Json::parse_event_t::array_start) &&
            depth >= max_depth)
            throw TooDeep{};
        return true;
    };
    return Json::parse(begin, end, depth_guard);
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
    } catch (const Json::parse_error& e) {
        corrupt("envelope at byte " + std::to_string(kPreambleBytes) +
                " is not valid JSON (near byte " + std::to_string(kPreambleBytes + e.byte) + "): " + e.what());
    } catch (const Json::exception& e) {
        corrupt("envelope at byte " + std::to_string(kPreambleBytes) + " is not valid JSON: " + e.what());
    }
}

}  // namespace

void encode_lhv1(const Lhv1Envelope& envelope, const HnswGraph& graph, ByteSink& out) {
    const std::string text = envelope_text(envelope, graph.params());
    char preamble[kPreambleBytes];
    std::memcpy(preamble, kMagic, sizeof kMagic);
    store_u32_be(static_cast<std::uint32_t>(text.size()), preamble + 4);
    out.write(preamble, sizeof preamble);
    out.write(text.data(), text.size());
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
