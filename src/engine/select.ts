import { MentiaError } from "../errors.js";
import { forcedLayer0Path } from "./layer0.js";
import { loadNativeEngine, nativeIsa, nativeLoadError } from "./native/index.js";
import { referenceEngine } from "./reference.js";
import type { Engine, EngineName } from "./types.js";

/**
 * Which engine runs: `name`, else env MENTIA_ENGINE, else native when its addon is built,
 * else the reference engine (with one warning, so nobody runs a slow sweep unknowingly).
 */
let warned = false;

export function getEngine(name?: EngineName): Engine {
  const wanted = name ?? parseEnv();
  forcedLayer0Path(); // a bad MENTIA_LAYER0 is refused here, before any work
  if (wanted === "reference") return referenceEngine;
  const native = loadNativeEngine();
  if (native) return native;
  if (wanted === "native") throw new MentiaError("the native engine was requested but its addon is not built (run 'npm run build:native' and read its output)");
  if (!warned) {
    warned = true;
    console.error("mentia: native engine not built; using the slow reference engine (see 'npm run build:native')");
  }
  return referenceEngine;
}

function parseEnv(): EngineName | undefined {
  const v = process.env.MENTIA_ENGINE;
  if (v === undefined || v === "") return undefined;
  if (v === "reference" || v === "native") return v;
  throw new MentiaError(`MENTIA_ENGINE must be 'reference' or 'native', got '${v}'`);
}

export function activeEngineDescription(): string {
  const native = loadNativeEngine();
  const env = process.env.MENTIA_ENGINE;
  if (env === "reference") return "engine: reference (forced by MENTIA_ENGINE)";
  return native ? `engine: native, ${nativeIsa()}` : `engine: reference (native unavailable: ${nativeLoadError()})`;
}
