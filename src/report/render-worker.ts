/** A report rendering thread: receives VariantJobs, writes their SVG and PNG, answers with the SVG. */
import { parentPort } from "node:worker_threads";
import { renderVariantToFiles, type VariantJob } from "./variant.js";

parentPort?.on("message", (msg: { id: number; job: VariantJob }) => {
  renderVariantToFiles(msg.job).then(
    (done) => parentPort?.postMessage({ id: msg.id, done }),
    (err: unknown) => parentPort?.postMessage({ id: msg.id, error: err instanceof Error ? `${err.message}\n${err.stack ?? ""}` : String(err) }),
  );
});
