import { OutputShapeError } from "./virsh-output";

/**
 * `stat -c '%s %n' -- FILE…`: one "<size> <name>" line per file that exists, names as
 * given. Every line must name one of the files asked about, once; the caller counts the
 * missing ones from stat's errors.
 */
export function parseStatSizes(stdout: string, files: readonly string[]): Map<string, number> {
  const asked = new Set(files);
  const sizes = new Map<string, number>();
  const lines = stdout.split("\n");
  if (lines.pop() !== "") throw new OutputShapeError("expected lines ending in a newline");
  for (const line of lines) {
    const m = /^(\d+) (.*)$/.exec(line);
    if (!m) throw new OutputShapeError('expected "<size> <file>"');
    const size = Number(m[1]);
    if (!Number.isSafeInteger(size)) throw new OutputShapeError(`size is not an integer: ${m[1]}`);
    if (!asked.has(m[2]!)) throw new OutputShapeError(`size for ${JSON.stringify(m[2])}, which was not asked about`);
    if (sizes.has(m[2]!)) throw new OutputShapeError(`two sizes for ${JSON.stringify(m[2])}`);
    sizes.set(m[2]!, size);
  }
  return sizes;
}
