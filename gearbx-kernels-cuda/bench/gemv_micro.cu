// Nested (LOW / MID) GEMV microbenchmark: the kernels of gearbx.cu on the matrices of a Llama-shaped model, each
// variant timed alone (a CUDA graph of one launch per layer, dependent launch on, as the backend replays a step)
// and as the whole chain of an 8B / 1B step's GEMVs, against the card's copy bandwidth; every variant's output
// compared with the warp-per-row kernels' (relative L2 error). Built and run on the GPU machine:
//   nvcc -O3 -std=c++17 -arch=sm_90 -o /tmp/gemv_micro gearbx-kernels-cuda/bench/gemv_micro.cu && /tmp/gemv_micro
// Optional arguments: a shape (llama-3-8b or llama-3.2-1b, "" for both), then chains to time by variant name per
// matrix (q/k/v, o, gate/up, down, output), e.g. LOW:i4x1,i4x1,i4x2,a2x8d4,i4x2 or MID:i4x1,rows,i4x1,rows,i4x1.
// Environment: MICRO_CHAINS_ONLY=1 times only those chains; MICRO_CHECK_ONLY=1 only checks the outputs. The
// thread-block-cluster variants measured on 2026-11-28 (BENCHMARKS.md) are in commit e8af3f6.
// Not part of the Maven build; the Java backend is benchmarked by CudaBench.
#include "../src/main/cuda/gearbx.cu"

#include <cuda_runtime.h>

