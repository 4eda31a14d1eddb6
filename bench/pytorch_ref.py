#!/usr/bin/env python3
"""PyTorch reference timings for `mentia bench` (one core: torch.set_num_threads(1)).

Same networks and protocol as mentia's bench: 784 → depth × width (ReLU, dropout) → 10,
softmax cross-entropy, Adam (lr 1e-3), dropout 0.3; mini-batches gathered by index from a
dataset tensor, the whole step timed (gather, forward, backward, optimiser). Evaluation:
dropout active (F.dropout in training mode), batch 1000, loss and argmax per sample, no
autograd. Prints one JSON object on stdout.

Timing: windows of ~10 ms (training) or one pass over nEval rows (evaluation); the reported
rate is the `quantile` (default 0.9) of the per-window rates, plus the median. "clock": "cpu"
times windows in this process's CPU seconds (time.process_time) instead of wall seconds.

usage: OPENBLAS_NUM_THREADS=1 python3 bench/pytorch_ref.py '{"configs": [[128,2,64]], "seconds": 2}'
"""
import json
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(1)
torch.manual_seed(0)


def blas_in_use():
    """Which BLAS shared library this process has mapped (Debian's torch uses the system one)."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if ".so" in line}
    except OSError:
        return "unknown"
    for key in ("openblas", "mkl", "blis", "atlas"):
        hits = sorted(lib for lib in libs if key in lib.lower())
        if hits:
            return hits[0]
    hits = sorted(lib for lib in libs if "libblas" in lib)
    return hits[0] if hits else "unknown (statically linked?)"


def percentile(values, q):
    s = sorted(values)
    return s[int(q * (len(s) - 1))]


CLOCK = time.perf_counter


def windows(run, samples_per_window, seconds, q):
    """Times `run` window by window for `seconds`; returns (q-quantile, median) samples/s.

    Per-window rates and a high quantile make the number robust when other processes share
    the core (they can only slow a window down); mentia measures itself the same way.
    """
    run()  # warm-up
    rates = []
    t_end = time.perf_counter() + seconds
    while time.perf_counter() < t_end or len(rates) < 5:
        t0 = CLOCK()
        run()
        rates.append(samples_per_window / max(CLOCK() - t0, 1e-6))
    return percentile(rates, q), percentile(rates, 0.5)


def make_model(width, depth, p):
    layers, fan_in = [], 784
    for _ in range(depth):
        layers += [torch.nn.Linear(fan_in, width), torch.nn.ReLU(), torch.nn.Dropout(p)]
        fan_in = width
    layers.append(torch.nn.Linear(fan_in, 10))
    return torch.nn.Sequential(*layers)


def bench_train(width, depth, batch, seconds, q, window_s, x, y):
    model = make_model(width, depth, 0.3)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    n = x.shape[0]
    order = torch.randperm(n)
    state = {"s": 0}

    def steps(k):
        for _ in range(k):
            i0 = (state["s"] * batch) % (n - batch)
            state["s"] += 1
            idx = order[i0 : i0 + batch]
            xb, yb = x[idx], y[idx]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()

    steps(10)  # allocator, Adam state
    t0 = CLOCK()
    steps(5)
    k = max(1, round(window_s / max((CLOCK() - t0) / 5, 1e-6)))
    return windows(lambda: steps(k), k * batch, seconds, q)


def bench_eval(width, depth, seconds, q, x, y):
    model = make_model(width, depth, 0.3)
    model.train()  # dropout active during evaluation, as in mentia's p_eval
    n = x.shape[0]

    def run():
        with torch.no_grad():
            for i0 in range(0, n, 1000):
                xb, yb = x[i0 : i0 + 1000], y[i0 : i0 + 1000]
                logits = model(xb)
                F.cross_entropy(logits, yb, reduction="none").sum().item()
                (logits.argmax(1) == yb).sum().item()

    return windows(run, n, seconds, q)


def sgemm_peak(seconds):
    a = torch.randn(1024, 1024)
    b = torch.randn(1024, 1024)
    a @ b
    best = 0.0
    t_end = time.perf_counter() + seconds
    while time.perf_counter() < t_end:
        t0 = CLOCK()
        a @ b
        best = max(best, 2 * 1024**3 / max(CLOCK() - t0, 1e-6) / 1e9)
    return best


def main():
    global CLOCK
    args = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    if args.get("clock") == "cpu":
        CLOCK = time.process_time
    configs = args.get("configs", [[128, 2, 64], [512, 2, 64], [512, 2, 256], [1024, 3, 256]])
    seconds = float(args.get("seconds", 2.0))
    q = float(args.get("quantile", 0.9))
    window_s = float(args.get("windowSeconds", 0.01))
    n_train, n_eval = int(args.get("nTrain", 8192)), int(args.get("nEval", 1000))
    g = torch.Generator().manual_seed(1)
    x = torch.rand(max(n_train, n_eval), 784, generator=g)
    y = torch.randint(0, 10, (max(n_train, n_eval),), generator=g)
    results = []
    for width, depth, batch in configs:
        tr = bench_train(width, depth, batch, seconds, q, window_s, x[:n_train], y[:n_train])
        ev = bench_eval(width, depth, seconds, q, x[:n_eval], y[:n_eval])
        results.append(
            {"width": width, "depth": depth, "batch": batch, "trainSps": tr[0], "trainSpsMedian": tr[1], "evalSps": ev[0], "evalSpsMedian": ev[1]}
        )
    out = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "blas": blas_in_use(),
        "sgemmGflops": sgemm_peak(min(seconds, 1.0)),
        "results": results,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
