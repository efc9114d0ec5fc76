import type { FileHandle } from "node:fs/promises";
import type { Stats } from "node:fs";
import ssh2, { type Attributes, type SFTPWrapper } from "ssh2";
import type { SimHostRuntime } from "./context";
import { asFsError, type FsError } from "./host-fs";

const { STATUS_CODE, flagsToString } = ssh2.utils.sftp;

/**
 * The SFTP subsystem of a sim host (what OpenSSH's sftp-server offers for files): open,
 * read, write, close, stat, remove, rename, mkdir, realpath. Paths are the host's
 * virtual paths; writes go through the host's filesystem and its disk quota.
 */
export function serveSftp(sftp: SFTPWrapper, host: SimHostRuntime): void {
  const handles = new Map<number, { file: FileHandle; path: string }>();
  let nextHandle = 1;
  const path = (p: string) => host.fs.virtual(p, host.home);
  const handleOf = (buf: Buffer) => (buf.length === 4 ? handles.get(buf.readUInt32BE(0)) : undefined);
  const fail = (reqId: number, err: unknown, p: string) => {
    const e = asFsError(err, p) as FsError;
    const code =
      e.code === "ENOENT"
        ? STATUS_CODE.NO_SUCH_FILE
        : e.code === "EACCES"
          ? STATUS_CODE.PERMISSION_DENIED
          : STATUS_CODE.FAILURE;
    sftp.status(reqId, code, e.message);
  };
  const attrs = (s: Stats): Attributes => ({
    mode: s.mode,
    uid: 1000,
    gid: 1000,
    size: s.size,
    atime: Math.floor(s.atimeMs / 1000),
    mtime: Math.floor(s.mtimeMs / 1000),
  });

  sftp.on("OPEN", (reqId, filename, flags) => {
    const mode = flagsToString(flags);
    const p = path(filename);
    const open = mode === "r" || mode === "r+" || mode === "w" || mode === "a" || mode === "wx" ? mode : null;
    if (!open) return sftp.status(reqId, STATUS_CODE.OP_UNSUPPORTED, `open mode ${mode} not supported`);
    host.fs.openHandle(p, open).then(
      (file) => {
        const id = nextHandle++;
        handles.set(id, { file, path: p });
        const buf = Buffer.alloc(4);
        buf.writeUInt32BE(id, 0);
        sftp.handle(reqId, buf);
      },
      (err: unknown) => fail(reqId, err, p),
    );
  });

  sftp.on("READ", (reqId, handle, offset, length) => {
    const h = handleOf(handle);
    if (!h) return sftp.status(reqId, STATUS_CODE.FAILURE, "invalid handle");
    const buf = Buffer.alloc(Math.min(length, 256 * 1024));
    h.file.read(buf, 0, buf.length, offset).then(
      ({ bytesRead }) =>
        bytesRead === 0 ? sftp.status(reqId, STATUS_CODE.EOF) : sftp.data(reqId, buf.subarray(0, bytesRead)),
      (err: unknown) => fail(reqId, err, h.path),
    );
  });

  sftp.on("WRITE", (reqId, handle, offset, data) => {
    const h = handleOf(handle);
    if (!h) return sftp.status(reqId, STATUS_CODE.FAILURE, "invalid handle");
    host.fs.writeAt(h.file, h.path, offset, data).then(
      () => sftp.status(reqId, STATUS_CODE.OK),
      (err: unknown) => fail(reqId, err, h.path),
    );
  });

  sftp.on("CLOSE", (reqId, handle) => {
    const h = handleOf(handle);
    if (!h) return sftp.status(reqId, STATUS_CODE.FAILURE, "invalid handle");
    handles.delete(handle.readUInt32BE(0));
    h.file.close().then(
      () => sftp.status(reqId, STATUS_CODE.OK),
      (err: unknown) => fail(reqId, err, h.path),
    );
  });

  sftp.on("FSTAT", (reqId, handle) => {
    const h = handleOf(handle);
    if (!h) return sftp.status(reqId, STATUS_CODE.FAILURE, "invalid handle");
    h.file.stat().then(
      (s) => sftp.attrs(reqId, attrs(s)),
      (err: unknown) => fail(reqId, err, h.path),
    );
  });

  const statPath = (reqId: number, p: string) =>
    host.fs.stat(path(p)).then(
      (s) => sftp.attrs(reqId, attrs(s)),
      (err: unknown) => fail(reqId, err, p),
    );
  sftp.on("STAT", statPath);
  sftp.on("LSTAT", statPath);

  // Permissions and times are accepted and not modelled (files stay owned by the user).
  sftp.on("SETSTAT", (reqId) => sftp.status(reqId, STATUS_CODE.OK));
  sftp.on("FSETSTAT", (reqId) => sftp.status(reqId, STATUS_CODE.OK));

  sftp.on("REMOVE", (reqId, p) =>
    host.fs.remove(path(p)).then(
      () => sftp.status(reqId, STATUS_CODE.OK),
      (err: unknown) => fail(reqId, err, p),
    ),
  );

  sftp.on("RENAME", (reqId, from, to) => {
    // SFTP v3 rename refuses to replace an existing file (OpenSSH's sftp-server does too).
    host.fs.exists(path(to)).then((exists) =>
      exists
        ? sftp.status(reqId, STATUS_CODE.FAILURE, "Failure")
        : host.fs.rename(path(from), path(to)).then(
            () => sftp.status(reqId, STATUS_CODE.OK),
            (err: unknown) => fail(reqId, err, from),
          ),
    );
  });

  sftp.on("MKDIR", (reqId, p) =>
    host.fs.mkdirp(path(p)).then(
      () => sftp.status(reqId, STATUS_CODE.OK),
      (err: unknown) => fail(reqId, err, p),
    ),
  );

  sftp.on("REALPATH", (reqId, p) => {
    const v = path(p);
    sftp.name(reqId, [{ filename: v, longname: v, attrs: {} as Attributes }]);
  });

  for (const op of ["OPENDIR", "READDIR", "RMDIR", "READLINK", "SYMLINK", "EXTENDED"]) {
    sftp.on(op, (reqId: number) =>
      sftp.status(reqId, STATUS_CODE.OP_UNSUPPORTED, `${op} is not supported by the sim host`),
    );
  }

  sftp.on("end", () => {
    for (const h of handles.values()) void h.file.close().catch(() => undefined);
    handles.clear();
  });
}