// variants compared here but not used by the backend (gearbx.cu instantiates only those GearMatrix picks)
GEMV_SLICED(gemv_low_s4x1, false, SLICED_AFFINE, 4, 1)
GEMV_SLICED(gemv_lowi_s4x4, false, SLICED_INT, 4, 4)
GEMV_SLICED(gemv_lowi_s8x2, false, SLICED_INT, 8, 2)
GEMV_SLICED(gemv_mid_s2x1, true, SLICED_EXACT, 2, 1)
GEMV_SLICED(gemv_midi_s2x1, true, SLICED_INT, 2, 1)
GEMV_SLICED(gemv_midi_s2x2, true, SLICED_INT, 2, 2)
GEMV_SLICED(gemv_midi_s4x2, true, SLICED_INT, 4, 2)
GEMV_SLICED(gemv_midi_s2x4, true, SLICED_INT, 2, 4)
// weights copied into shared memory (cp.async), D groups in flight
GEMV_ASYNC(gemv_lowa_4x1d1, false, 4, 1, 1)
GEMV_ASYNC(gemv_lowa_4x4d3, false, 4, 4, 3)
GEMV_ASYNC(gemv_lowa_4x8d3, false, 4, 8, 3)
GEMV_ASYNC(gemv_lowa_4x8d6, false, 4, 8, 6)
GEMV_ASYNC(gemv_lowa_2x4d3, false, 2, 4, 3)

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#define CK(call)                                                                                      \
    do {                                                                                              \
        cudaError_t e_ = (call);                                                                      \
        if (e_ != cudaSuccess) {                                                                      \
            fprintf(stderr, "%s:%d %s: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(e_));     \
            exit(1);                                                                                  \
        }                                                                                             \
    } while (0)

typedef void (*NestedKernel)(const unsigned char*, long long, long long, const float*, float*, int, int, int, int, int,
                             int, const double*, float, const float*, float*, double*, int, const float*);

__global__ void fill_words(uint32_t* p, size_t n, uint64_t seed) {
    for (size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x; i < n; i += (size_t) gridDim.x * blockDim.x) {
        uint64_t z = seed + i * 0x9E3779B97F4A7C15ull;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        p[i] = (uint32_t) (z ^ (z >> 31));
    }
}

__global__ void fill_scales(unsigned short* p, size_t n, uint64_t seed) {
    for (size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x; i < n; i += (size_t) gridDim.x * blockDim.x) {
        uint64_t z = (seed + i) * 0x9E3779B97F4A7C15ull;
        z ^= z >> 29;
        float u = (float) (z & 0xFFFF) / 65536.f;
        p[i] = __half_as_ushort(__float2half_rn(0.004f + 0.008f * u));
    }
}

__global__ void fill_x(float* p, int n, uint64_t seed) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        uint64_t z = (seed + i) * 0x9E3779B97F4A7C15ull;
        z ^= z >> 31;
        p[i] = (float) (z & 0xFFFFFF) / 16777216.f * 2.f - 1.f;
    }
}

__global__ void read_all(const uint4* p, size_t n, unsigned* sink) {
    uint32_t a = 0;
    for (size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x; i < n; i += (size_t) gridDim.x * blockDim.x) {
        uint4 v = __ldg(p + i);
        a ^= v.x ^ v.y ^ v.z ^ v.w;
    }
    if (a == 0x12345678u) *sink = a;
}


// ------------------------------------------------------------------------------------------- the memory floor
// The sliced GEMV's loads (G = 1, mode 0/1/2, no norms) with almost no decode (a few bit operations per 16 bytes):
// the time of its memory pattern alone.
template <int RB>
__global__ void micro_floor(const unsigned char* __restrict__ base, long long highOff, const float* __restrict__ x,
                             float* out, int rows, int cols, int mode, int outChunk) {
    __shared__ float part[SLICE_MAX_WARPS][RB];
    pdl_launch_next();
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5, warps = blockDim.x >> 5;
    const int per = mode == 2 ? RB / 2 : RB;
    const int o0 = blockIdx.x * per;
    size_t dr[RB];
#pragma unroll
    for (int k = 0; k < RB; k++) {
        int o = o0 + (mode == 2 ? k % per : k);
        if (o >= rows) o = o0;
        dr[k] = (mode == 2 && k >= per) ? (size_t) o + rows : (size_t) o;
    }
    const int nb = cols >> 5;
    const int b = w * 32 + lane;
    const bool has = b < nb;
    const unsigned short* scales = reinterpret_cast<const unsigned short*>(base);
    const size_t groups = cols / 32;
    const size_t half = cols >> 1;
    for (int i = lane; i < 4 * RB; i += 32) {
        size_t at = (size_t) (w * 32 + (i & 3) * 8) * 16;
        if (at < half) prefetch_line_l2(base + highOff + dr[i >> 2] * half + at);
    }
    pdl_wait_previous();
    uint4 h[RB];
    float sc[RB];
    float4 xa[8];
    if (has) {
#pragma unroll
        for (int k = 0; k < RB; k++) {
            h[k] = __ldg(reinterpret_cast<const uint4*>(base + highOff + dr[k] * half) + b);
            sc[k] = scale_at(scales, dr[k] * groups + b);
        }
        const float4* x4 = reinterpret_cast<const float4*>(x);
#pragma unroll
        for (int q = 0; q < 8; q++) xa[q] = x4[q * nb + b];
    }
    float acc[RB];
#pragma unroll
    for (int k = 0; k < RB; k++) acc[k] = 0.f;
    if (has) {
#pragma unroll
        for (int k = 0; k < RB; k++) acc[k] = sc[k] * __int_as_float(((h[k].x ^ h[k].y ^ h[k].z ^ h[k].w) & 0x3FFFFFFFu)) * xa[k & 7].x;
    }
    constexpr int m = log2_pow2(RB);
    const float v = rows_warp_sum<RB>(acc, lane);
    if ((lane & ((32 >> m) - 1)) == 0) part[w][lane >> (5 - m)] = v;
    __syncthreads();
    if (w != 0) return;
    float tot = 0.f;
    if (lane < RB)
        for (int j = 0; j < warps; j++) tot += part[j][lane];
    tot *= 16.f;
    const float upv = __shfl_down_sync(0xffffffffu, tot, per);
    const int o = o0 + lane;
    if (lane < per && o < rows) gemv_store(out, o, rows, tot, upv, mode, outChunk);
}

typedef void (*MicroKernel)(const unsigned char*, long long, const float*, float*, int, int, int, int);
static MicroKernel micro_for(int rb) {
    return rb == 4 ? micro_floor<4> : micro_floor<8>;
}

struct Matrix {
    unsigned char* base;
    long long highOff, resOff;
    int rows, cols, mode;  // rows: all dot rows (SwiGLU: gate and up)
    size_t bytes(bool mid) const {
        size_t n = (size_t) rows * cols;
        return n / 32 * 2 + (mid ? n : n / 2);
    }
};

static Matrix make_matrix(int rows, int cols, int mode, uint64_t seed) {
    Matrix m{};
    m.rows = rows;
    m.cols = cols;
    m.mode = mode;
    size_t n = (size_t) rows * cols;
    size_t scaleBytes = (n / 32 * 2 + 15) / 16 * 16;
    m.highOff = scaleBytes;
    m.resOff = scaleBytes + n / 2;
    CK(cudaMalloc(&m.base, scaleBytes + n));
    fill_scales<<<1024, 256>>>(reinterpret_cast<unsigned short*>(m.base), n / 32, seed);
    fill_words<<<4096, 256>>>(reinterpret_cast<uint32_t*>(m.base + m.highOff), n / 4, seed * 31 + 7);
    CK(cudaGetLastError());
    return m;
}

struct Variant {
    std::string name;
    int rb;             // 0: warp-per-row kernels with the backend's rows-per-warp rule; else sliced, RB rows per group
    int dec;            // -1: gearbx.cu's sliced kernel k; 1: the memory floor micro_floor<rb>
    int g = 1;          // row groups per block
    NestedKernel k = nullptr;
    int depth = 0;      // gemv_async_impl: groups in flight (dynamic shared memory ring)
};

// dynamic shared memory of an async variant on a block of `block` threads
static size_t ring_bytes(const Variant& v, bool mid, int block) {
    return v.depth == 0 ? 0 : (size_t) v.depth * v.rb * block * (mid ? 36 : 20);
}

static NestedKernel kernel_for(bool mid, int r) {
    if (mid) return r == 1 ? gemv_mid_r1 : r == 2 ? gemv_mid_r2 : gemv_mid_r4;
    return r == 1 ? gemv_low_r1 : r == 2 ? gemv_low_r2 : gemv_low_r4;
}

// the Java GearMatrix.rowsPerWarp rule
static int rows_per_warp(int dots, int mode) {
    int min = mode == 2 ? 2 : 1;
    for (int r = 4; r > min; r /= 2)
        if (dots / r / 4 >= 264) return r;
    return min;
}

// whether the variant's kernel can be launched at all on this matrix (registers x threads per block)
static bool fits(const Matrix& m, bool mid, const Variant& v) {
    if (v.rb == 0) return true;
    cudaFuncAttributes a;
    if (v.dec >= 0) CK(cudaFuncGetAttributes(&a, micro_for(v.rb)));
    else CK(cudaFuncGetAttributes(&a, v.k));
    int block = 32 * ((m.cols / 32 + 31) / 32);
    return block <= a.maxThreadsPerBlock && ring_bytes(v, mid, block) + a.sharedSizeBytes <= 227 * 1024;
}

// a launch with programmatic dependent launch, as the backend's (attr must outlive the launch call)
static cudaLaunchConfig_t dependent_launch(int grid, int block, cudaStream_t s, cudaLaunchAttribute& attr) {
    cudaLaunchConfig_t cfg = {};
    cfg.gridDim = dim3(grid);
    cfg.blockDim = dim3(block);
    cfg.stream = s;
    attr.id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attr.val.programmaticStreamSerializationAllowed = 1;
    cfg.attrs = &attr;
    cfg.numAttrs = 1;
    return cfg;
}

static void launch(const Matrix& m, bool mid, const Variant& v, const float* x, float* out, cudaStream_t s,
                   int modeOverride = -1) {
    int mode = modeOverride >= 0 ? modeOverride : m.mode;
    int outRows = mode == 2 ? m.rows / 2 : m.rows;
    NestedKernel k;
    int grid, block;
    if (v.rb == 0) {
        int r = rows_per_warp(m.rows, mode);
        int perWarp = mode == 2 ? r / 2 : r;
        grid = (outRows + 4 * perWarp - 1) / (4 * perWarp);
        block = 128;
        k = kernel_for(mid, r);
    } else if (v.dec >= 0) {
        int per = mode == 2 ? v.rb / 2 : v.rb;
        cudaLaunchAttribute attr;
        cudaLaunchConfig_t cfg = dependent_launch((outRows + per - 1) / per, 32 * ((m.cols / 32 + 31) / 32), s, attr);
        CK(cudaLaunchKernelEx(&cfg, micro_for(v.rb), (const unsigned char*) m.base, m.highOff, x, out, outRows,
                              m.cols, mode, mode == 2 ? 32 : 4));
        return;
    } else {
        int per = mode == 2 ? v.rb * v.g / 2 : v.rb * v.g;
        grid = (outRows + per - 1) / per;
        block = 32 * ((m.cols / 32 + 31) / 32);
        k = v.k;
    }
    cudaLaunchAttribute attr;
    cudaLaunchConfig_t cfg = dependent_launch(grid, block, s, attr);
    cfg.dynamicSmemBytes = ring_bytes(v, mid, block);
    if (cfg.dynamicSmemBytes > 0)
        CK(cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, (int) cfg.dynamicSmemBytes));
    CK(cudaLaunchKernelEx(&cfg, k, (const unsigned char*) m.base, m.highOff, m.resOff, x, out, outRows, m.cols, 32,
                          mode, 1, mode == 2 ? 32 : 4, (const double*) nullptr, 0.f, (const float*) nullptr,
                          (float*) nullptr, (double*) nullptr, 4, (const float*) nullptr));
}

