// hnswlib_bench: stock hnswlib (Debian's libhnswlib-dev, header only) called
// in-process, the ceiling lhv is measured against. bench/run.py writes the
// inputs and reads the JSON this prints on stdout.
//
//   lhv_hnswlib_bench --base B --queries Q --truth T --space l2|ip
//                     [--m 16] [--ef-construction 64] [--ef 10,20,40]
//                     [--threads N] [--build-threads 1,N] [--repeats 3]
//                     [--k 10] [--index-file PATH]
//
// Files: vectors are "u32 n, u32 dim, n*dim float32" (little endian); ground
// truth is "u32 n, u32 k, n*k int32" (row numbers of the base, nearest first).
// For cosine the driver writes unit vectors and passes --space ip.
//
// It builds the index once per entry of --build-threads (addPoint from
// std::threads pulling the next row from an atomic counter, as hnswlib's
// ParallelFor example does), keeps the last one, saves it to get its size,
// then sweeps ef: one thread (per-query latencies) and --threads threads.
#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unistd.h>
#include <unordered_set>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Matrix {
  uint32_t rows = 0, cols = 0;
  std::vector<float> f;
  std::vector<int32_t> i;
};

Matrix read_matrix(const std::string &path, bool ints) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  Matrix m;
  in.read(reinterpret_cast<char *>(&m.rows), 4);
  in.read(reinterpret_cast<char *>(&m.cols), 4);
  size_t n = size_t(m.rows) * m.cols;
  if (ints) {
    m.i.resize(n);
    in.read(reinterpret_cast<char *>(m.i.data()), n * 4);
  } else {
    m.f.resize(n);
    in.read(reinterpret_cast<char *>(m.f.data()), n * 4);
  }
  if (!in) throw std::runtime_error("short file " + path);
  return m;
}

std::vector<int> parse_list(const std::string &s) {
  std::vector<int> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(std::stoi(item));
  return out;
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t idx = std::min(v.size() - 1, size_t(p * (v.size() - 1) + 0.5));
  return v[idx];
}

double median(std::vector<double> v) { return percentile(std::move(v), 0.5); }

const char *simd_name() {
#if defined(USE_AVX512)
  return "avx512";
#elif defined(USE_AVX)
  return "avx";
#elif defined(USE_SSE)
  return "sse";
#else
  return "scalar";
#endif
}

}  // namespace

