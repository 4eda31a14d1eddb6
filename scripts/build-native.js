#!/usr/bin/env node
// Builds mentia's native engine (binding.gyp → build/Release/mentia_native.node) with node-gyp.
// Run by `npm install` (the package's "install" script) and by `npm run build:native`.
//
// It never fails the install: if the compiler, Node's headers or anything else is missing it
// prints ONE line saying so and exits 0, and mentia runs on the (slow) reference engine.
// The full compiler output goes to build/build-native.log either way.
// MENTIA_SKIP_NATIVE=1 skips the build.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const addon = path.join(root, "build", "Release", "mentia_native.node");
const logPath = path.join(root, "build", "build-native.log");

function finish(line, log) {
  try {
    mkdirSync(path.dirname(logPath), { recursive: true });
    writeFileSync(logPath, log);
  } catch {
    // the log is a courtesy; never fail because of it
  }
  console.log(line);
  process.exit(0);
}

if (process.env.MENTIA_SKIP_NATIVE === "1") {
  console.log("mentia: native engine build skipped (MENTIA_SKIP_NATIVE=1); the reference engine will be used");
  process.exit(0);
}

function findNodeGyp() {
  try {
    return createRequire(import.meta.url).resolve("node-gyp/bin/node-gyp.js");
  } catch {
    const fromNpm = process.env.npm_config_node_gyp;
    return fromNpm && existsSync(fromNpm) ? fromNpm : null;
  }
}

/** Node's own headers next to the running binary (Debian: /usr/include/node), if they match. */
function localNodeDir() {
  const prefix = path.resolve(path.dirname(process.execPath), "..");
  try {
    const h = readFileSync(path.join(prefix, "include", "node", "node_version.h"), "utf8");
    const v = ["MAJOR", "MINOR", "PATCH"].map((k) => h.match(new RegExp(`#define NODE_${k}_VERSION (\\d+)`))?.[1]);
    return `v${v.join(".")}` === process.version ? prefix : null;
  } catch {
    return null;
  }
}

const gyp = findNodeGyp();
if (!gyp) finish("mentia: native engine not built (node-gyp not found); the reference engine will be used", "node-gyp not found\n");

const args = [gyp, "rebuild", "--jobs=max"];
const nodedir = localNodeDir();
if (nodedir) args.push(`--nodedir=${nodedir}`);
const started = Date.now();
const r = spawnSync(process.execPath, args, { cwd: root, encoding: "utf8", maxBuffer: 64 << 20 });
const log = `$ node ${args.join(" ")}\n${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? String(r.error) + "\n" : ""}`;
if (r.status !== 0 || !existsSync(addon)) {
  const firstError = `${r.stdout ?? ""}\n${r.stderr ?? ""}`.split("\n").find((l) => /error/i.test(l))?.trim() ?? `exit code ${r.status}`;
  finish(`mentia: native engine build failed (${firstError.slice(0, 160)}); the reference engine will be used — details in build/build-native.log`, log);
}

// Load it once in a child process, so a broken binary is reported now rather than at run time.
const check = spawnSync(process.execPath, ["-e", `process.stdout.write(require(${JSON.stringify(addon)}).isa)`], { encoding: "utf8" });
if (check.status !== 0) {
  const why = (check.stderr ?? "").split("\n").find((l) => l.trim() !== "")?.trim() ?? `exit code ${check.status}`;
  finish(`mentia: native engine built but does not load (${why.slice(0, 160)}); the reference engine will be used`, log + (check.stderr ?? ""));
}
finish(`mentia: native engine built (${check.stdout}, ${((Date.now() - started) / 1000).toFixed(0)} s)`, log);
