import { MentiaError } from "../errors.js";

/**
 * A small, strict flag parser shared by every command: `--name value`, `--name=value`,
 * boolean `--flag`, and `--no-flag`. Unknown flags and missing values are MentiaErrors.
 */
export type FlagKind = "string" | "number" | "int" | "boolean" | "numbers";

export interface FlagSpec {
  kind: FlagKind;
  help: string;
  default?: string | number | boolean | number[];
  /** Placeholder shown in --help, e.g. "N". */
  metavar?: string;
}

export type FlagValues = Record<string, string | number | boolean | number[] | undefined>;

export interface ParsedArgs {
  flags: FlagValues;
  positional: string[];
}

export function parseArgs(argv: string[], specs: Record<string, FlagSpec>, command: string): ParsedArgs {
  const flags: FlagValues = {};
  const positional: string[] = [];
  for (const [name, spec] of Object.entries(specs)) if (spec.default !== undefined) flags[name] = spec.default;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--") || arg === "--") {
      positional.push(arg);
      continue;
    }
    let name = arg.slice(2);
    let value: string | undefined;
    const eq = name.indexOf("=");
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    let spec = specs[name];
    if (!spec && name.startsWith("no-") && specs[name.slice(3)]?.kind === "boolean" && value === undefined) {
      flags[name.slice(3)] = false;
      continue;
    }
    if (!spec) throw new MentiaError(`${command}: unknown option --${name} (see 'mentia ${command} --help')`);
    if (spec.kind === "boolean") {
      if (value === undefined) flags[name] = true;
      else if (value === "true" || value === "false") flags[name] = value === "true";
      else throw new MentiaError(`${command}: --${name} takes no value or true/false, got '${value}'`);
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new MentiaError(`${command}: --${name} needs a value`);
      value = argv[++i];
    }
    flags[name] = convert(value, spec.kind, name, command);
  }
  return { flags, positional };
}

function convert(value: string, kind: FlagKind, name: string, command: string): string | number | number[] {
  const num = (s: string): number => {
    const v = Number(s.trim());
    if (s.trim() === "" || !Number.isFinite(v)) throw new MentiaError(`${command}: --${name} expects a number, got '${s}'`);
    return v;
  };
  switch (kind) {
    case "string":
      return value;
    case "number":
      return num(value);
    case "int": {
      const v = num(value);
      if (!Number.isInteger(v)) throw new MentiaError(`${command}: --${name} expects an integer, got '${value}'`);
      return v;
    }
    case "numbers":
      return value.split(",").map(num);
    default:
      throw new Error(`unreachable flag kind ${kind}`);
  }
}

/** Help text: usage line, description, and one line per option. */
export function formatHelp(usage: string, description: string, specs: Record<string, FlagSpec>): string {
  const rows = Object.entries(specs).map(([name, s]) => {
    const left = s.kind === "boolean" ? `--${name}` : `--${name} ${s.metavar ?? s.kind.toUpperCase()}`;
    const def = s.default !== undefined && s.default !== false ? ` (default: ${String(s.default)})` : "";
    return [left, s.help + def] as const;
  });
  const w = Math.max(0, ...rows.map(([l]) => l.length));
  return [`usage: ${usage}`, "", description, "", "options:", ...rows.map(([l, r]) => `  ${l.padEnd(w)}  ${r}`), `  ${"--help".padEnd(w)}  show this help`].join("\n");
}

export function wantsHelp(argv: string[]): boolean {
  return argv.includes("--help") || argv.includes("-h");
}

export interface CommandLine {
  name: string;
  usage: string;
  description: string;
  flags: Record<string, FlagSpec>;
  /** Positional arguments: how many are allowed, and what they are (for the error message). */
  positional: { min: number; max: number; what: string };
}

/**
 * The common start of every command: prints help and returns null on --help; otherwise
 * parses the flags and checks the number of positional arguments.
 */
export function parseCommandLine(argv: string[], cli: CommandLine): ParsedArgs | null {
  if (wantsHelp(argv)) {
    console.log(formatHelp(cli.usage, cli.description, cli.flags));
    return null;
  }
  const parsed = parseArgs(argv, cli.flags, cli.name);
  const { min, max, what } = cli.positional;
  const n = parsed.positional.length;
  if (n > max && max === 0) throw new MentiaError(`${cli.name}: unexpected argument '${parsed.positional[0]}' (usage: ${cli.usage})`);
  if (n < min || n > max) {
    const got = n ? parsed.positional.map((p) => `'${p}'`).join(" ") : "none";
    throw new MentiaError(`${cli.name}: expected ${what}, got ${got} (usage: ${cli.usage})`);
  }
  return parsed;
}
