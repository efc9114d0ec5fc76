import type { Readable, Writable } from "node:stream";

/** Raised when the reader of a pipe went away: the writer dies of SIGPIPE, silently. */
export class BrokenPipe extends Error {}

const BROKEN = new Set(["ERR_STREAM_DESTROYED", "EPIPE", "ERR_STREAM_WRITE_AFTER_END", "ERR_STREAM_PREMATURE_CLOSE"]);

export function isBrokenPipe(err: unknown): boolean {
  return err instanceof BrokenPipe || BROKEN.has((err as NodeJS.ErrnoException | undefined)?.code ?? "");
}

/** Writes with backpressure; rejects with the stream's own error (e.g. ENOSPC). */
export function write(dst: Writable, chunk: Buffer | string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (dst.destroyed || dst.writableEnded) return reject(new BrokenPipe());
    let settled = false;
    const done = (err?: Error | null) => {
      if (settled) return;
      settled = true;
      dst.off("error", done);
      if (err) reject(err);
      else resolve();
    };
    dst.once("error", done);
    dst.write(chunk, (err) => done(err));
  });
}

/**
 * Copies src to dst until src ends, keeping dst open (a session's stdout outlives one
 * command) and with one write in flight at a time (backpressure end to end). On abort
 * the source is destroyed; rejects with the destination's error (e.g. ENOSPC).
 */
export function pump(src: Readable, dst: Writable, signal: AbortSignal, onChunk?: (n: number) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    // A program ends only after its last write(2) returned: never with one in flight.
    let inFlight: Promise<unknown> = Promise.resolve();
    const settle = (err?: unknown) => {
      if (settled) return;
      settled = true;
      src.off("data", onData);
      src.off("end", onEnd);
      src.off("error", onError);
      src.off("close", onClose);
      signal.removeEventListener("abort", onAbort);
      // 'end' can arrive while the last write is still pending: its failure still counts.
      inFlight.then(
        () => (err === undefined ? resolve() : reject(err)),
        (writeErr: unknown) => reject(err ?? writeErr),
      );
    };
    const onData = (chunk: Buffer) => {
      src.pause();
      inFlight = write(dst, chunk);
      inFlight.then(
        () => {
          onChunk?.(chunk.length);
          src.resume();
        },
        (err: unknown) => {
          src.destroy();
          settle(err);
        },
      );
    };
    const onEnd = () => settle();
    const onError = (err: Error) => settle(err);
    // Closed without 'end': the writer went away mid-stream (a broken pipe upstream).
    const onClose = () => settle(src.readableEnded ? undefined : new BrokenPipe());
    const onAbort = () => {
      src.destroy();
      settle(new BrokenPipe());
    };
    if (signal.aborted) return onAbort();
    src.on("data", onData);
    src.once("end", onEnd);
    src.once("error", onError);
    src.once("close", onClose);
    signal.addEventListener("abort", onAbort, { once: true });
    src.resume();
  });
}
