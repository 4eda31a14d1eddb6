import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { parseDocument } from "yaml";
import { z } from "zod";
import { MentiaError } from "../errors.js";
import { DATASET_NAMES, datasetSource, DEFAULT_DATASET, type DatasetName } from "../data/datasets.js";
import { DEFAULT_DEFORMATION, DEFORMATION_BOUNDS, type DeformationParams } from "../data/deform.js";
import { EVAL_MODES, type EvalMode } from "../engine/types.js";
import { TRAINING_POLICIES, type TrainingPolicy, type TrainJob } from "../train/job.js";

/**
 * A sweep configuration: the grid of a study (widths × depths × p_train × N × seeds, every
 * network evaluated at every p_eval) and the training hyper-parameters shared by all jobs.
 * Parsed once at the edge (JSON or YAML file → schema → SweepConfig) and trusted inside.
 *
 * Every grid is a list of numbers, a single number, or a range `{from, to, count, log}`
 * (log-spaced when `log: true`; integer grids are rounded). Grids are stored sorted, so
 * two files that list the same values in another order are the same study.
 */
export interface SweepConfig extends JobSettings {
  widths: number[];
  depths: number[];
  /** Dropout rates at training, each in [0, 1). */
  pTrain: number[];
  /** Removal rates at evaluation, each in [0, 1); every job evaluates all of them. */
  pEval: number[];
  /** Training-set sizes N (nested subsets of the dataset's training images, or of the mnist-deformed stream). */
  sizes: number[];
  seeds: number[];
}

/** The settings every job of a sweep shares: the job's own fields (src/train/job.ts says what each means). */
export type JobSettings = Omit<TrainJob, "width" | "depth" | "pTrain" | "n" | "seed" | "pEvals">;

export const CONFIG_DEFAULTS = {
  seeds: [0],
  policy: "early-stop",
  epochs: 20,
  steps: 1000,
  patience: 10,
  valEvery: "half-epoch",
  maxSteps: 30000,
  validation: 10000,
  dataDraw: "per-seed",
  batch: 64,
  lr: 1e-3,
  optimizer: "adam",
  evalMode: "sample",
  masks: 4,
  rescale: true,
  subsetSeed: 0,
} as const satisfies Partial<SweepConfig>;

export const MNIST_TRAIN_IMAGES = 60000;
const UINT32_MAX = 4294967295;

type Item = "int≥1" | "p" | "size" | "seed";

const describe: Record<Item, string> = {
  "int≥1": "an integer ≥ 1",
  p: "a number in [0, 1)",
  size: "an integer ≥ 1 (at most the dataset's limit)",
  seed: `an integer in [0, ${UINT32_MAX}]`,
};

function itemOk(kind: Item, v: number): boolean {
  switch (kind) {
    case "int≥1":
      return Number.isInteger(v) && v >= 1;
    case "p":
      return v >= 0 && v < 1;
    case "size":
      return Number.isInteger(v) && v >= 1;
    case "seed":
      return Number.isInteger(v) && v >= 0 && v <= UINT32_MAX;
  }
}

/** Round away float noise from ranges (0.1·3 → 0.3) without touching ordinary values. */
function clean(v: number): number {
  return Number(v.toPrecision(12));
}

const rangeSchema = z
  .object({
    from: z.number({ required_error: "a range needs 'from'", invalid_type_error: "must be a number" }),
    to: z.number({ required_error: "a range needs 'to'", invalid_type_error: "must be a number" }),
    count: z.number({ required_error: "a range needs 'count'", invalid_type_error: "must be a number" }).int("must be an integer").min(1, "must be ≥ 1").max(100000, "must be ≤ 100000"),
    log: z.boolean({ invalid_type_error: "must be true or false" }).default(false),
  })
  .strict();

/** Expands a range object into its list; leaves lists alone and wraps single numbers. */
function expandGrid(kind: Item) {
  return (value: unknown, ctx: z.RefinementCtx): unknown => {
    if (typeof value === "number") return [value];
    if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
    const parsed = rangeSchema.safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: issue.path });
      return z.NEVER;
    }
    const { from, to, count, log } = parsed.data;
    if (log && (from <= 0 || to <= 0)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `a log range needs from > 0 and to > 0, got from ${from}, to ${to}` });
      return z.NEVER;
    }
    const out: number[] = [];
    for (let i = 0; i < count; i++) {
      const t = count === 1 ? 0 : i / (count - 1);
      let v = log ? Math.exp(Math.log(from) + t * (Math.log(to) - Math.log(from))) : from + t * (to - from);
      v = kind === "p" ? clean(v) : Math.round(v);
      out.push(v);
    }
    return out;
  };
}

