import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../../bin/mentia.js", import.meta.url));
const mentia = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: "utf8" });

test("mentia train --json prints exactly one JSON object with config, train and evals", () => {
  const r = mentia("train", "--width", "32", "--depth", "1", "--n", "500", "--policy", "early-stop", "--val-every", "20", "--patience", "2", "--p-eval", "0,0.5", "--masks", "2", "--json");
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.config.width, 32);
  assert.deepEqual(out.config.pEval, [0, 0.5]);
  assert.ok(out.train.seconds > 0 && Number.isFinite(out.train.finalTrainLoss));
  assert.deepEqual(out.evals.map((e: { pEval: number }) => e.pEval), [0, 0.5]);
  for (const e of out.evals) assert.ok(e.loss > 0 && e.lossStderr >= 0 && e.accuracy > 0.1 && e.accuracy <= 1);
  assert.match(r.stderr, /epoch 1 .* samples\/s/);
  assert.match(r.stderr, /val loss \d\.\d+ \(best \d\.\d+ at step \d+\)/);
  // Early stopping's record: the weights evaluated are those of the best validation step.
  assert.equal(out.train.stoppedBy, "patience");
  assert.equal(out.train.steps - out.train.bestStep, 2 * 20);
  assert.ok(out.train.bestValLoss > 0 && out.train.validations === out.train.steps / 20, JSON.stringify(out.train));
  const fixed = mentia("train", "--width", "32", "--depth", "1", "--n", "500", "--policy", "epochs", "--epochs", "1", "--p-eval", "0", "--json");
  assert.equal(fixed.status, 0, fixed.stderr);
  assert.deepEqual(JSON.parse(fixed.stdout).train.stoppedBy, "budget");
  assert.equal(JSON.parse(fixed.stdout).train.steps, Math.ceil(500 / 64));
});

test("invalid values and unknown flags give one line and exit code 2", () => {
  const cases: Array<[string[], RegExp]> = [
    [["--p-train", "1"], /p_train must be in \[0, 1\), got 1/],
    [["--p-eval", "0,1.5"], /p_eval must be in \[0, 1\), got 1.5/],
    [["--width", "0"], /width must be an integer ≥ 1, got 0/],
    [["--n", "70000"], /\[1, 50000\] for mnist \(the mnist training images left after the validation split \(60000 − 10000\)\), got 70000/],
    [["--dataset", "cifar"], /--dataset must be one of mnist, fashion-mnist, mnist-deformed, got 'cifar'/],
    [["--dataset", "mnist-deformed", "--n", "100000001"], /\[1, 100000000\] for mnist-deformed \(the cap of the mnist-deformed stream\), got 100000001/],
    [["--deformation", "alpha=3"], /--deformation applies to --dataset mnist-deformed only, not mnist/],
    [["--dataset", "mnist-deformed", "--deformation", "alpha=2000"], /deformation.alpha must be a number in \[0, 1000\], got 2000/],
    [["--dataset", "mnist-deformed", "--deformation", "beta=1"], /--deformation: 'beta=1' is not KEY=NUMBER/],
    [["--n", "55001", "--validation", "5000"], /^mentia: training-set size N must be an integer in \[1, 55000\]/],
    [["--patience", "0"], /patience must be an integer ≥ 1/],
    [["--val-every", "0"], /--val-every must be an integer ≥ 1, 'half-epoch' or 'epoch', got '0'/],
    [["--policy", "forever"], /--policy must be one of early-stop, epochs, steps, epochs-min-steps, got 'forever'/],
    [["--data-draw", "mine"], /--data-draw must be one of per-seed, shared/],
    [["--bogus", "3"], /unknown option --bogus/],
    [["--width", "abc"], /--width expects a number, got 'abc'/],
    [["--eval-mode", "zap"], /--eval-mode must be one of sample, mask/],
  ];
  for (const [args, pattern] of cases) {
    const r = mentia("train", ...args);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trim().split("\n").length, 1, `one line for ${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stdout, "");
  }
});

test("mentia --help and mentia train --help describe the commands and every option", () => {
  const top = mentia("--help");
  assert.equal(top.status, 0);
  assert.match(top.stdout, /train\s+train one network/);
  const help = mentia("train", "--help");
  assert.equal(help.status, 0);
  for (const flag of ["--width", "--depth", "--p-train", "--n", "--epochs", "--policy", "--patience", "--val-every", "--max-steps", "--validation", "--data-draw", "--batch", "--seed", "--p-eval", "--eval-mode", "--masks", "--rescale", "--json"]) assert.ok(help.stdout.includes(flag), flag);
  assert.equal(mentia("frobnicate").status, 2);
});
