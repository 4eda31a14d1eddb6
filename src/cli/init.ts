import { existsSync, writeFileSync } from "node:fs";
import { MentiaError } from "../errors.js";
import { EXAMPLE_CONFIG } from "../sweep/template.js";
import { formatHelp, parseArgs, wantsHelp, type FlagSpec } from "./args.js";
import type { Command } from "./main.js";

const FLAGS: Record<string, FlagSpec> = {
  force: { kind: "boolean", help: "overwrite FILE if it exists" },
};

const USAGE = "mentia init [FILE]";
const DESCRIPTION = "Writes a commented example sweep config (YAML) to FILE (default: mentia.yaml), or to stdout with '-'.";

export const command: Command = {
  summary: "write a commented example sweep config",
  async run(argv) {
    if (wantsHelp(argv)) {
      console.log(formatHelp(USAGE, DESCRIPTION, FLAGS));
      return 0;
    }
    const { flags, positional } = parseArgs(argv, FLAGS, "init");
    if (positional.length > 1) throw new MentiaError(`init: expected at most one FILE, got ${positional.length}`);
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