int main(int argc, char **argv) {
  std::string base_path, query_path, truth_path, space_name = "l2", index_file;
  int m = 16, efc = 64, k = 10, repeats = 3;
  int threads = int(std::thread::hardware_concurrency());
  std::vector<int> efs = {10, 20, 40, 80, 120, 200, 400};
  std::vector<int> build_threads = {1, threads};
  for (int a = 1; a + 1 < argc; a += 2) {
    std::string key = argv[a], val = argv[a + 1];
    if (key == "--base") base_path = val;
    else if (key == "--queries") query_path = val;
    else if (key == "--truth") truth_path = val;
    else if (key == "--space") space_name = val;
    else if (key == "--m") m = std::stoi(val);
    else if (key == "--ef-construction") efc = std::stoi(val);
    else if (key == "--ef") efs = parse_list(val);
    else if (key == "--threads") threads = std::stoi(val);
    else if (key == "--build-threads") build_threads = parse_list(val);
    else if (key == "--repeats") repeats = std::stoi(val);
    else if (key == "--k") k = std::stoi(val);
    else if (key == "--index-file") index_file = val;
    else {
      std::cerr << "unknown option " << key << "\n";
      return 2;
    }
  }
  if (base_path.empty() || query_path.empty() || truth_path.empty()) {
    std::cerr << "usage: lhv_hnswlib_bench --base B --queries Q --truth T [--space l2|ip] ...\n";
    return 2;
  }
  if (index_file.empty()) index_file = "/tmp/lhv_hnswlib_bench." + std::to_string(getpid()) + ".bin";

  Matrix base = read_matrix(base_path, false);
  Matrix queries = read_matrix(query_path, false);
  Matrix truth = read_matrix(truth_path, true);
  if (queries.cols != base.cols || truth.rows != queries.rows || truth.cols < uint32_t(k))
    throw std::runtime_error("inconsistent input shapes");
  const size_t dim = base.cols, n = base.rows, nq = queries.rows;

  std::unique_ptr<hnswlib::SpaceInterface<float>> space;
  if (space_name == "l2") space.reset(new hnswlib::L2Space(dim));
  else if (space_name == "ip") space.reset(new hnswlib::InnerProductSpace(dim));
  else throw std::runtime_error("space must be l2 or ip");

  std::ostringstream js;
  js << "{\"simd\":\"" << simd_name() << "\",\"space\":\"" << space_name << "\",\"n\":" << n
     << ",\"dim\":" << dim << ",\"queries\":" << nq << ",\"m\":" << m
     << ",\"ef_construction\":" << efc << ",\"builds\":[";

  std::unique_ptr<hnswlib::HierarchicalNSW<float>> index;
  for (size_t b = 0; b < build_threads.size(); b++) {
    int nt = std::max(1, build_threads[b]);
    index.reset();
    index.reset(new hnswlib::HierarchicalNSW<float>(space.get(), n, m, efc));
    auto t0 = Clock::now();
    std::atomic<size_t> next(0);
    auto work = [&]() {
      for (size_t row; (row = next.fetch_add(1)) < n;)
        index->addPoint(base.f.data() + row * dim, hnswlib::labeltype(row));
    };
    std::vector<std::thread> pool;
    for (int t = 0; t < nt; t++) pool.emplace_back(work);
    for (auto &t : pool) t.join();
    double secs = seconds_since(t0);
    std::cerr << "hnswlib(" << simd_name() << "): built " << n << " in " << secs << " s on " << nt
              << " threads\n";
    js << (b ? "," : "") << "{\"threads\":" << nt << ",\"seconds\":" << secs << "}";
  }
  index->saveIndex(index_file);
  std::ifstream saved(index_file, std::ios::binary | std::ios::ate);
  long long index_bytes = saved.tellg();
  std::remove(index_file.c_str());
  js << "],\"index_bytes\":" << index_bytes << ",\"sweep\":[";

  for (size_t e = 0; e < efs.size(); e++) {
    index->setEf(size_t(efs[e]));
    std::vector<std::vector<hnswlib::labeltype>> found(nq);
    std::vector<double> qps1, p50, p99, qpsn;
    for (int r = 0; r < repeats; r++) {
      std::vector<double> lat(nq);
      auto t0 = Clock::now();
      for (size_t q = 0; q < nq; q++) {
        auto s = Clock::now();
        auto res = index->searchKnn(queries.f.data() + q * dim, size_t(k));
        lat[q] = seconds_since(s);
        if (r == 0) {
          std::vector<hnswlib::labeltype> ids(res.size());
          for (size_t i = res.size(); i-- > 0;) {
            ids[i] = res.top().second;
            res.pop();
          }
          found[q] = std::move(ids);
        }
      }
      double total = seconds_since(t0);
      qps1.push_back(nq / total);
      p50.push_back(1000 * percentile(lat, 0.5));
      p99.push_back(1000 * percentile(lat, 0.99));

      std::atomic<size_t> next(0);
      auto t1 = Clock::now();
      std::vector<std::thread> pool;
      for (int t = 0; t < threads; t++)
        pool.emplace_back([&]() {
          for (size_t q; (q = next.fetch_add(1)) < nq;) index->searchKnn(queries.f.data() + q * dim, size_t(k));
        });
      for (auto &t : pool) t.join();
      qpsn.push_back(nq / seconds_since(t1));
    }
    size_t hits = 0;
    for (size_t q = 0; q < nq; q++) {
      std::unordered_set<int32_t> want(truth.i.begin() + q * truth.cols, truth.i.begin() + q * truth.cols + k);
      for (auto id : found[q]) hits += want.count(int32_t(id));
    }
    double recall = double(hits) / double(nq * k);
    std::cerr << "hnswlib(" << simd_name() << "): ef " << efs[e] << " recall@" << k << " " << recall
              << " qps " << median(qps1) << "\n";
    js << (e ? "," : "") << "{\"ef\":" << efs[e] << ",\"recall\":" << recall << ",\"qps\":" << median(qps1)
       << ",\"p50_ms\":" << median(p50) << ",\"p99_ms\":" << median(p99) << ",\"qps_parallel\":" << median(qpsn)
       << ",\"parallel_threads\":" << threads << "}";
  }
  js << "]}";
  std::cout << js.str() << std::endl;
  return 0;
}
