import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../src/cli/main.js";
import { parseConfig } from "../src/sweep/config.js";
import { planJobs } from "../src/sweep/plan.js";
import { SweepStore } from "../src/sweep/store.js";

/** Small CLI messages that must say what is true (issue 15, item 8). */
async function capture(argv: string[]): Promise<{ rc: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const [log, error] = [console.log, console.error];
  console.log = (...a: unknown[]) => void out.push(a.join(" "));
  console.error = (...a: unknown[]) => void err.push(a.join(" "));
  try {
    const rc = await main(argv);
    return { rc, out: out.join("\n"), err: err.join("\n") };
  } finally {
    [console.log, console.error] = [log, error];
  }
}

test("report on a missing directory says so; start --help names --workers; start is listed", async () => {
  const r = await capture(["report", "/nonexistent/mentia-sweep"]);
  assert.equal(r.rc, 2);
  assert.match(r.err, /\/nonexistent\/mentia-sweep: no such directory/);
  assert.match((await capture(["start", "--help"])).out, /usage: mentia start .*--workers K/);
  assert.match((await capture(["--help"])).out, /\n {2}start +run the embedded default study/);
});

test("status: singular and plural counts", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mentia-status-"));
  try {
    const config = parseConfig({ widths: [16], depths: [1], pTrain: [0, 0.5], pEval: [0, 0.5], sizes: [100, 200], seeds: [0] });
    const store = SweepStore.open(join(dir, "results.sqlite"), { create: true });
    try {
      store.initialise(config, planJobs(config), { mentiaVersion: "test" });
    } finally {
      store.close();
    }
    const r = await capture(["status", dir]);
    assert.equal(r.rc, 0, r.err);
    assert.match(r.out, /4 jobs = 1 width × 1 depth × 2 pTrain × 2 sizes × 1 seed, 2 pEval each/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
