"""datasets.py: the data sets the demo and the benchmarks use, and their exact
ground truth, computed once by brute force and cached outside the repository.

- Fashion-MNIST from Debian's dataset-fashion-mnist: 60,000 train images as the
  base set, 10,000 test images as queries, 784-d, Euclidean (ann-benchmarks'
  fashion-mnist-784-euclidean).
- A synthetic clustered set (fixed seed) for scale, cosine.
"""
import gzip
import os
import struct

import numpy as np

FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def cache_dir():
    """Where ground truth and generated sets are kept between runs."""
    path = os.environ.get("LHV_CACHE_DIR", "/var/tmp/lhv-cache")
    os.makedirs(path, exist_ok=True)
    return path


def _read_idx(path):
    """Reads an IDX file (the MNIST format): big-endian dims, then uint8 data."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def fashion_mnist():
    """(train, test, train_labels, test_labels): images as float32 rows of 784."""
    def images(name):
        return _read_idx(os.path.join(FASHION_MNIST_DIR, name)).reshape(-1, 784).astype(np.float32)

    def labels(name):
        return _read_idx(os.path.join(FASHION_MNIST_DIR, name)).astype(np.int32)

    return (images("train-images-idx3-ubyte.gz"), images("t10k-images-idx3-ubyte.gz"),
            labels("train-labels-idx1-ubyte.gz"), labels("t10k-labels-idx1-ubyte.gz"))


def clustered(n, dim, clusters, seed):
    """n unit-free vectors in Gaussian clusters, reproducible from the seed."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-1.0, 1.0, size=(clusters, dim)).astype(np.float32)
    which = rng.integers(0, clusters, size=n)
    out = np.empty((n, dim), dtype=np.float32)
    step = 100_000
    for start in range(0, n, step):
        stop = min(n, start + step)
        noise = rng.normal(0.0, 0.15, size=(stop - start, dim)).astype(np.float32)
        out[start:stop] = centres[which[start:stop]] + noise
    return out


def clustered_lowrank(n, dim, clusters, latent, seed, spread=0.3, noise=0.05):
    """n vectors with the structure of real embeddings, reproducible from the seed:
    Gaussian cluster centres in `dim` dimensions, each point its centre plus a
    Gaussian in a shared `latent`-dimensional subspace (scaled by `spread`) plus
    a little isotropic noise. Its intrinsic dimension is about `latent`, so HNSW
    reaches recall@10 0.99 at moderate ef, as on real data; i.i.d. noise in all
    `dim` dimensions (clustered()) is far harder than any real embedding set."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 1.0, size=(clusters, dim)).astype(np.float32)
    basis = rng.normal(0.0, 1.0 / np.sqrt(latent), size=(latent, dim)).astype(np.float32)
    which = rng.integers(0, clusters, size=n)
    out = np.empty((n, dim), dtype=np.float32)
    step = 100_000
    for start in range(0, n, step):
        stop = min(n, start + step)
        z = rng.normal(0.0, 1.0, size=(stop - start, latent)).astype(np.float32)
        eps = rng.normal(0.0, noise, size=(stop - start, dim)).astype(np.float32)
        out[start:stop] = centres[which[start:stop]] + spread * (z @ basis) + eps
    return out


def exact_knn(base, queries, k, metric):
    """Exact k nearest base rows for each query (indexes, nearest first), by brute force."""
    if metric == "cosine":
        base = base / np.linalg.norm(base, axis=1, keepdims=True)
        queries = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    base_norms = (base.astype(np.float64) ** 2).sum(axis=1).astype(np.float32)
    result = np.empty((len(queries), k), dtype=np.int64)
    step = 500
    for start in range(0, len(queries), step):
        q = queries[start:start + step]
        if metric == "l2":
            d = base_norms[None, :] - 2.0 * (q @ base.T)  # |q|^2 is the same for a row
        else:  # cosine on unit vectors, or inner product
            d = -(q @ base.T)
        part = np.argpartition(d, k, axis=1)[:, :k]
        order = np.take_along_axis(d, part, axis=1).argsort(axis=1)
        result[start:start + step] = np.take_along_axis(part, order, axis=1)
    return result


def cached_ground_truth(name, base, queries, k, metric):
    """exact_knn, cached in cache_dir() under `name`."""
    path = os.path.join(cache_dir(), f"{name}-gt{k}-{metric}.npy")
    if os.path.exists(path):
        truth = np.load(path)
        if truth.shape == (len(queries), k):
            return truth
    truth = exact_knn(base, queries, k, metric)
    np.save(path, truth)
    return truth


def recall_at(found, truth, k):
    """Mean over queries of |found[:k] & truth[:k]| / k."""
    hits = 0
    for f, t in zip(found, truth):
        hits += len(set(f[:k]) & set(t[:k].tolist()))
    return hits / (k * len(truth))


# The files bench/hnswlib_bench.cpp and bench/engine_bench.cpp read: the
# shape as uint32s, then the values.
def write_f32(path, a):
    a = np.ascontiguousarray(a, dtype=np.float32)
    with open(path, "wb") as f:
        f.write(np.array(a.shape, dtype=np.uint32).tobytes())
        f.write(a.tobytes())


def write_i32(path, a):
    a = np.ascontiguousarray(a, dtype=np.int32)
    with open(path, "wb") as f:
        f.write(np.array(a.shape, dtype=np.uint32).tobytes())
        f.write(a.tobytes())
