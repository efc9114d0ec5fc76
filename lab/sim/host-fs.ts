import { createReadStream, type Stats } from "node:fs";
import {
  copyFile,
  mkdir,
  open,
  readdir,
  rename,
  stat,
  statfs,
  truncate,
  unlink,
  type FileHandle,
} from "node:fs/promises";
import { join, posix } from "node:path";
import { Writable, type Readable } from "node:stream";

/** An errno-style error whose text is what the C library would print. */
export class FsError extends Error {
  constructor(
    readonly code: string,
    readonly path: string,
  ) {
    super(strerror(code));
  }
}

const STRERROR: Record<string, string> = {
  ENOENT: "No such file or directory",
  EACCES: "Permission denied",
  ENOSPC: "No space left on device",
  EISDIR: "Is a directory",
  ENOTDIR: "Not a directory",
  EEXIST: "File exists",
  ENOTEMPTY: "Directory not empty",
  EXDEV: "Invalid cross-device link",
};

export function strerror(code: string): string {
  return STRERROR[code] ?? code;
}

/** Converts Node's fs errors to FsError so callers print one kind of message. */
export function asFsError(err: unknown, path: string): FsError {
  if (err instanceof FsError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? "EIO";
  return new FsError(code, path);
}

/**
 * A sim host's filesystem: a real directory acting as the host's "/", with the same
 * answers a Linux host gives (errno texts, df figures) and an optional disk quota so a
 * full disk can be produced on demand. Bytes used are tracked on every write so that
 * "No space left on device" happens at the byte where the quota is reached.
 */
export class HostFs {
  private used = 0;

  private constructor(
    readonly root: string,
    private readonly writableDirs: readonly string[],
    public quotaBytes: number | undefined,
  ) {}

  static async open(root: string, writableDirs: readonly string[], quotaBytes?: number): Promise<HostFs> {
    const fs = new HostFs(root, writableDirs, quotaBytes);
    await mkdir(root, { recursive: true });
    for (const dir of writableDirs) await mkdir(fs.real(dir), { recursive: true });
    fs.used = await du(root);
    return fs;
  }

  /** Bytes in files on this host (what a quota counts). */
  get usedBytes(): number {
    return this.used;
  }

  /** Absolute virtual path for `path` seen from `cwd`. */
  virtual(path: string, cwd: string): string {
    return posix.resolve(cwd, path);
  }

  real(virtualPath: string): string {
    return join(this.root, posix.resolve("/", virtualPath));
  }

  /** Only the user's own directories are writable, as for a normal login on a host. */
  assertWritable(virtualPath: string): void {
    const v = posix.resolve("/", virtualPath);
    if (!this.writableDirs.some((d) => v === d || v.startsWith(d + "/"))) throw new FsError("EACCES", v);
  }

  async stat(virtualPath: string): Promise<Stats> {
    try {
      return await stat(this.real(virtualPath));
    } catch (err) {
      throw asFsError(err, virtualPath);
    }
  }

  async exists(virtualPath: string): Promise<boolean> {
    return this.stat(virtualPath).then(
      () => true,
      () => false,
    );
  }

  /** What `df` shows for this host: the quota if one is set, else the real filesystem. */
  async diskSpace(): Promise<{ availableBytes: number; sizeBytes: number }> {
    const s = await statfs(this.root);
    const realAvail = s.bavail * s.bsize;
    const realSize = s.blocks * s.bsize;
    if (this.quotaBytes === undefined) return { availableBytes: realAvail, sizeBytes: realSize };
    return {
      availableBytes: Math.max(0, Math.min(realAvail, this.quotaBytes - this.used)),
      sizeBytes: this.quotaBytes,
    };
  }

  readStream(virtualPath: string, start = 0): Readable {
    return createReadStream(this.real(virtualPath), { start, highWaterMark: 256 * 1024 });
  }

  /** An O_APPEND stream that stops with ENOSPC exactly at the quota. */
  async appendStream(virtualPath: string): Promise<Writable> {
    this.assertWritable(virtualPath);
    let handle: FileHandle;
    try {
      handle = await open(this.real(virtualPath), "a");
    } catch (err) {
      throw asFsError(err, virtualPath);
    }
    const account = (n: number) => this.reserve(n, virtualPath);
    const stream = new Writable({
      highWaterMark: 256 * 1024,
      write(chunk: Buffer, _enc, done) {
        const { allowed, error } = account(chunk.length);
        const data = allowed < chunk.length ? chunk.subarray(0, allowed) : chunk;
        handle.write(data).then(
          () => done(error),
          (err: unknown) => done(asFsError(err, virtualPath)),
        );
      },
      final(done) {
        handle.close().then(() => done(), done);
      },
      destroy(err, done) {
        handle.close().then(
          () => done(err),
          () => done(err),
        );
      },
    });
    // Writers learn of failures (ENOSPC) from their write callbacks; the event is a duplicate.
    stream.on("error", () => undefined);
    return stream;
  }

  /** Positional write for SFTP; grows the accounted size only by what the file grows. */
  async writeAt(handle: FileHandle, virtualPath: string, offset: number, data: Buffer): Promise<void> {
    const size = (await handle.stat()).size;
    const growth = Math.max(0, offset + data.length - size);
    const { allowed, error } = this.reserve(growth, virtualPath);
    if (error) {
      this.used -= allowed;
      throw error;
    }
    await handle.write(data, 0, data.length, offset);
  }

  /** Opens for SFTP; "w" truncates, so the old size leaves the account. */
  async openHandle(virtualPath: string, flags: "r" | "r+" | "w" | "a" | "wx"): Promise<FileHandle> {
    if (flags !== "r") this.assertWritable(virtualPath);
    try {
      if (flags === "w") {
        const old = await stat(this.real(virtualPath)).then(
          (s) => s.size,
          () => 0,
        );
        const handle = await open(this.real(virtualPath), "w");
        this.used -= old;
        return handle;
      }
      return await open(this.real(virtualPath), flags);
    } catch (err) {
      throw asFsError(err, virtualPath);
    }
  }

  /** Whole-file write (virsh save): refuses up front when it cannot fit. */
  async writeWhole(virtualPath: string, chunks: Iterable<Buffer>, totalBytes: number): Promise<void> {
    this.assertWritable(virtualPath);
    const old = await this.stat(virtualPath).then(
      (s) => s.size,
      () => 0,
    );
    const growth = totalBytes - old;
    const { allowed, error } = this.reserve(Math.max(0, growth), virtualPath);
    if (error) {
      this.used -= allowed;
      throw error;
    }
    let handle: FileHandle;
    try {
      handle = await open(this.real(virtualPath), "w");
    } catch (err) {
      this.used -= Math.max(0, growth);
      throw asFsError(err, virtualPath);
    }
    try {
      for (const chunk of chunks) await handle.write(chunk);
    } finally {
      await handle.close();
    }
    if (growth < 0) this.used += growth;
  }

  async remove(virtualPath: string): Promise<void> {
    this.assertWritable(virtualPath);
    const s = await this.stat(virtualPath);
    if (s.isDirectory()) throw new FsError("EISDIR", virtualPath);
    try {
      await unlink(this.real(virtualPath));
    } catch (err) {
      throw asFsError(err, virtualPath);
    }
    this.used -= s.size;
  }

  async rename(from: string, to: string): Promise<void> {
    this.assertWritable(from);
    this.assertWritable(to);
    await this.stat(from);
    const replaced = await stat(this.real(to)).then(
      (s) => (s.isFile() ? s.size : 0),
      () => 0,
    );
    try {
      await rename(this.real(from), this.real(to));
    } catch (err) {
      throw asFsError(err, to);
    }
    this.used -= replaced;
  }

  /** copy_file_range-like: the destination is replaced; its bytes count against the quota. */
  async copy(from: string, to: string): Promise<void> {
    this.assertWritable(to);
    const src = await this.stat(from);
    if (src.isDirectory()) throw new FsError("EISDIR", from);
    const replaced = await stat(this.real(to)).then(
      (s) => (s.isFile() ? s.size : 0),
      () => 0,
    );
    const { allowed, error } = this.reserve(Math.max(0, src.size - replaced), to);
    if (error) {
      this.used -= allowed;
      throw error;
    }
    try {
      await copyFile(this.real(from), this.real(to));
    } catch (err) {
      throw asFsError(err, to);
    }
    if (src.size < replaced) this.used -= replaced - src.size;
  }

  async mkdirp(virtualPath: string): Promise<void> {
    this.assertWritable(virtualPath);
    try {
      await mkdir(this.real(virtualPath), { recursive: true });
    } catch (err) {
      throw asFsError(err, virtualPath);
    }
  }

  /** Sets a file's length (sparse when growing), creating it if needed. */
  async truncate(virtualPath: string, size: number): Promise<void> {
    this.assertWritable(virtualPath);
    const old = await this.stat(virtualPath).then(
      (s) => s.size,
      () => 0,
    );
    const { allowed, error } = this.reserve(Math.max(0, size - old), virtualPath);
    if (error) {
      this.used -= allowed;
      throw error;
    }
    try {
      await (await open(this.real(virtualPath), "a")).close();
      await truncate(this.real(virtualPath), size);
    } catch (err) {
      throw asFsError(err, virtualPath);
    }
    if (size < old) this.used -= old - size;
  }

  private reserve(bytes: number, path: string): { allowed: number; error: FsError | undefined } {
    if (this.quotaBytes === undefined || this.used + bytes <= this.quotaBytes) {
      this.used += bytes;
      return { allowed: bytes, error: undefined };
    }
    const allowed = Math.max(0, this.quotaBytes - this.used);
    this.used += allowed;
    return { allowed, error: new FsError("ENOSPC", path) };
  }
}

async function du(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) total += await du(p);
    else if (entry.isFile()) total += (await stat(p)).size;
  }
  return total;
}
