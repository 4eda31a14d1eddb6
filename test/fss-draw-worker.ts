/** Worker thread of analysis-fss.test.ts: runs the draws it is sent (fss-families.ts) and posts each result. */
import { parentPort } from "node:worker_threads";
import { runDraw, type DrawJob } from "./fss-families.js";

parentPort?.on("message", (job: DrawJob | null) => {
  if (job === null) process.exit(0);
  parentPort?.postMessage(runDraw(job));
});