function grid(kind: Item) {
  const item = z
    .number({ invalid_type_error: `must be ${describe[kind]}` })
    .refine((v) => itemOk(kind, v), (v) => ({ message: `must be ${describe[kind]}, got ${v}` }));
  return z.preprocess(
    expandGrid(kind),
    z
      .array(item, { invalid_type_error: "must be a list of numbers, a number, or a range {from, to, count, log}" })
      .min(1, "must not be empty (a grid needs at least one value)")
      .superRefine((list, ctx) => {
        const seen = new Set<number>();
        const dups = new Set<number>();
        for (const v of list) (seen.has(v) ? dups : seen).add(v);
        if (dups.size > 0) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `has duplicate values: ${[...dups].join(", ")} (a range may round to the same value twice)` });
      })
      .transform((list) => [...list].sort((a, b) => a - b)),
  );
}

function int(min: number, what: string, max = Number.MAX_SAFE_INTEGER) {
  return z
    .number({ invalid_type_error: `must be ${what}` })
    .refine((v) => Number.isInteger(v) && v >= min && v <= max, (v) => ({ message: `must be ${what}, got ${v}` }));
}

const EVAL_MODE_MESSAGE = `must be one of ${EVAL_MODES.map((m) => `'${m}'`).join(", ")}, or a list of them`;
const evalModeSchema = z.enum(EVAL_MODES as [EvalMode, ...EvalMode[]], { errorMap: () => ({ message: EVAL_MODE_MESSAGE }) });

/** `trajectory`: record the test loss under removal along every training (TrajectorySpec in src/train/job.ts). */
const trajectorySchema = z
  .object({
    points: int(1, "an integer ≥ 1").default(12),
    pEval: grid("p"),
    masks: int(1, "an integer ≥ 1").default(1),
    evalMode: evalModeSchema.optional(),
    horizon: int(1, "an integer ≥ 1 (the step where the log-spaced checkpoints end)").optional(),
    extendFactor: z
      .number({ invalid_type_error: "must be a number ≥ 1" })
      .refine((v) => Number.isFinite(v) && v >= 1, (v) => ({ message: `must be a number ≥ 1 (multiple of the stopping step), got ${v}` }))
      .optional(),
    extendSteps: int(1, "an integer ≥ 1 (train the trajectory to at least this step)").optional(),
  }, { invalid_type_error: "must be a mapping {points, pEval, masks, ...}" })
  .strict();

const DATASET_MESSAGE = `must be one of ${DATASET_NAMES.map((d) => `'${d}'`).join(", ")}`;

/** mnist-deformed's parameters: each optional (default: DEFAULT_DEFORMATION), each within DEFORMATION_BOUNDS. */
const deformationSchema = z
  .object(
    Object.fromEntries(
      Object.entries(DEFORMATION_BOUNDS).map(([k, [lo, hi]]) => [
        k,
        z
          .number({ invalid_type_error: `must be a number in [${lo}, ${hi}]` })
          .refine((v) => v >= lo && v <= hi, (v) => ({ message: `must be a number in [${lo}, ${hi}], got ${v}` }))
          .optional(),
      ]),
    ) as Record<keyof DeformationParams, z.ZodOptional<z.ZodEffects<z.ZodNumber, number, number>>>,
    { invalid_type_error: "must be a mapping of sigma, alpha, rotation, scale, shear, translation" },
  )
  .strict();

