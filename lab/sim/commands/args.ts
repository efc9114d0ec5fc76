/**
 * getopt-style parsing for the sim's coreutils: short options (clustered or with a value
 * attached or following), long options (`--name` / `--name=value`), and `--`. Errors read
 * like GNU's so a caller sees the same text as on a real host.
 */

export interface ParsedArgs {
  options: Map<string, string | true>;
  operands: string[];
}

export interface ArgSpec {
  /** Short flags without value, e.g. ["f", "p"]. */
  flags?: string[];
  /** Short options taking a value, e.g. ["c", "B"]. */
  values?: string[];
  /** Long options; `name=` takes a value, `name` does not. */
  long?: string[];
  /** Stop at the first operand (like `+` in getopt: flock, env). */
  stopAtOperand?: boolean;
}

export class UsageError extends Error {}

export function parseArgs(cmd: string, args: string[], spec: ArgSpec): ParsedArgs {
  const options = new Map<string, string | true>();
  const operands: string[] = [];
  const flags = new Set(spec.flags ?? []);
  const values = new Set(spec.values ?? []);
  const longs = new Map((spec.long ?? []).map((l) => [l.replace(/=$/, ""), l.endsWith("=")] as const));
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") {
      operands.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith("--")) {
      const [name, value] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
      const takesValue = longs.get(name);
      if (takesValue === undefined) throw new UsageError(`${cmd}: unrecognized option '${a}'`);
      if (takesValue && value === undefined) {
        const next = args[++i];
        if (next === undefined) throw new UsageError(`${cmd}: option '--${name}' requires an argument`);
        options.set(name, next);
      } else options.set(name, value ?? true);
      continue;
    }
    if (a.startsWith("-") && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        if (flags.has(c)) options.set(c, true);
        else if (values.has(c)) {
          const rest = a.slice(j + 1);
          const value = rest !== "" ? rest : args[++i];
          if (value === undefined) throw new UsageError(`${cmd}: option requires an argument -- '${c}'`);
          options.set(c, value);
          break;
        } else throw new UsageError(`${cmd}: invalid option -- '${c}'`);
      }
      continue;
    }
    if (spec.stopAtOperand) {
      operands.push(...args.slice(i));
      break;
    }
    operands.push(a);
  }
  return { options, operands };
}

/** GNU's quoting of file names in messages ('name', or "it's" when it holds a quote). */
export function q(name: string): string {
  return name.includes("'") ? `"${name}"` : `'${name}'`;
}
