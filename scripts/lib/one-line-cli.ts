import { readFileSync } from "node:fs";

/**
 * Shared by the scripting CLIs (rtt, place, calibrate:latency): every problem ends the
 * process with exactly one line on stderr and exit code 1.
 */
export function fail(message: string): never {
  process.stderr.write(`${message.replace(/\s*\n\s*/g, " ")}\n`);
  process.exit(1);
}

export function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    fail(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    fail(`${path} is not valid JSON: ${(error as Error).message}`);
  }
}

/** Runs `main`, turning any thrown error into the one-line failure. */
export function runCli(main: () => void): void {
  try {
    main();
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
}
