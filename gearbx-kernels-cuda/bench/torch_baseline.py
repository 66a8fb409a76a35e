"""PyTorch fp16 baseline for gearbx's CUDA decode benchmark (CudaBench): the same model shapes, one token at a
time, every weight matrix read once per token through torch.nn.functional.linear (q/k/v and gate/up fused as in
gearbx; RMSNorm, SwiGLU, residuals and the output projection; attention over the KV cache is left out, which at
the benchmark's short contexts is a small share of the step). Timed with CUDA events, eager and as a CUDA graph;
prints tokens/s and the effective bandwidth (weight bytes per token times tokens/s).

python3 torch_baseline.py [tokens] [runs]
"""
import statistics
import sys

import torch
import torch.nn.functional as F

SHAPES = {  # name: dim, layers, heads, kv_heads, ffn, vocab
    "llama-3.2-1b": (2048, 16, 32, 8, 8192, 128256),
    "llama-3-8b": (4096, 32, 32, 8, 14336, 128256),
}


def copy_bandwidth():
    a = torch.rand(1 << 29, device="cuda", dtype=torch.float16)
    b = torch.empty_like(a)
    times = []
    for _ in range(11):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        b.copy_(a)
        e.record()
        torch.cuda.synchronize()
        times.append(s.elapsed_time(e))
    return 2 * a.numel() * 2 / (statistics.median(times) / 1e3)


def bench(name, tokens, runs, copy):
    dim, layers, heads, kv_heads, ffn, vocab = SHAPES[name]
    head = dim // heads
    q, kv = heads * head, kv_heads * head
    torch.manual_seed(0)
    h16 = dict(device="cuda", dtype=torch.float16)

    def w(rows, cols):
        return (torch.rand(rows, cols, **h16) * 2 - 1) * (3.0 / cols) ** 0.5

    L = [(w(q + 2 * kv, dim), w(dim, q), w(2 * ffn, dim), w(dim, ffn)) for _ in range(layers)]
    emb, out = w(vocab, dim), w(vocab, dim)
    norm = torch.ones(dim, **h16)
    nbytes = sum(m.numel() * 2 for layer in L for m in layer) + out.numel() * 2 + dim * 2
    tok = torch.zeros(1, dtype=torch.long, device="cuda")

    def step():
        x = emb[tok]
        for wqkv, wo, wgu, wd in L:
            h = F.rms_norm(x, (dim,), norm, 1e-5)
            a = F.linear(h, wqkv)[:, :q]
            x = x + F.linear(a, wo)
            h = F.rms_norm(x, (dim,), norm, 1e-5)
            g, u = F.linear(h, wgu).split(ffn, dim=1)
            x = x + F.linear(F.silu(g) * u, wd)
        logits = F.linear(F.rms_norm(x, (dim,), norm, 1e-5), out)
        tok.copy_(logits.argmax(dim=1))

    def timed(fn):
        rates = []
        for _ in range(runs):
            for _ in range(8):
                fn()
            s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            s.record()
            for _ in range(tokens):
                fn()
            e.record()
            torch.cuda.synchronize()
            rates.append(tokens / (s.elapsed_time(e) / 1e3))
        rates.sort()
        return rates

    with torch.no_grad():
        eager = timed(step)
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            for _ in range(3):
                step()
        torch.cuda.current_stream().wait_stream(stream)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            step()
        graphed = timed(graph.replay)
    for label, r in (("eager", eager), ("cuda graph", graphed)):
        med = r[len(r) // 2]
        eff = nbytes * med
        print(f"torch fp16 {name} {label}: {med:.1f} tok/s [{r[0]:.1f}..{r[-1]:.1f}], {nbytes / 1e6:.1f} MB/token, "
              f"{eff / 1e9:.0f} GB/s effective, {100 * eff / copy:.1f}% of copy")
    del L, emb, out
    torch.cuda.empty_cache()


def main():
    tokens = int(sys.argv[1]) if len(sys.argv) > 1 else 128
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name(0)}")
    copy = copy_bandwidth()
    print(f"copy bandwidth (torch, read + write): {copy / 1e9:.0f} GB/s")
    for name in SHAPES:
        bench(name, tokens, runs, copy)


if __name__ == "__main__":
    main()
