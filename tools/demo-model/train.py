#!/usr/bin/env python3
"""Trains gearbx's embedded demo model: a small character-level Llama on the corpus `gearbx demo corpus` writes.

Reads  DATA/train.u16.gz, DATA/eval.jsonl, DATA/vocab.json   (written by `./gearbx demo corpus --out DATA`)
Writes OUT/manifest.json + OUT/weights.bin (matrices float16, norms float32, for `./gearbx demo export`), OUT/eval.json (accuracy and
mean entropy per level, greedy, fp32), OUT/reference.json (fp32 logits of one prompt, for a differential test
against gearbx's forward pass) and OUT/train.log.

The architecture is exactly what gearbx's Llama forward computes: RMSNorm (eps 1e-5), RoPE on adjacent pairs
(llama.cpp's "normal" rope, theta 10000), grouped-query attention (query head h reads KV head h // (H/KV)),
SwiGLU feed-forward, untied output matrix. Everything is seeded; the command and the step count are recorded in
manifest.json.
"""
import argparse
import gzip
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def ternary(w, group=32, lloyd_steps=2):
    """gearbx's INT2 LOW format as a fake quantizer: per row, groups of `group` inputs, codes in {-1, 0, 1}, scale =
    mean |w| then `lloyd_steps` least-squares refits (mean |w| of the nonzero codes); straight-through gradient."""
    out_f, in_f = w.shape
    g = w.view(out_f, in_f // group, group)
    a = g.detach().abs()
    s = a.mean(-1, keepdim=True)
    for _ in range(lloyd_steps):
        nz = (a >= 0.5 * s).float()
        s = torch.where(nz.sum(-1, keepdim=True) > 0, (a * nz).sum(-1, keepdim=True) / nz.sum(-1, keepdim=True).clamp(min=1), s)
    q = torch.clamp(torch.round(g / s.clamp(min=1e-12)), -1, 1) * s
    return (g + (q - g).detach()).view(out_f, in_f)


QUANTIZE = {"on": False}


def linear(lin, x):
    """A block's linear layer: full precision, or through the INT2 fake quantizer while QUANTIZE["on"]."""
    return F.linear(x, ternary(lin.weight)) if QUANTIZE["on"] else lin(x)


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope(x, cos, sin):
    # x: (B, T, heads, hd); rotate adjacent pairs (x[2i], x[2i+1]) by pos * theta^(-2i/hd)
    b, t, h, d = x.shape
    xp = x.float().view(b, t, h, d // 2, 2)
    x0, x1 = xp[..., 0], xp[..., 1]
    c = cos[:t].view(1, t, 1, d // 2)
    s = sin[:t].view(1, t, 1, d // 2)
    return torch.stack((x0 * c - x1 * s, x0 * s + x1 * c), dim=-1).view(b, t, h, d).type_as(x)


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        dim, heads, kv, ffn = cfg["dim"], cfg["heads"], cfg["kv_heads"], cfg["ffn"]
        hd = dim // heads
        self.cfg = cfg
        self.attn_norm = nn.Parameter(torch.ones(dim))
        self.wq = nn.Linear(dim, heads * hd, bias=False)
        self.wk = nn.Linear(dim, kv * hd, bias=False)
        self.wv = nn.Linear(dim, kv * hd, bias=False)
        self.wo = nn.Linear(heads * hd, dim, bias=False)
        self.ffn_norm = nn.Parameter(torch.ones(dim))
        self.w_gate = nn.Linear(dim, ffn, bias=False)
        self.w_up = nn.Linear(dim, ffn, bias=False)
        self.w_down = nn.Linear(ffn, dim, bias=False)

    def forward(self, x, cos, sin):
        cfg = self.cfg
        b, t, dim = x.shape
        heads, kv = cfg["heads"], cfg["kv_heads"]
        hd = dim // heads
        h = rms_norm(x, self.attn_norm, cfg["norm_eps"])
        q = rope(linear(self.wq, h).view(b, t, heads, hd), cos, sin).transpose(1, 2)
        k = rope(linear(self.wk, h).view(b, t, kv, hd), cos, sin).transpose(1, 2)
        v = linear(self.wv, h).view(b, t, kv, hd).transpose(1, 2)
        # GQA: each KV head serves heads/kv consecutive query heads
        k = k.repeat_interleave(heads // kv, dim=1)
        v = v.repeat_interleave(heads // kv, dim=1)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + linear(self.wo, y.transpose(1, 2).reshape(b, t, heads * hd))
        h = rms_norm(x, self.ffn_norm, cfg["norm_eps"])
        return x + linear(self.w_down, F.silu(linear(self.w_gate, h)) * linear(self.w_up, h))


class Llama(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg["vocab"], cfg["dim"])
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg["layers"]))
        self.norm = nn.Parameter(torch.ones(cfg["dim"]))
        self.out = nn.Linear(cfg["dim"], cfg["vocab"], bias=False)
        hd = cfg["dim"] // cfg["heads"]
        freqs = cfg["rope_theta"] ** (-2.0 * torch.arange(hd // 2, dtype=torch.float64) / hd)
        angles = torch.arange(cfg["context"], dtype=torch.float64)[:, None] * freqs[None, :]
        self.register_buffer("cos", torch.cos(angles).float(), persistent=False)
        self.register_buffer("sin", torch.sin(angles).float(), persistent=False)
        for name, p in self.named_parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=0.02)
        for blk in self.blocks:  # scaled init of the residual projections
            nn.init.normal_(blk.wo.weight, std=0.02 / math.sqrt(2 * cfg["layers"]))
            nn.init.normal_(blk.w_down.weight, std=0.02 / math.sqrt(2 * cfg["layers"]))

    def forward(self, ids):
        x = self.embed(ids)
        for blk in self.blocks:
            x = blk(x, self.cos, self.sin)
        return self.out(rms_norm(x, self.norm, self.cfg["norm_eps"]))

    def gguf_tensors(self):
        """(name, GGUF shape [ne0, ne1], tensor) in gearbx's order; torch (out, in) rows are GGUF's [in, out]."""
        yield "token_embd.weight", [self.cfg["dim"], self.cfg["vocab"]], self.embed.weight
        yield "output_norm.weight", [self.cfg["dim"]], self.norm
        yield "output.weight", [self.cfg["dim"], self.cfg["vocab"]], self.out.weight
        for i, b in enumerate(self.blocks):
            p = f"blk.{i}."
            yield p + "attn_norm.weight", [b.attn_norm.shape[0]], b.attn_norm
            for n, lin in (("attn_q", b.wq), ("attn_k", b.wk), ("attn_v", b.wv), ("attn_output", b.wo),
                           ("ffn_gate", b.w_gate), ("ffn_up", b.w_up), ("ffn_down", b.w_down)):
                yield p + n + ".weight", [lin.weight.shape[1], lin.weight.shape[0]], lin.weight
            yield p + "ffn_norm.weight", [b.ffn_norm.shape[0]], b.ffn_norm


def decode(tokens, ids):
    out = bytearray()
    for i in ids:
        t = tokens[i]
        if t.startswith("<0x") and len(t) == 6:
            out.append(int(t[3:5], 16))
        elif t in ("<s>", "</s>", "<unk>"):
            continue
        else:
            out += t.replace("\u2581", " ").encode()
    return out.decode("utf-8", errors="replace")


def last_number(text):
    import re
    nums = re.findall(r"-?\d+", text)
    return nums[-1] if nums else None


@torch.no_grad()
def evaluate(model, items, vocab, device, max_new=80):
    """Greedy generation at fp32 for every item, grouped by prompt length; accuracy and mean entropy per level."""
    model.eval()
    eos = vocab["eos"]
    groups = {}
    for i, it in enumerate(items):
        groups.setdefault(len(it["prompt_ids"]), []).append(i)
    results = [None] * len(items)
    for length, idx in groups.items():
        for s in range(0, len(idx), 256):
            chunk = idx[s:s + 256]
            ids = torch.tensor([items[i]["prompt_ids"] for i in chunk], device=device)
            done = torch.zeros(len(chunk), dtype=torch.bool, device=device)
            gen, ents = [], []
            for _ in range(max_new):
                logits = model(ids)[:, -1, :].float()
                logp = torch.log_softmax(logits, -1)
                ent = -(logp.exp() * logp).sum(-1) / math.log(2)
                nxt = logits.argmax(-1)
                gen.append(nxt)
                ents.append(torch.where(done, torch.nan, ent))
                done = done | (nxt == eos)
                ids = torch.cat([ids, nxt[:, None]], dim=1)
                if bool(done.all()):
                    break
            gen = torch.stack(gen, 1).tolist()
            ents = torch.stack(ents, 1).tolist()
            for j, i in enumerate(chunk):
                g = gen[j]
                n = g.index(eos) if eos in g else len(g)
                text = decode(vocab["tokens"], g[:n])
                e = [x for x in ents[j][:n + 1] if not math.isnan(x)]
                results[i] = (text, sum(e) / max(1, len(e)))
    per = {}
    for it, (text, ent) in zip(items, results):
        lv = it["level"]
        expected = it["answer"].split("####")[-1].strip()
        ok = (text == it["completion"]) if lv == "trivial" else (last_number(text) == expected)
        d = per.setdefault(lv, {"n": 0, "correct": 0, "entropy": 0.0})
        d["n"] += 1
        d["correct"] += int(ok)
        d["entropy"] += ent
    for d in per.values():
        d["accuracy"] = d["correct"] / d["n"]
        d["entropy"] /= d["n"]
    model.train()
    return per, results


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=0, help="optimizer steps; 0 = as many as fit --budget-seconds")
    ap.add_argument("--budget-seconds", type=float, default=240)
    ap.add_argument("--max-seconds", type=float, default=420, help="safety cap on training time")
    ap.add_argument("--stop-after", type=int, default=0,
                    help="stop after this many steps while the learning-rate schedule still spans --steps (0 = run all)")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--kv-heads", type=int, default=4)
    ap.add_argument("--ffn", type=int, default=768)
    ap.add_argument("--context", type=int, default=256)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--eval-every", type=int, default=1000)
    ap.add_argument("--qat-int2", action="store_true",
                    help="half of every batch runs the blocks' matrices through the INT2 (ternary) LOW quantizer")
    args = ap.parse_args()

    os.makedirs(args.out, exist_ok=True)
    log = open(os.path.join(args.out, "train.log"), "w")

    def say(*a):
        line = " ".join(str(x) for x in a)
        print(line, flush=True)
        log.write(line + "\n")
        log.flush()

    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    say("device", device, torch.cuda.get_device_name() if device == "cuda" else "", "torch", torch.__version__)
    vocab = json.load(open(os.path.join(args.data, "vocab.json")))
    items = [json.loads(l) for l in open(os.path.join(args.data, "eval.jsonl"))]
    with gzip.open(os.path.join(args.data, "train.u16.gz"), "rb") as f:
        data = torch.from_numpy(np.frombuffer(f.read(), dtype="<u2").astype(np.int64)).to(device)
    say("training tokens", data.numel())
    cfg = dict(vocab=len(vocab["tokens"]), dim=args.dim, layers=args.layers, heads=args.heads,
               kv_heads=args.kv_heads, ffn=args.ffn, context=args.context, rope_theta=10000.0, norm_eps=1e-5)
    model = Llama(cfg).to(device)
    params = sum(p.numel() for p in model.parameters())
    say("parameters", params, "config", json.dumps(cfg))
    decay = [p for p in model.parameters() if p.dim() == 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), fused=device == "cuda")
    warmup = 200
    if args.steps == 0:
        # time 60 steps (after 10 to warm up) on a throwaway copy of the optimizer state, then fix the step count
        probe = [p.detach().clone() for p in model.parameters()]
        for i in range(70):
            if i == 10:
                torch.cuda.synchronize() if device == "cuda" else None
                t0 = time.time()
            seqs = data[torch.randint(0, data.numel() - args.seq - 1, (args.batch,), device=device)[:, None]
                        + torch.arange(args.seq + 1, device=device)[None, :]]
            with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=device == "cuda"):
                loss = F.cross_entropy(model(seqs[:, :-1]).float().view(-1, cfg["vocab"]), seqs[:, 1:].reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
        torch.cuda.synchronize() if device == "cuda" else None
        per_step = (time.time() - t0) / 60
        with torch.no_grad():
            for p, q in zip(model.parameters(), probe):
                p.copy_(q)
        opt.zero_grad(set_to_none=True)
        args.steps = max(warmup + 100, int(args.budget_seconds / (per_step * 1.15)) // 100 * 100)
        say(f"probe: {per_step * 1000:.1f} ms per forward+backward; training {args.steps} steps")

    def lr_at(step):
        if step < warmup:
            return args.lr * (step + 1) / warmup
        frac = (step - warmup) / max(1, args.steps - warmup)
        return args.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, frac))))

    gen = torch.Generator(device=device)
    gen.manual_seed(args.seed)
    offsets = torch.arange(args.seq + 1, device=device)
    start = time.time()
    step = 0
    history = []
    last = args.stop_after if args.stop_after > 0 else args.steps
    while step < last and time.time() - start < args.max_seconds:
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        starts = torch.randint(0, data.numel() - args.seq - 1, (args.batch,), device=device, generator=gen)
        seqs = data[starts[:, None] + offsets[None, :]]
        opt.zero_grad(set_to_none=True)
        parts = [(seqs, False)] if not args.qat_int2 else [(seqs[: args.batch // 2], False), (seqs[args.batch // 2:], True)]
        for part, quantized in parts:
            QUANTIZE["on"] = quantized
            with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=device == "cuda"):
                logits = model(part[:, :-1])
            loss = F.cross_entropy(logits.float().view(-1, cfg["vocab"]), part[:, 1:].reshape(-1)) / len(parts)
            loss.backward()
        QUANTIZE["on"] = False
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        if step % 100 == 0:
            say(f"step {step} loss(last part) {loss.item() * len(parts):.4f} lr {lr_at(step):.2e} elapsed {time.time() - start:.1f}s")
        if step % args.eval_every == 0:
            per, _ = evaluate(model, items[::4], vocab, device)
            history.append({"step": step, "eval": per})
            say("eval", step, json.dumps({k: round(v["accuracy"], 3) for k, v in per.items()}))
            if args.qat_int2:
                QUANTIZE["on"] = True
                per, _ = evaluate(model, items[::4], vocab, device)
                QUANTIZE["on"] = False
                history[-1]["eval_int2"] = per
                say("eval int2", step, json.dumps({k: round(v["accuracy"], 3) for k, v in per.items()}))
    elapsed = time.time() - start
    say(f"trained {step} steps in {elapsed:.1f}s")

    # the shipped model stores its matrices in float16: round them now so the scores and reference are the shipped model's
    with torch.no_grad():
        for prm in model.parameters():
            if prm.dim() == 2:
                prm.copy_(prm.half().float())
    per, results = evaluate(model, items, vocab, device)
    say("final eval", json.dumps(per))
    for it, (text, ent) in list(zip(items, results))[::100]:
        say(repr(it["question"]), "->", repr(text), f"H={ent:.3f}")
    per_int2 = None
    if args.qat_int2:
        QUANTIZE["on"] = True
        per_int2, _ = evaluate(model, items, vocab, device)
        QUANTIZE["on"] = False
        say("final eval int2", json.dumps(per_int2))
    json.dump({"steps": step, "seconds": elapsed, "per_level": per, "per_level_int2": per_int2, "history": history},
              open(os.path.join(args.out, "eval.json"), "w"), indent=1)

    # fp32 logits of one prompt at the last position, for gearbx's differential test
    model.eval()
    with torch.no_grad():
        ids = items[len(items) // 2]["prompt_ids"]
        ref = model(torch.tensor([ids], device=device))[0].float().cpu()
    json.dump({"prompt_ids": ids, "last_logits": ref[-1].tolist(), "first_logits": ref[0].tolist()},
              open(os.path.join(args.out, "reference.json"), "w"))

    tensors, offset = [], 0
    with open(os.path.join(args.out, "weights.bin"), "wb") as f:
        for name, shape, t in model.gguf_tensors():
            dtype = "<f2" if len(shape) == 2 else "<f4"
            a = t.detach().float().cpu().contiguous().numpy().astype(dtype)
            assert a.size == int(np.prod(shape)), name
            f.write(a.tobytes())
            tensors.append({"name": name, "shape": shape, "offset": offset, "dtype": "f16" if len(shape) == 2 else "f32"})
            offset += a.nbytes
    json.dump({"config": cfg, "tensors": tensors,
               "training": {"command": " ".join(sys.argv), "reproduce_with": f"--steps {args.steps} --stop-after {step}" + (" --qat-int2" if args.qat_int2 else ""), "steps": step, "seconds": round(elapsed, 1),
                            "parameters": params, "tokens_seen": step * args.batch * args.seq,
                            "device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
                            "torch": torch.__version__}},
              open(os.path.join(args.out, "manifest.json"), "w"), indent=1)
    say("wrote", args.out)


if __name__ == "__main__":
    main()
