import { parentPort, workerData } from "node:worker_threads";
import { getEngine } from "../engine/select.js";
import { probe, type ProbeSetup } from "./estimate.js";

/**
 * A probe thread of the dry-run estimate (estimate.ts): probes every network of the plan,
 * starting each network's measured repeats together with the other probe threads.
 */
if (!parentPort) throw new Error("estimate-worker.ts must run as a worker thread");
const port = parentPort;
const setup = workerData as ProbeSetup;
const engine = getEngine(setup.engine);
port.postMessage({ type: "ready" });
const probes = setup.jobs.map((job, i) =>
  probe(job, setup.pTrain, setup.data, engine, () => {
    // Barrier: wait until every thread has warmed up on this network.
    const target = setup.threads * (i + 1);
    Atomics.add(setup.arrived, 0, 1);
    Atomics.notify(setup.arrived, 0);
    for (let seen = Atomics.load(setup.arrived, 0); seen < target; seen = Atomics.load(setup.arrived, 0)) Atomics.wait(setup.arrived, 0, seen, 50);
  }),
);
port.postMessage({ type: "done", probes });
