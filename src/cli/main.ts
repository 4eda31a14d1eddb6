import { MentiaError } from "../errors.js";

/**
 * The mentia command line. Thin: each command lives in its own file under src/cli/ and is
 * a function `(argv) => Promise<exitCode>` that parses, validates, calls library code and
 * prints. User errors (MentiaError) print one line and exit 2.
 */
export interface Command {
  summary: string;
  run: (argv: string[]) => Promise<number>;
}

type CommandLoader = () => Promise<Command>;

// Lazy imports keep `mentia --help` fast and let each command own its dependencies.
const commands: Record<string, CommandLoader> = {
  // registered commands (one line each)
  start: () => import("./start.js").then((m) => m.command),
  train: () => import("./train.js").then((m) => m.command),
  init: () => import("./init.js").then((m) => m.command),
  run: () => import("./run.js").then((m) => m.command),
  status: () => import("./status.js").then((m) => m.command),
  merge: () => import("./merge.js").then((m) => m.command),
  export: () => import("./export.js").then((m) => m.command),
  slurm: () => import("./slurm.js").then((m) => m.command),
  analyze: () => import("./analyze.js").then((m) => m.command),
  collapse: () => import("./collapse.js").then((m) => m.command),
  report: () => import("./report.js").then((m) => m.command),
  bench: () => import("./bench.js").then((m) => m.command),
};

export function registerCommand(name: string, loader: CommandLoader): void {
  commands[name] = loader;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (!name || name === "--help" || name === "-h" || name === "help") {
      console.log(await topHelp());
      return name ? 0 : 0;
    }
    if (name === "--version" || name === "-v") {
      console.log(await versionLine());
      return 0;
    }
    const loader = commands[name];
    if (!loader) throw new MentiaError(`unknown command '${name}' (see 'mentia --help')`);
    return await (await loader()).run(rest);
  } catch (err) {
    if (err instanceof MentiaError) {
      console.error(`mentia: ${err.message}`);
      return 2;
    }
    throw err;
  }
}

async function topHelp(): Promise<string> {
  const lines = ["mentia — pruning-induced phases (eumentia, dementia, amentia) of fully-connected networks on MNIST", "", "usage: mentia <command> [options]    (mentia <command> --help for its options)", "", "commands:"];
  for (const [name, load] of Object.entries(commands)) lines.push(`  ${name.padEnd(10)} ${(await load()).summary}`);
  lines.push("", "  --version  print the version and the active engine");
  return lines.join("\n");
}

async function versionLine(): Promise<string> {
  const { readFileSync } = await import("node:fs");
  const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string };
  const { activeEngineDescription } = await import("../engine/select.js");
  return `mentia ${pkg.version} (${activeEngineDescription()})`;
}
