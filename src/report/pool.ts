import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { renderVariantToFiles, type VariantDone, type VariantJob } from "./variant.js";

/**
 * Renders figure variants on `threads` worker threads (vega and resvg are single-threaded
 * and CPU-bound, so a report with many figures scales with the cores), or in this thread
 * when threads ≤ 1. Each variant is written to its files as soon as it is drawn.
 */
export class RenderPool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: Array<{ id: number; job: VariantJob }> = [];
  private readonly pending = new Map<number, { resolve: (d: VariantDone) => void; reject: (e: Error) => void }>();
  private nextId = 0;

  constructor(threads: number) {
    for (let i = 0; i < threads && threads > 1; i++) {
      const w = new Worker(new URL("./render-worker.js", import.meta.url));
      w.on("message", (m: { id: number; done?: VariantDone; error?: string }) => {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (p) m.done ? p.resolve(m.done) : p.reject(new Error(m.error ?? "render thread failed"));
        this.idle.push(w);
        this.pump();
      });
      w.on("error", (e) => {
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
      });
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  /** Threads worth starting for `variants` plots: none for a handful (starting one costs ~0.5 s). */
  static threadsFor(variants: number, requested?: number): number {
    if (requested !== undefined) return Math.max(1, Math.floor(requested));
    if (variants < 12) return 1;
    return Math.max(1, Math.min(availableParallelism(), 8, Math.floor(variants / 6)));
  }

  render(job: VariantJob): Promise<VariantDone> {
    if (this.workers.length === 0) return renderVariantToFiles(job);
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { resolve, reject });
      this.queue.push({ id, job });
      this.pump();
    });
  }

  private pump(): void {
    while (this.idle.length > 0 && this.queue.length > 0) this.idle.pop()!.postMessage(this.queue.shift());
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