const configSchema = z
  .object({
    dataset: z.enum(DATASET_NAMES as [DatasetName, ...DatasetName[]], { errorMap: () => ({ message: DATASET_MESSAGE }) }).optional(),
    deformation: deformationSchema.optional(),
    widths: grid("int≥1"),
    depths: grid("int≥1"),
    pTrain: grid("p"),
    pEval: grid("p"),
    sizes: grid("size"),
    seeds: grid("seed").default([...CONFIG_DEFAULTS.seeds]),
    policy: z
      .enum(TRAINING_POLICIES as [TrainingPolicy, ...TrainingPolicy[]], { errorMap: () => ({ message: `must be one of ${TRAINING_POLICIES.map((p) => `'${p}'`).join(", ")}` }) })
      .default(CONFIG_DEFAULTS.policy),
    epochs: int(0, "an integer ≥ 0").default(CONFIG_DEFAULTS.epochs),
    steps: int(0, "an integer ≥ 0").default(CONFIG_DEFAULTS.steps),
    patience: int(1, "an integer ≥ 1 (validations without improvement before stopping)").default(CONFIG_DEFAULTS.patience),
    valEvery: z
      .union([z.literal("half-epoch"), z.literal("epoch"), int(1, "an integer ≥ 1 (steps between validations), 'half-epoch' or 'epoch'")], {
        errorMap: () => ({ message: "must be an integer ≥ 1 (steps between validations), 'half-epoch' or 'epoch'" }),
      })
      .default(CONFIG_DEFAULTS.valEvery),
    maxSteps: int(1, "an integer ≥ 1").default(CONFIG_DEFAULTS.maxSteps),
    validation: int(0, `an integer in [0, ${MNIST_TRAIN_IMAGES - 1}]`, MNIST_TRAIN_IMAGES - 1).default(CONFIG_DEFAULTS.validation),
    dataDraw: z.enum(["per-seed", "shared"], { errorMap: () => ({ message: "must be 'per-seed' (each seed draws its own images) or 'shared' (one draw for every seed)" }) }).default(CONFIG_DEFAULTS.dataDraw),
    batch: int(1, `an integer in [1, ${MNIST_TRAIN_IMAGES}]`, MNIST_TRAIN_IMAGES).default(CONFIG_DEFAULTS.batch),
    lr: z
      .number({ invalid_type_error: "must be a positive number" })
      .refine((v) => Number.isFinite(v) && v > 0, (v) => ({ message: `must be a positive number, got ${v}` }))
      .default(CONFIG_DEFAULTS.lr),
    optimizer: z.enum(["adam", "sgd"], { errorMap: () => ({ message: "must be 'adam' or 'sgd'" }) }).default(CONFIG_DEFAULTS.optimizer),
    evalMode: z
      .union([evalModeSchema, z.array(evalModeSchema, { invalid_type_error: EVAL_MODE_MESSAGE }).min(1, "must not be an empty list")], { errorMap: (issue, ctx) => ({ message: issue.code === "invalid_union" ? EVAL_MODE_MESSAGE : ctx.defaultError }) })
      .superRefine((m, ctx) => {
        if (Array.isArray(m) && new Set(m).size !== m.length) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `lists a mode twice: ${m.join(", ")}` });
      })
      .default(CONFIG_DEFAULTS.evalMode),
    magnitudeRescale: z.boolean({ invalid_type_error: "must be true or false" }).optional(),
    magnitudeGlobal: z.boolean({ invalid_type_error: "must be true or false" }).optional(),
    masks: int(1, "an integer ≥ 1").default(CONFIG_DEFAULTS.masks),
    rescale: z.boolean({ invalid_type_error: "must be true or false" }).default(CONFIG_DEFAULTS.rescale),
    subsetSeed: int(0, `an integer in [0, ${UINT32_MAX}]`, UINT32_MAX).default(CONFIG_DEFAULTS.subsetSeed),
    trajectory: trajectorySchema.optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.policy === "epochs" && c.epochs === 0) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["epochs"], message: "is 0 with policy 'epochs': nothing would be trained" });
    if (c.policy === "steps" && c.steps === 0) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["steps"], message: "is 0 with policy 'steps': nothing would be trained" });
    if (c.policy === "epochs-min-steps" && c.epochs === 0 && c.steps === 0) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["epochs"], message: "epochs and steps are both 0: nothing would be trained (set one of them ≥ 1)" });
    if (c.policy === "early-stop" && c.validation < 1) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["validation"], message: "is 0, but policy 'early-stop' needs a validation split (e.g. 10000)" });
    const dataset = datasetSource(c.dataset);
    const maxN = dataset.maxN(c.validation);
    const tooBig = c.sizes.filter((n) => n > maxN.n);
    if (tooBig.length > 0) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["sizes"], message: `${tooBig.join(", ")} exceed${tooBig.length === 1 ? "s" : ""} ${maxN.n}, the largest N for ${dataset.name}: ${maxN.why}` });
    if (c.deformation !== undefined && dataset.name !== "mnist-deformed")
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["deformation"], message: `applies to the dataset 'mnist-deformed' only (dataset: ${dataset.name})` });
  });

function formatPath(path: ReadonlyArray<string | number>): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out ? `.${p}` : p;
  return out || "(top level)";
}

function valueAt(raw: unknown, path: ReadonlyArray<string | number>): { found: boolean; value?: unknown } {
  let v: unknown = raw;
  for (const p of path) {
    if (v === null || typeof v !== "object") return { found: false };
    v = (v as Record<string | number, unknown>)[p];
  }
  return { found: v !== undefined, value: v };
}

