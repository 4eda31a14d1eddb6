import { existsSync } from "node:fs";
import { join } from "node:path";
import { MentiaError } from "../errors.js";
import { loadIdxDataset, type MnistData } from "./mnist.js";

/**
 * Fashion-MNIST (Xiao, Rasul & Vollgraf 2017: 28×28 grey images of 10 kinds of clothing,
 * 60,000 train / 10,000 test, the IDX format of MNIST), read from the files of Debian's
 * package `dataset-fashion-mnist` (never downloaded). The package recompresses the files, so
 * the md5s below are of the gunzipped IDX bytes, as installed by dataset-fashion-mnist
 * 0.0~git20200523.55506a9-1.
 */
export const FASHION_MNIST_FILES = {
  trainImages: { file: "train-images-idx3-ubyte.gz", md5: "f4a8712d7a061bf5bd6d2ca38dc4d50a" },
  trainLabels: { file: "train-labels-idx1-ubyte.gz", md5: "9018921c3c673c538a1fc5bad174d6f9" },
  testImages: { file: "t10k-images-idx3-ubyte.gz", md5: "8181f5470baa50b63fa0f6fddb340f0a" },
  testLabels: { file: "t10k-labels-idx1-ubyte.gz", md5: "15d484375f8d13e6eb1aabb0c3f46965" },
} as const;

export const FASHION_MNIST_PACKAGE = "dataset-fashion-mnist";

/** Where the package installs the files (`dpkg -L dataset-fashion-mnist`); MENTIA_FASHION_MNIST_DIR overrides it. */
export function fashionMnistDir(): string {
  return process.env.MENTIA_FASHION_MNIST_DIR || "/usr/share/datasets/fashion-mnist";
}

/** Whether the four files are present (tests skip with a reason when not). */
export function fashionMnistInstalled(dir: string = fashionMnistDir()): boolean {
  return Object.values(FASHION_MNIST_FILES).every((f) => existsSync(join(dir, f.file)));
}

/** The one line a user reads when the package is missing. */
export function fashionMissingMessage(dir: string = fashionMnistDir()): string {
  return `fashion-mnist is not installed: ${dir} lacks its IDX files; install Debian's package with 'apt-get install ${FASHION_MNIST_PACKAGE}' (as root)`;
}

let cached: { dir: string; data: MnistData } | undefined;

/** Fashion-MNIST, checksums verified; a MentiaError naming the package when it is not installed. Cached per process. */
export function loadFashionMnist(dir: string = fashionMnistDir()): MnistData {
  if (cached?.dir === dir) return cached.data;
  if (!fashionMnistInstalled(dir)) throw new MentiaError(fashionMissingMessage(dir));
  const data = loadIdxDataset(dir, FASHION_MNIST_FILES);
  cached = { dir, data };
  return data;
}
