import { test } from "node:test";
import assert from "node:assert/strict";
import { MNIST_FILES, loadMnist, nestedSubset } from "../src/data/mnist.js";

test("real MNIST loads with verified checksums, counts, pixel range and label histogram", () => {
  const { train, test: testSet, checksums } = loadMnist();
  assert.equal(train.n, 60000);
  assert.equal(testSet.n, 10000);
  assert.equal(train.x.length, 60000 * 784);
  for (const f of Object.values(MNIST_FILES)) assert.equal(checksums[f.file], f.md5);
  let min = Infinity, max = -Infinity;
  for (let i = 0; i < train.x.length; i += 97) {
    min = Math.min(min, train.x[i]);
    max = Math.max(max, train.x[i]);
  }
  assert.equal(min, 0);
  assert.equal(max, 1);
  // The published MNIST training-label histogram.
  const hist = new Array(10).fill(0);
  for (const y of train.y) hist[y]++;
  assert.deepEqual(hist, [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
  const testHist = new Array(10).fill(0);
  for (const y of testSet.y) testHist[y]++;
  assert.deepEqual(testHist, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
});

test("nested subsets are nested, distinct, deterministic per seed, and differ across seeds", () => {
  const small = nestedSubset(100, 7);
  const large = nestedSubset(5000, 7);
  assert.deepEqual([...small], [...large.subarray(0, 100)]);
  assert.deepEqual([...nestedSubset(5000, 7)], [...large]);
  assert.equal(new Set(large).size, 5000);
  assert.ok(large.every((i) => i >= 0 && i < 60000));
  assert.notDeepEqual([...nestedSubset(100, 8)], [...small]);
  assert.throws(() => nestedSubset(60001, 7), /\[1, 60000\]/);
  assert.throws(() => nestedSubset(0, 7), /\[1, 60000\]/);
});