function issueMessage(issue: z.ZodIssue, raw: unknown): string {
  const where = formatPath(issue.path);
  switch (issue.code) {
    case z.ZodIssueCode.unrecognized_keys:
      return `${where}: unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `'${k}'`).join(", ")} (known: ${Object.keys(issue.path[0] === "trajectory" ? trajectorySchema.shape : configSchema.innerType().shape).join(", ")})`;
    case z.ZodIssueCode.invalid_type: {
      if (issue.received === "undefined") return `${where}: is required`;
      const at = valueAt(raw, issue.path);
      return `${where}: ${issue.message}, got ${at.found ? JSON.stringify(at.value) : issue.received}`;
    }
    case z.ZodIssueCode.invalid_enum_value:
      return `${where}: ${issue.message}, got ${JSON.stringify(issue.received)}`;
    default:
      return `${where}: ${issue.message}`;
  }
}

/** Validates a parsed config object; `source` names it in error messages. */
export function parseConfig(raw: unknown, source = "config"): SweepConfig {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new MentiaError(`${source}: a sweep config must be a mapping of fields (widths, depths, pTrain, pEval, sizes, ...)`);
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    // A bad range reports its own problem; drop the follow-on "not a list" for the same grid.
    const issues = result.error.issues;
    const key = (i: z.ZodIssue): string => i.path.join("\u0000");
    const kept = issues.filter(
      (i) =>
        !(
          i.code === z.ZodIssueCode.invalid_type &&
          issues.some((o) => o !== i && ((key(o) === key(i) && o.code !== z.ZodIssueCode.invalid_type) || key(o).startsWith(key(i) + "\u0000")))
        ),
    );
    const problems = kept.map((i) => issueMessage(i, raw));
    throw new MentiaError(`${source}: ${problems.length === 1 ? "" : `${problems.length} problems: `}${problems.join("; ")}`);
  }
  return normaliseDataset(result.data as SweepConfig);
}

/**
 * The dataset fields in their one canonical form: mnist (the default) is absent, so a config
 * that names it is the same study, with the same job keys, as one written before datasets
 * existed; mnist-deformed carries every deformation parameter (defaults filled in), so the
 * stored config and every job record them.
 */
function normaliseDataset(config: SweepConfig): SweepConfig {
  const { dataset, deformation, ...rest } = config;
  if (dataset === undefined || dataset === DEFAULT_DATASET) return rest;
  if (dataset !== "mnist-deformed") return { ...rest, dataset };
  return { ...rest, dataset, deformation: { ...DEFAULT_DEFORMATION, ...deformation } };
}

/** The dataset of a config or job (absent = mnist). */
export function datasetOf(c: { dataset?: DatasetName }): DatasetName {
  return c.dataset ?? DEFAULT_DATASET;
}

/** Reads and validates a config file: `.json` as JSON, anything else as YAML. */
export function loadConfig(path: string): SweepConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new MentiaError(`${path}: cannot read the config (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let raw: unknown;
  if (extname(path).toLowerCase() === ".json") {
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new MentiaError(`${path}: not valid JSON (${(err as Error).message})`);
    }
  } else {
    const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
    if (doc.errors.length > 0) {
      const e = doc.errors[0];
      const line = e.linePos?.[0];
      throw new MentiaError(`${path}${line ? `:${line.line}:${line.col}` : ""}: not valid YAML (${e.message.split("\n")[0]})`);
    }
    raw = doc.toJS();
  }
  return parseConfig(raw, path);
}

/** The canonical text of a config (sorted keys): what the store compares on resume. */
export function configJson(config: SweepConfig): string {
  return canonicalJson(config);
}

/** JSON with object keys sorted at every level, so equal values give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value as Record<string, unknown>).sort()) out[k] = sortKeys((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

/** Lines naming what differs between two configs, for the "config changed" refusal. */
export function configDifferences(stored: SweepConfig, next: SweepConfig): string[] {
  const diffs: string[] = [];
  const keys = new Set([...Object.keys(stored), ...Object.keys(next)]);
  for (const k of [...keys].sort()) {
    const a = canonicalJson((stored as unknown as Record<string, unknown>)[k]);
    const b = canonicalJson((next as unknown as Record<string, unknown>)[k]);
    if (a !== b) diffs.push(`${k}: ${a ?? "(absent)"} → ${b ?? "(absent)"}`);
  }
  return diffs;
}
