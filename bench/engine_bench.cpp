// engine_bench: lhv's engine (src/core) called in-process, without
// PostgreSQL: how fast its searches are on their own, and how much memory a
// searching thread keeps. bench/engine_ab.sh builds it from two revisions of
// src/core to compare them on one graph; its inputs are those of
// hnswlib_bench.
//
//   lhv_engine_bench --base B --queries Q --truth T --space l2|ip|cosine
//                    [--m 16] [--ef-construction 64] [--ef 10,20,40]
//                    [--build-threads N] [--repeats 3] [--k 10]
//                    [--graph-file PATH]
//
// Files: vectors are "u32 n, u32 dim, n*dim float32" (little endian); ground
// truth is "u32 n, u32 k, n*k int32" (row numbers of the base, nearest first).
//
// With --graph-file, the graph is loaded from PATH (hnswlib's saveIndex
// layout, as LHV1 snapshots hold it) when the file exists, and built and
// saved there otherwise, so two builds of this program search the same graph.
// The sweep runs one thread: each ef, --repeats passes over the queries;
// recall@k against the truth, queries/s (median of the passes) by the wall
// clock and per second of the thread's CPU time (steadier on a loaded
// machine), the best pass by CPU time (other jobs only ever slow a pass
// down), p50/p99 latency. The JSON goes to stdout, progress to stderr.

#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "distance.h"
#include "hnsw_graph.h"
#include "lhv1_codec.h"
#include "locks.h"
#include "memory.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Matrix {
    std::uint32_t rows = 0, cols = 0;
    std::vector<float> f;
    std::vector<std::int32_t> i;
};

Matrix read_matrix(const std::string& path, bool ints) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + path);
    Matrix m;
    in.read(reinterpret_cast<char*>(&m.rows), 4);
    in.read(reinterpret_cast<char*>(&m.cols), 4);
    std::size_t n = std::size_t(m.rows) * m.cols;
    if (ints) {
        m.i.resize(n);
        in.read(reinterpret_cast<char*>(m.i.data()), std::streamsize(n * 4));
    } else {
        m.f.resize(n);
        in.read(reinterpret_cast<char*>(m.f.data()), std::streamsize(n * 4));
    }
    if (!in) throw std::runtime_error("short file " + path);
    return m;
}

std::vector<int> parse_list(const std::string& s) {
    std::vector<int> out;
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, ',')) out.push_back(std::stoi(item));
    return out;
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, std::size_t(p * double(v.size() - 1) + 0.5))];
}

// Appends to a file, for saving the graph.
class FileSink final : public lhv::ByteSink {
public:
    explicit FileSink(const std::string& path) : out_(path, std::ios::binary) {
        if (!out_) throw std::runtime_error("cannot write " + path);
    }
    void write(const void* data, std::size_t size) override {
        out_.write(static_cast<const char*>(data), std::streamsize(size));
    }

private:
    std::ofstream out_;
};

// CPU time of the calling thread, in seconds: on a shared, loaded machine it
// counts only what this thread ran, not the time it waited for a core.
double thread_cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

// This process's resident anonymous memory in kB (RssAnon), or -1.
long rss_anon_kb() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("RssAnon:", 0) == 0) return std::stol(line.substr(8));
    return -1;
}

}  // namespace

