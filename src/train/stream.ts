import { DEFAULT_DEFORMATION } from "../data/deform.js";
import { DeformedStream } from "../data/deformed.js";
import type { MnistData } from "../data/mnist.js";
import { INPUT_SIZE, type Network, type TrainEpochResult } from "../engine/types.js";
import type { TrainJob } from "./job.js";

/**
 * Training on a sample stream (mnist-deformed past its base): the epoch's order holds sample
 * ids 0..N−1; each slice of CHUNK_STEPS steps is filled from the stream into one reused
 * buffer and trained as the plain path would train those rows (same batches, same steps, same
 * dropout masks, which depend on the step and the position in the batch only).
 */
export const CHUNK_STEPS = 128;

/** The job's stream, or null when it trains on rows of data.train (every other case). */
export function jobStream(job: TrainJob, data: MnistData, baseRows: Int32Array, opts: { force?: boolean; native?: boolean } = {}): DeformedStream | null {
  if (job.dataset !== "mnist-deformed" || (job.n <= baseRows.length && !opts.force)) return null;
  return new DeformedStream(data.train, baseRows, job.n, job.seed, job.deformation ?? DEFAULT_DEFORMATION, { native: opts.native });
}

const buffers = new WeakMap<DeformedStream, { x: Float32Array; y: Uint8Array; identity: Int32Array }>();

/** net.trainEpoch over `order` (sample ids of the stream), chunk by chunk. */
export function trainOnStream(net: Network, stream: DeformedStream, order: Int32Array, opts: { batch: number; pTrain: number; firstStep: number; maxSteps?: number; chunkSteps?: number }): TrainEpochResult {
  const chunkSteps = opts.chunkSteps ?? CHUNK_STEPS;
  const cap = chunkSteps * opts.batch;
  let buf = buffers.get(stream);
  if (!buf || buf.y.length < cap) {
    buf = { x: new Float32Array(cap * INPUT_SIZE), y: new Uint8Array(cap), identity: Int32Array.from({ length: cap }, (_, i) => i) };
    buffers.set(stream, buf);
  }
  const maxSteps = opts.maxSteps ?? Infinity;
  let steps = 0, samples = 0, lossSum = 0;
  for (let pos = 0; pos < order.length && steps < maxSteps; ) {
    const k = Math.min(chunkSteps, maxSteps - steps);
    const m = Math.min(k * opts.batch, order.length - pos);
    stream.fill(order.subarray(pos, pos + m), buf);
    const chunk = { x: buf.x.subarray(0, m * INPUT_SIZE), y: buf.y.subarray(0, m), n: m };
    const r = net.trainEpoch(chunk, { order: buf.identity.subarray(0, m), batch: opts.batch, pTrain: opts.pTrain, firstStep: opts.firstStep + steps, maxSteps: k });
    steps += r.steps;
    samples += r.samples;
    lossSum += r.meanLoss * r.samples;
    pos += r.samples;
  }
  return { meanLoss: samples > 0 ? lossSum / samples : NaN, steps, samples };
}
