import { readFileSync } from "node:fs";
import Database from "better-sqlite3";
import { nativeIsa } from "../engine/native/index.js";
import type { EngineName } from "../engine/types.js";
import type { Versions } from "./store.js";

/** The mentia version from package.json (dist/src/sweep/ → ../../../package.json). */
export function mentiaVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version?: string };
    return pkg.version ?? "unknown";
  } catch {
    return "unknown";
  }
}

let cachedSqlite: string | undefined;

function sqliteVersion(): string {
  if (cachedSqlite === undefined) {
    const db = new Database(":memory:");
    cachedSqlite = (db.prepare("SELECT sqlite_version() AS v").get() as { v: string }).v;
    db.close();
  }
  return cachedSqlite;
}

/**
 * Versions stored with every job result; for the native engine also its instruction-set
 * variant ("avx512" and "avx2+fma" give bit-identical numbers; "generic", without FMA, differs
 * in the last bits).
 */
export function softwareVersions(engine?: EngineName): Versions {
  const v: Versions = { mentia: mentiaVersion(), node: process.version, sqlite: sqliteVersion() };
  if (engine === "native") v.nativeIsa = nativeIsa() ?? "unknown";
  return v;
}