int main(int argc, char** argv) {
    std::string base_path, query_path, truth_path, space_name = "l2", graph_file;
    int m = 16, efc = 64, k = 10, repeats = 3;
    int build_threads = int(std::thread::hardware_concurrency());
    std::vector<int> efs = {10, 20, 40, 80, 120, 200, 400};
    for (int a = 1; a + 1 < argc; a += 2) {
        std::string key = argv[a], val = argv[a + 1];
        if (key == "--base") base_path = val;
        else if (key == "--queries") query_path = val;
        else if (key == "--truth") truth_path = val;
        else if (key == "--space") space_name = val;
        else if (key == "--m") m = std::stoi(val);
        else if (key == "--ef-construction") efc = std::stoi(val);
        else if (key == "--ef") efs = parse_list(val);
        else if (key == "--build-threads") build_threads = std::max(1, std::stoi(val));
        else if (key == "--repeats") repeats = std::stoi(val);
        else if (key == "--k") k = std::stoi(val);
        else if (key == "--graph-file") graph_file = val;
        else {
            std::cerr << "unknown option " << key << "\n";
            return 2;
        }
    }
    if (base_path.empty() || query_path.empty() || truth_path.empty()) {
        std::cerr << "usage: lhv_engine_bench --base B --queries Q --truth T [--space l2|ip|cosine] ...\n";
        return 2;
    }

    Matrix base = read_matrix(base_path, false);
    Matrix queries = read_matrix(query_path, false);
    Matrix truth = read_matrix(truth_path, true);
    if (queries.cols != base.cols || truth.rows != queries.rows || truth.cols < std::uint32_t(k))
        throw std::runtime_error("inconsistent input shapes");
    const std::size_t dim = base.cols, n = base.rows, nq = queries.rows;

    lhv::GraphParams params;
    params.dimension = std::uint32_t(dim);
    params.m = std::uint32_t(m);
    params.ef_construction = std::uint32_t(efc);
    if (space_name == "l2") params.metric = lhv::Metric::L2;
    else if (space_name == "ip") params.metric = lhv::Metric::InnerProduct;
    else if (space_name == "cosine") params.metric = lhv::Metric::Cosine;
    else throw std::runtime_error("space must be l2, ip or cosine");

    lhv::HeapChunkMemory memory;
    lhv::ChunkHandle header = lhv::kInvalidChunk;
    double build_seconds = -1;
    std::ifstream saved(graph_file.empty() ? std::string() : graph_file, std::ios::binary);
    if (saved) {
        std::string bytes((std::istreambuf_iterator<char>(saved)), std::istreambuf_iterator<char>());
        header = lhv::read_hnswlib_graph(bytes.data(), bytes.size(), params, memory);
        std::cerr << "lhv engine: loaded " << graph_file << "\n";
    } else {
        header = lhv::HnswGraph::create(memory, params);
        lhv::AtomicGraphLocks locks(lhv::HnswGraph::lock_words(memory, header));
        lhv::HnswGraph graph(memory, locks, header);
        graph.reserve(std::uint32_t(n));
        auto t0 = Clock::now();
        std::atomic<std::size_t> next(0);
        std::vector<std::thread> pool;
        for (int t = 0; t < build_threads; t++)
            pool.emplace_back([&] {
                for (std::size_t row; (row = next.fetch_add(1)) < n;) graph.add(base.f.data() + row * dim, row);
            });
        for (std::thread& t : pool) t.join();
        build_seconds = seconds_since(t0);
        std::cerr << "lhv engine: built " << n << " in " << build_seconds << " s on " << build_threads
                  << " threads\n";
        if (!graph_file.empty()) {
            FileSink sink(graph_file);
            lhv::write_hnswlib_graph(graph, sink);
        }
    }

    lhv::AtomicGraphLocks locks(lhv::HnswGraph::lock_words(memory, header));
    lhv::HnswGraph graph(memory, locks, header);
    const long rss_before_search_kb = rss_anon_kb();

    std::ostringstream js;
    js << "{\"simd\":\"" << lhv::simd_level() << "\",\"space\":\"" << space_name << "\",\"n\":" << n
       << ",\"dim\":" << dim << ",\"queries\":" << nq << ",\"m\":" << m << ",\"ef_construction\":" << efc
       << ",\"build_seconds\":" << build_seconds << ",\"graph_bytes\":" << graph.memory_bytes() << ",\"sweep\":[";
    for (std::size_t e = 0; e < efs.size(); e++) {
        std::vector<double> qps, qps_cpu, p50, p99;
        std::size_t hits = 0;
        for (int r = 0; r < repeats; r++) {
            std::vector<double> latency(nq);
            auto t0 = Clock::now();
            const double cpu0 = thread_cpu_seconds();
            for (std::size_t q = 0; q < nq; q++) {
                auto s = Clock::now();
                std::vector<lhv::SearchResult> found =
                    graph.search(queries.f.data() + q * dim, std::size_t(k), std::size_t(efs[e]));
                latency[q] = seconds_since(s);
                if (r == 0) {
                    std::unordered_set<std::int64_t> exact(truth.i.begin() + std::ptrdiff_t(q * truth.cols),
                                                           truth.i.begin() + std::ptrdiff_t(q * truth.cols + k));
                    for (const lhv::SearchResult& f : found) hits += exact.count(std::int64_t(f.label));
                }
            }
            qps.push_back(double(nq) / seconds_since(t0));
            qps_cpu.push_back(double(nq) / (thread_cpu_seconds() - cpu0));
            p50.push_back(1000 * percentile(latency, 0.5));
            p99.push_back(1000 * percentile(latency, 0.99));
        }
        double recall = double(hits) / double(nq * std::size_t(k));
        std::cerr << "lhv engine: ef " << efs[e] << " recall " << recall << " qps " << percentile(qps, 0.5)
                  << "\n";
        js << (e ? "," : "") << "{\"ef\":" << efs[e] << ",\"recall\":" << recall
           << ",\"qps\":" << percentile(qps, 0.5) << ",\"qps_cpu\":" << percentile(qps_cpu, 0.5)
           << ",\"qps_cpu_best\":" << percentile(qps_cpu, 1.0)
           << ",\"p50_ms\":" << percentile(p50, 0.5)
           << ",\"p99_ms\":" << percentile(p99, 0.5) << "}";
    }
    // What searching added to this process (the graph is in memory already).
    js << "],\"rss_anon_kb_before_search\":" << rss_before_search_kb
       << ",\"rss_anon_kb_after_search\":" << rss_anon_kb() << "}\n";
    std::cout << js.str();
    graph.destroy();
    return 0;
}
