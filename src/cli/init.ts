import { existsSync, writeFileSync } from "node:fs";
import { MentiaError } from "../errors.js";
import { EXAMPLE_CONFIG } from "../sweep/template.js";
import { parseCommandLine, type FlagSpec } from "./args.js";
import type { Command } from "./main.js";

const FLAGS: Record<string, FlagSpec> = {
  force: { kind: "boolean", help: "overwrite FILE if it exists" },
};

const USAGE = "mentia init [FILE]";
const DESCRIPTION = "Writes a commented example sweep config (YAML) to FILE (default: mentia.yaml), or to stdout with '-'.";

export const command: Command = {
  summary: "write a commented example sweep config",
  async run(argv) {
    const args = parseCommandLine(argv, { name: "init", usage: USAGE, description: DESCRIPTION, flags: FLAGS, positional: { min: 0, max: 1, what: "at most one FILE" } });
    if (!args) return 0;
    const { flags, positional } = args;
    const file = positional[0] ?? "mentia.yaml";
    if (file === "-") {
      process.stdout.write(EXAMPLE_CONFIG);
      return 0;
    }
    if (existsSync(file) && !flags.force) throw new MentiaError(`init: ${file} exists; choose another name or add --force to overwrite it`);
    try {
      writeFileSync(file, EXAMPLE_CONFIG);
    } catch (err) {
      throw new MentiaError(`init: cannot write ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    console.log(`wrote ${file}; edit it, then: mentia run ${file} --out runs/study --dry-run`);
    return 0;
  },
};