// median time of one replay of the graph captured from body (ms), 3 warm-up + reps replays
template <typename F>
static float time_graph(cudaStream_t s, int reps, F body) {
    cudaGraph_t g;
    cudaGraphExec_t ge;
    CK(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal));
    body();
    CK(cudaStreamEndCapture(s, &g));
    CK(cudaGraphInstantiate(&ge, g, 0));
    cudaEvent_t a, b;
    CK(cudaEventCreate(&a));
    CK(cudaEventCreate(&b));
    for (int i = 0; i < 3; i++) CK(cudaGraphLaunch(ge, s));
    std::vector<float> t;
    for (int i = 0; i < reps; i++) {
        CK(cudaEventRecord(a, s));
        CK(cudaGraphLaunch(ge, s));
        CK(cudaEventRecord(b, s));
        CK(cudaEventSynchronize(b));
        float ms;
        CK(cudaEventElapsedTime(&ms, a, b));
        t.push_back(ms);
    }
    std::sort(t.begin(), t.end());
    CK(cudaGraphExecDestroy(ge));
    CK(cudaGraphDestroy(g));
    return t[t.size() / 2];
}

int main(int argc, char** argv) {
    std::string only = argc > 1 ? argv[1] : "";
    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, 0));
    printf("card: %s, %d SMs\n", prop.name, prop.multiProcessorCount);
    cudaStream_t s;
    CK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    // copy bandwidth (bytes read + written) and a read-only kernel, 1 GiB
    size_t big = 1ull << 30;
    void *src, *dst;
    unsigned* sink;
    CK(cudaMalloc(&src, big));
    CK(cudaMalloc(&dst, big));
    CK(cudaMalloc(&sink, 4));
    float copyMs;
    {
        cudaEvent_t a, b;
        CK(cudaEventCreate(&a));
        CK(cudaEventCreate(&b));
        std::vector<float> t;
        for (int i = 0; i < 11; i++) {
            CK(cudaEventRecord(a, s));
            CK(cudaMemcpyAsync(dst, src, big, cudaMemcpyDeviceToDevice, s));
            CK(cudaEventRecord(b, s));
            CK(cudaEventSynchronize(b));
            float ms;
            CK(cudaEventElapsedTime(&ms, a, b));
            if (i > 0) t.push_back(ms);
        }
        std::sort(t.begin(), t.end());
        copyMs = t[t.size() / 2];
    }
    float readMs = time_graph(s, 10, [&] { read_all<<<prop.multiProcessorCount * 8, 512, 0, s>>>((const uint4*) src, big / 16, sink); });
    double copyGBs = 2.0 * big / copyMs / 1e6, readGBs = (double) big / readMs / 1e6;
    printf("copy %.0f GB/s (read + write), read-only kernel %.0f GB/s\n", copyGBs, readGBs);
    CK(cudaFree(src));
    CK(cudaFree(dst));

    struct Model {
        const char* name;
        int dim, layers, qkv, ffn, vocab;
    };
    std::vector<Model> models = {{"llama-3-8b", 4096, 32, 6144, 14336, 128256}, {"llama-3.2-1b", 2048, 16, 3072, 8192, 128256}};
    // LOW: the production kernels, then the experimental decodes; MID: the production kernels
    std::vector<Variant> lowVariants = {{"rows", 0, -1}, {"floor4", 4, 1}, {"s4x1", 4, -1, 1, gemv_low_s4x1},
                                        {"i4x1", 4, -1, 1, gemv_lowi_s4x1}, {"i4x2", 4, -1, 2, gemv_lowi_s4x2},
                                        {"i4x4", 4, -1, 4, gemv_lowi_s4x4}, {"i2x4", 2, -1, 4, gemv_lowi_s2x4},
                                        {"i8x2", 8, -1, 2, gemv_lowi_s8x2}, {"a4x1d1", 4, -1, 1, gemv_lowa_4x1d1, 1},
                                        {"a4x2d2", 4, -1, 2, gemv_lowa_4x2d2, 2}, {"a4x4d3", 4, -1, 4, gemv_lowa_4x4d3, 3},
                                        {"a4x8d3", 4, -1, 8, gemv_lowa_4x8d3, 3}, {"a4x8d6", 4, -1, 8, gemv_lowa_4x8d6, 6},
                                        {"a2x8d4", 2, -1, 8, gemv_lowa_2x8d4, 4}, {"a2x4d3", 2, -1, 4, gemv_lowa_2x4d3, 3}};
    std::vector<Variant> midVariants = {{"rows", 0, -1}, {"s2x1", 2, -1, 1, gemv_mid_s2x1},
                                        {"i2x1", 2, -1, 1, gemv_midi_s2x1}, {"i2x2", 2, -1, 2, gemv_midi_s2x2},
                                        {"i4x1", 4, -1, 1, gemv_midi_s4x1}, {"i4x2", 4, -1, 2, gemv_midi_s4x2},
                                        {"i2x4", 2, -1, 4, gemv_midi_s2x4}, {"a4x2d2", 4, -1, 2, gemv_mida_4x2d2, 2},
                                        {"a4x4d2", 4, -1, 4, gemv_mida_4x4d2, 2}};
    for (const Model& md : models) {
        if (!only.empty() && only != md.name) continue;
        printf("\n== %s ==\n", md.name);
        std::vector<Matrix> layer[4];
        const char* names[5] = {"qkv", "o", "gate_up", "down", "output"};
        for (int l = 0; l < md.layers; l++) {
            layer[0].push_back(make_matrix(md.qkv, md.dim, 0, 100 * l + 1));
            layer[1].push_back(make_matrix(md.dim, md.dim, 1, 100 * l + 2));
            layer[2].push_back(make_matrix(2 * md.ffn, md.dim, 2, 100 * l + 3));
            layer[3].push_back(make_matrix(md.dim, md.ffn, 1, 100 * l + 4));
        }
        Matrix head = make_matrix(md.vocab, md.dim, 0, 99);
        float *x, *xf, *out, *res, *hb, *ref, *got;
        int maxRows = std::max(md.vocab, 2 * md.ffn);
        CK(cudaMalloc(&x, md.dim * 4));
        CK(cudaMalloc(&xf, md.ffn * 4));
        CK(cudaMalloc(&out, maxRows * 4));
        CK(cudaMalloc(&res, md.dim * 4));
        CK(cudaMalloc(&hb, md.ffn * 4));
        CK(cudaMemset(res, 0, md.dim * 4));
        CK(cudaMalloc(&ref, maxRows * 4));
        CK(cudaMalloc(&got, maxRows * 4));
        fill_x<<<64, 256>>>(x, md.dim, 5);
        fill_x<<<64, 256>>>(xf, md.ffn, 6);
        CK(cudaDeviceSynchronize());
        for (int mid = 0; mid < 2; mid++) {
            std::vector<Variant>& variants = mid ? midVariants : lowVariants;
            // correctness against the warp-per-row kernels, mode 0 (or SwiGLU), layer 0 and the head
            for (int k = 0; k < 5; k++) {
                const Matrix& m = k < 4 ? layer[k][0] : head;
                int mode = m.mode == 2 ? 2 : 0;
                const float* in = k == 3 ? xf : x;
                int n = mode == 2 ? m.rows / 2 : m.rows;
                std::vector<float> r(n), g(n);
                CK(cudaMemsetAsync(ref, 0, n * 4, s));
                launch(m, mid, variants[0], in, ref, s, mode);
                CK(cudaMemcpyAsync(r.data(), ref, n * 4, cudaMemcpyDeviceToHost, s));
                CK(cudaStreamSynchronize(s));
                for (size_t vi = 1; vi < variants.size(); vi++) {
                    if (variants[vi].dec == 1 || !fits(m, mid, variants[vi])) continue;  // nothing to compare
                    CK(cudaMemsetAsync(got, 0, n * 4, s));
                    launch(m, mid, variants[vi], in, got, s, mode);
                    CK(cudaMemcpyAsync(g.data(), got, n * 4, cudaMemcpyDeviceToHost, s));
                    CK(cudaStreamSynchronize(s));
                    double num = 0, den = 0;
                    for (int i = 0; i < n; i++) {
                        num += (double) (g[i] - r[i]) * (g[i] - r[i]);
                        den += (double) r[i] * r[i];
                    }
                    double err = std::sqrt(num / std::max(den, 1e-30));
                    if (!(err < 1e-5)) printf("MISMATCH %s %s %s: relative L2 error %.3g\n", mid ? "MID" : "LOW", names[k], variants[vi].name.c_str(), err);
                    else if (k == 0 || variants[vi].name[0] == 'i') printf("check %s %s %s: relative L2 error %.3g\n", mid ? "MID" : "LOW", names[k], variants[vi].name.c_str(), err);
                }
            }
            if (getenv("MICRO_CHECK_ONLY") != nullptr) continue;  // correctness only (e.g. under compute-sanitizer)
            // each matrix kind alone: one graph of its launches over all layers (the head: 4 launches of the one head)
            printf("%s, us per launch (GB/s, %% of copy):\n%-8s", mid ? "MID" : "LOW", "matrix");
            for (auto& v : variants) printf(" %22s", v.name.c_str());
            printf("\n");
            std::vector<int> best(5, 0);
            const bool chainsOnly = getenv("MICRO_CHAINS_ONLY") != nullptr;  // only the chains named on the command line
            for (int k = 0; k < (chainsOnly ? 0 : 7); k++) {
                // k = 5, 6: the o and qkv matrices of layer 0 launched 32 times (L2-resident: decode speed alone)
                bool resident = k >= 5;
                int kind = k == 5 ? 1 : k == 6 ? 0 : k;
                printf("%-8s", k == 5 ? "o (L2)" : k == 6 ? "qkv (L2)" : names[k]);
                float bestUs = 1e30f;
                for (size_t vi = 0; vi < variants.size(); vi++) {
                    if (!fits(kind < 4 ? layer[kind][0] : head, mid, variants[vi])) {
                        printf(" %22s", "n/a");
                        continue;
                    }
                    int count = kind < 4 ? md.layers : 4;
                    float ms = time_graph(s, 15, [&] {
                        for (int l = 0; l < count; l++) {
                            const Matrix& m = kind < 4 ? layer[kind][resident ? 0 : l] : head;
                            launch(m, mid, variants[vi], kind == 1 || kind == 3 ? xf : x, kind == 2 ? hb : kind == 0 || kind == 4 ? out : res, s);
                        }
                    });
                    const Matrix& m = kind < 4 ? layer[kind][0] : head;
                    double us = ms * 1000.0 / count;
                    double gbs = m.bytes(mid) / us / 1e3;
                    printf(" %8.2f (%5.0f, %4.1f%%)", us, gbs, 100 * gbs / copyGBs);
                    if (k < 5 && variants[vi].dec != 1 && us < bestUs) bestUs = us, best[k] = vi;
                }
                printf("\n");
            }
            // the whole step's GEMVs: fixed variants and the best per matrix kind
            size_t total = head.bytes(mid);
            for (int k = 0; k < 4; k++) total += (size_t) md.layers * layer[k][0].bytes(mid);
            std::vector<std::vector<int>> plans;
            for (size_t vi = 0; vi < variants.size(); vi++) {
                bool all = true;
                for (int k = 0; k < 5; k++) all = all && fits(k < 4 ? layer[k][0] : head, mid, variants[vi]);
                if (all && variants[vi].dec != 1 && !chainsOnly) plans.push_back(std::vector<int>(5, vi));
            }
            if (!chainsOnly) plans.push_back(best);
            // candidate mixes by name (q/k/v, o, gate/up, down, output), from argv[2..] as "LOW:a,b,c,d,e" or "MID:..."
            for (int ai = 2; ai < argc; ai++) {
                std::string spec = argv[ai];
                std::string gear = mid ? "MID:" : "LOW:";
                if (spec.rfind(gear, 0) != 0) continue;
                std::vector<int> plan;
                size_t at = gear.size();
                while (at <= spec.size()) {
                    size_t end = spec.find(',', at);
                    std::string name = spec.substr(at, end == std::string::npos ? std::string::npos : end - at);
                    for (size_t vi = 0; vi < variants.size(); vi++)
                        if (variants[vi].name == name) plan.push_back(vi);
                    if (end == std::string::npos) break;
                    at = end + 1;
                }
                bool ok = plan.size() == 5;
                for (int k = 0; ok && k < 5; k++) ok = fits(k < 4 ? layer[k][0] : head, mid, variants[plan[k]]);
                if (ok) plans.push_back(plan);
                else printf("plan %s: unknown variant or does not fit\n", spec.c_str());
            }
            for (auto& plan : plans) {
                float ms = time_graph(s, 15, [&] {
                    for (int l = 0; l < md.layers; l++) {
                        launch(layer[0][l], mid, variants[plan[0]], x, out, s);
                        launch(layer[1][l], mid, variants[plan[1]], xf, res, s);
                        launch(layer[2][l], mid, variants[plan[2]], x, hb, s);
                        launch(layer[3][l], mid, variants[plan[3]], hb, res, s);
                    }
                    launch(head, mid, variants[plan[4]], x, out, s);
                });
                std::string label;
                for (int k = 0; k < 5; k++) label += (k ? "," : "") + variants[plan[k]].name;
                double gbs = total / (ms * 1e6);
                printf("%s chain [%s]: %.3f ms, %.0f GB/s, %.1f%% of copy\n", mid ? "MID" : "LOW", label.c_str(), ms, gbs, 100 * gbs / copyGBs);
            }
        }
        for (int k = 0; k < 4; k++)
            for (auto& m : layer[k]) CK(cudaFree(m.base));
        CK(cudaFree(head.base));
        CK(cudaFree(x));
        CK(cudaFree(xf));
        CK(cudaFree(out));
        CK(cudaFree(res));
        CK(cudaFree(hb));
        CK(cudaFree(ref));
        CK(cudaFree(got));
    }
    return 0;
}
