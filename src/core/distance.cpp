// distance.cpp: metric names, scalar reference kernels, the run-time choice
// of SIMD kernel, and vector validation / normalisation.
#include "distance.h"

#include <cmath>
#include <string>

#include "distance_kernels.h"
#include "errors.h"

namespace lhv {

namespace {

#if defined(__x86_64__) || defined(__i386__)
#define LHV_X86 1
#else
#define LHV_X86 0
#endif

// The kernels picked for this CPU, decided once on first use.
struct KernelChoice {
    const char* name;
    DistanceFn l2;
    DistanceFn inner_product;
};

// Asks the CPU which instruction sets it has and picks the widest.
KernelChoice choose_kernels() noexcept {
#if LHV_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        return {"avx512", kernels::l2_squared_avx512, kernels::inner_product_distance_avx512};
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return {"avx2", kernels::l2_squared_avx2, kernels::inner_product_distance_avx2};
#endif
    return {"scalar", l2_squared_scalar, inner_product_distance_scalar};
}

const KernelChoice& kernel_choice() noexcept {
    static const KernelChoice choice = choose_kernels();
    return choice;
}

}  // namespace

const char* metric_name(Metric metric) noexcept {
    switch (metric) {
        case Metric::L2: return "l2";
        case Metric::InnerProduct: return "ip";
        case Metric::Cosine: return "cosine";
    }
    return "unknown";
}

bool metric_from_name(const std::string& name, Metric* out) noexcept {
    if (name == "l2") *out = Metric::L2;
    else if (name == "ip") *out = Metric::InnerProduct;
    else if (name == "cosine") *out = Metric::Cosine;
    else return false;
    return true;
}

DistanceFn distance_function(Metric metric) noexcept {
    const KernelChoice& choice = kernel_choice();
    return metric == Metric::L2 ? choice.l2 : choice.inner_product;
}

const char* simd_level() noexcept { return kernel_choice().name; }

float l2_squared_scalar(const float* a, const float* b, std::size_t dim) noexcept {
    float sum = 0.0f;
    for (std::size_t i = 0; i < dim; i++) {
        float d = a[i] - b[i];
        sum += d * d;
    }
    return sum;
}

float inner_product_distance_scalar(const float* a, const float* b, std::size_t dim) noexcept {
    float dot = 0.0f;
    for (std::size_t i = 0; i < dim; i++) dot += a[i] * b[i];
    return 1.0f - dot;
}

std::size_t available_kernels(KernelSet* out, std::size_t capacity) noexcept {
    std::size_t count = 0;
    auto offer = [&](const char* name, DistanceFn l2, DistanceFn ip) {
        if (count < capacity) out[count] = KernelSet{name, l2, ip};
        count++;
    };
    offer("scalar", l2_squared_scalar, inner_product_distance_scalar);
#if LHV_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        offer("avx2", kernels::l2_squared_avx2, kernels::inner_product_distance_avx2);
    if (__builtin_cpu_supports("avx512f"))
        offer("avx512", kernels::l2_squared_avx512, kernels::inner_product_distance_avx512);
#endif
    return count < capacity ? count : capacity;
}

void validate_vector(const float* v, std::size_t dim, Metric metric) {
    double norm_squared = 0.0;
    for (std::size_t i = 0; i < dim; i++) {
        if (std::isnan(v[i]))
            throw Error(ErrorKind::InvalidVector,
                        "vector component " + std::to_string(i) + " is NaN");
        if (std::isinf(v[i]))
            throw Error(ErrorKind::InvalidVector,
                        "vector component " + std::to_string(i) + " is infinite");
        norm_squared += double(v[i]) * double(v[i]);
    }
    if (metric == Metric::Cosine && !(norm_squared > 0.0))
        throw Error(ErrorKind::InvalidVector,
                    "a zero vector has no direction, so it cannot be used with cosine distance");
}

void normalize(const float* v, float* out, std::size_t dim) noexcept {
    double norm_squared = 0.0;
    for (std::size_t i = 0; i < dim; i++) norm_squared += double(v[i]) * double(v[i]);
    if (!(norm_squared > 0.0)) {
        for (std::size_t i = 0; i < dim; i++) out[i] = v[i];
        return;
    }
    double inverse = 1.0 / std::sqrt(norm_squared);
    for (std::size_t i = 0; i < dim; i++) out[i] = static_cast<float>(v[i] * inverse);
}

}  // namespace lhv
