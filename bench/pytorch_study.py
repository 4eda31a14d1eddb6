#!/usr/bin/env python3
"""PyTorch side of `mentia bench --study`: trains and evaluates the same jobs as mentia, with the
same protocol, one core (torch.set_num_threads(1)), and prints one JSON object.

Input: a directory written by mentia (src/cli/bench-study.ts) with
  jobs.json    [{width, depth, pTrain, n, seed, batch, lr, pEvals, masks, valEvery, patience, maxSteps}, ...]
  train_x.f32  the first max(n) rows of mentia's nested training subset (float32, rows × 784)
  train_y.u8   their labels
  val_x.f32 / val_y.u8     the validation split (the same images mentia validates on)
  test_x.f32 / test_y.u8   the 10,000 MNIST test images and labels
Each job: a fresh 784 → depth × width (ReLU, dropout p_train) → 10 network (nn.Linear, PyTorch's
default init), Adam, mini-batch steps over per-epoch shuffles of its n rows with mentia's early
stopping (src/train/train.ts): every `valEvery` steps the validation cross-entropy without
dropout (batch 1000, no autograd); a better one saves a copy of the weights, `patience`
validations without improvement stop; at `maxSteps` a last validation where the cap fell
between two; the best weights restored. Then the test loss and accuracy at every p_eval with `masks` draws of a
fresh dropout mask per sample (one pass where p_eval = 0), batch 1000, no autograd. Layer 0's
product is computed once per test batch and shared by every (p_eval, draw), as mentia does.

usage: python3 bench/pytorch_study.py DIR
"""
import json
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(1)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_ref import make_model  # noqa: E402  (the same network as the per-step benchmark)


def validation_loss(model, vx, vy):
    model.eval()
    total = 0.0
    with torch.no_grad():
        for i0 in range(0, vx.shape[0], 1000):
            total += F.cross_entropy(model(vx[i0 : i0 + 1000]), vy[i0 : i0 + 1000], reduction="sum").item()
    model.train()
    return total / vx.shape[0]


def train(job, x, y, vx, vy):
    """Early stopping as mentia's trainNetwork does it; returns (model, steps, validations, best step)."""
    torch.manual_seed(job["seed"])
    model = make_model(job["width"], job["depth"], job["pTrain"])
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=job["lr"])
    n, batch, every, patience, max_steps = job["n"], job["batch"], job["valEvery"], job["patience"], job["maxSteps"]
    xs, ys = x[:n], y[:n]
    step = validations = since_best = 0
    best, best_step, best_state, stopped = float("inf"), 0, None, False
    while step < max_steps and not stopped:
        perm = torch.randperm(n)
        for i0 in range(0, n, batch):
            if step >= max_steps:
                break
            idx = perm[i0 : i0 + batch]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(xs[idx]), ys[idx])
            loss.backward()
            opt.step()
            step += 1
            if step % every == 0:
                v = validation_loss(model, vx, vy)
                validations += 1
                if v < best:
                    best, best_step, since_best = v, step, 0
                    best_state = {k: t.clone() for k, t in model.state_dict().items()}
                else:
                    since_best += 1
                    if since_best >= patience:
                        stopped = True
                        break
    if not stopped and step % every != 0:
        v = validation_loss(model, vx, vy)
        validations += 1
        if v < best:
            best, best_step = v, step
            best_state = {k: t.clone() for k, t in model.state_dict().items()}
    if best_state is not None and best_step != step:
        model.load_state_dict(best_state)
    return model, step, validations, best_step


def evaluate(job, model, x, y):
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    p_evals, masks = job["pEvals"], job["masks"]
    sums = [[0.0, 0] for _ in p_evals]
    with torch.no_grad():
        for i0 in range(0, x.shape[0], 1000):
            xb, yb = x[i0 : i0 + 1000], y[i0 : i0 + 1000]
            z0 = F.linear(xb, linears[0].weight, linears[0].bias)
            for j, p in enumerate(p_evals):
                for _ in range(masks if p > 0 else 1):
                    h = F.dropout(F.relu(z0), p, training=True) if p > 0 else F.relu(z0)
                    for lin in linears[1:-1]:
                        h = F.relu(lin(h))
                        if p > 0:
                            h = F.dropout(h, p, training=True)
                    logits = linears[-1](h)
                    sums[j][0] += F.cross_entropy(logits, yb, reduction="sum").item()
                    sums[j][1] += (logits.argmax(1) == yb).sum().item()
    return sums


def main():
    d = sys.argv[1]
    with open(os.path.join(d, "jobs.json")) as f:
        jobs = json.load(f)
    load = lambda name, dtype: torch.from_numpy(np.fromfile(os.path.join(d, name), dtype=dtype))  # noqa: E731
    x = load("train_x.f32", np.float32).reshape(-1, 784)
    y = load("train_y.u8", np.uint8).long()
    vx = load("val_x.f32", np.float32).reshape(-1, 784)
    vy = load("val_y.u8", np.uint8).long()
    tx = load("test_x.f32", np.float32).reshape(-1, 784)
    ty = load("test_y.u8", np.uint8).long()
    t0, c0 = time.perf_counter(), time.process_time()
    train_s = eval_s = 0.0
    accuracy, steps, validations, best_steps = [], [], [], []
    for job in jobs:
        t1 = time.perf_counter()
        model, st, nv, best = train(job, x, y, vx, vy)
        steps.append(st)
        validations.append(nv)
        best_steps.append(best)
        t2 = time.perf_counter()
        sums = evaluate(job, model, tx, ty)
        t3 = time.perf_counter()
        train_s += t2 - t1
        eval_s += t3 - t2
        accuracy.append(sums[0][1] / tx.shape[0])
    seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
    print(json.dumps({"torch": torch.__version__, "jobs": len(jobs), "seconds": seconds, "cpuSeconds": cpu_seconds, "trainSeconds": train_s, "evalSeconds": eval_s, "accuracyAtP0": accuracy, "steps": steps, "validations": validations, "bestSteps": best_steps}))


if __name__ == "__main__":
    main()
