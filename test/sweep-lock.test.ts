import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { MentiaError } from "../src/errors.js";
import { parseConfig } from "../src/sweep/config.js";
import { bootId, lockLiveness, pidNamespace, processStartTime, type RunLock } from "../src/sweep/lock.js";
import { planJobs } from "../src/sweep/plan.js";
import { storePath } from "../src/sweep/shard.js";
import { SweepStore } from "../src/sweep/store.js";
import { runSweep } from "../src/sweep/sweep.js";

/**
 * Run locks name their process by host, pid and a start token (boot id, PID namespace,
 * process start time), so a dead run's lock is taken over even when its pid was reused, a
 * live run's lock is never taken, and --break-lock takes what cannot be checked.
 */
const CONFIG = parseConfig({ widths: [16], depths: [1], pTrain: [0], pEval: [0, 0.5], sizes: [100, 200], seeds: [0], policy: "epochs-min-steps", epochs: 1, steps: 10, masks: 1 });
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const linux = process.platform === "linux";

function store(): SweepStore {
  const d = mkdtempSync(join(tmpdir(), "mentia-lock-"));
  dirs.push(d);
  const s = SweepStore.open(storePath(d), { create: true });
  s.initialise(CONFIG, planJobs(CONFIG), { mentiaVersion: "test" });
  return s;
}

/** A live process (sleeping), killed when the test ends. */
function liveChild(): number {
  const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
  after(() => child.kill("SIGKILL"));
  return child.pid!;
}

function deadPid(): number {
  return spawnSync(process.execPath, ["-e", "0"]).pid!;
}

function lockOf(pid: number, extra: Partial<RunLock> = {}): RunLock {
  return { host: hostname(), pid, since: "earlier", bootId: bootId(), pidNs: pidNamespace(), startTime: processStartTime(pid), ...extra };
}

test("the start token: boot id, PID namespace and start time are read from /proc", { skip: !linux && "needs Linux /proc" }, () => {
  assert.match(bootId() ?? "", /^[0-9a-f-]{36}$/);
  assert.match(pidNamespace() ?? "", /^pid:\[\d+\]$/);
  const own = processStartTime(process.pid);
  assert.match(own ?? "", /^\d+$/);
  assert.equal(processStartTime(process.pid), own, "stable");
  const child = liveChild();
  assert.ok(Number(processStartTime(child)) >= Number(own), "a later process starts later");
  assert.equal(processStartTime(deadPid()), undefined);
});

test("a live run's lock is refused, even with --break-lock", { skip: !linux && "needs Linux /proc" }, () => {
  const s = store();
  const pid = liveChild();
  s.setMeta("lock", JSON.stringify(lockOf(pid)));
  assert.deepEqual(lockLiveness(lockOf(pid)), { state: "alive" });
  for (const breakLock of [false, true]) assert.throws(() => s.acquireLock(breakLock), (e: unknown) => e instanceof MentiaError && e.message.includes(`in use by another mentia run (pid ${pid}`) && e.message.includes("--break-lock does not take over a live run"));
  assert.equal(s.lockHolder()?.pid, pid);
  s.close();
});

test("a dead run's lock is taken over with a message, also when its pid now belongs to another process", { skip: !linux && "needs Linux /proc" }, () => {
  const s = store();
  const gone = deadPid();
  s.setMeta("lock", JSON.stringify(lockOf(gone, { startTime: "12345" })));
  assert.equal(s.lockHolder(), undefined);
  assert.match(s.acquireLock() ?? "", new RegExp(`took over the lock of a run that is gone \\(pid ${gone}, since earlier: pid ${gone} is gone\\)`));
  assert.equal(s.lock()?.pid, process.pid);
  // The pid is alive, but started at another time than the lock says: reused, so the run is dead.
  const reused = liveChild();
  s.setMeta("lock", JSON.stringify(lockOf(reused, { startTime: String(Number(processStartTime(reused)) - 1) })));
  assert.equal(s.lockHolder(), undefined);
  assert.match(s.acquireLock() ?? "", /is now another process \(started at another time\)/);
  s.releaseLock();
  assert.equal(s.lock(), undefined);
  s.close();
});

test("locks that cannot be checked (another boot, container, host, or no start time) need --break-lock, which works on the same host", () => {
  const s = store();
  const pid = liveChild();
  const cases: Array<[Partial<RunLock>, RegExp]> = [
    [{ bootId: "00000000-0000-0000-0000-000000000000" }, /another boot id/],
    [{ pidNs: "pid:[1]" }, /another PID namespace/],
    [{ startTime: undefined }, /no start time to confirm/],
    [{ host: "elsewhere.example" }, /on host elsewhere\.example .*rerun with --break-lock/],
  ];
  for (const [extra, why] of cases) {
    if (!linux && extra.host === undefined) continue;
    s.setMeta("lock", JSON.stringify(lockOf(pid, extra)));
    assert.throws(() => s.acquireLock(), (e: unknown) => e instanceof MentiaError && why.test(e.message) && e.message.includes("--break-lock"), JSON.stringify(extra));
    assert.match(s.acquireLock(true) ?? "", /took over the lock of the run .*\(--break-lock/);
    assert.equal(s.lock()?.pid, process.pid);
  }
  s.close();
});

test("a resumed run says that it took over a dead run's lock", async () => {
  const s = store();
  const dir = join(s.path, "..");
  const gone = deadPid();
  s.setMeta("lock", JSON.stringify(lockOf(gone)));
  s.close();
  let text = "";
  const r = await runSweep(CONFIG, dir, { workers: 1, progress: { write: (t: string) => (text += t) } });
  assert.equal(r.done, 2);
  assert.match(text, new RegExp(`took over the lock of a run that is gone \\(pid ${gone}`));
});
