/**
 * A writer for the cpio "newc" format the Linux kernel unpacks as an initramfs.
 * Written here (about forty lines) so the guest image needs no cpio tool and every entry
 * gets root ownership and a fixed timestamp whatever user builds it: the image is the
 * same bytes on every run, so `up` can tell whether it needs rebuilding.
 */

export type CpioEntry =
  | { kind: "dir"; path: string; mode?: number }
  | { kind: "file"; path: string; data: Buffer; mode?: number }
  | { kind: "symlink"; path: string; target: string }
  | { kind: "chardev"; path: string; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

function hex8(n: number): string {
  return n.toString(16).padStart(8, "0");
}

function pad4(len: number): Buffer {
  return Buffer.alloc((4 - (len % 4)) % 4);
}

function record(ino: number, name: string, mode: number, data: Buffer, rdev = { major: 0, minor: 0 }): Buffer[] {
  const nameBuf = Buffer.from(`${name}\0`, "utf8");
  const fields = [
    ino,
    mode,
    0,
    0,
    mode & S_IFDIR ? 2 : 1,
    0,
    data.length,
    0,
    0,
    rdev.major,
    rdev.minor,
    nameBuf.length,
    0,
  ];
  const header = Buffer.from(`070701${fields.map(hex8).join("")}`, "ascii");
  return [header, nameBuf, pad4(header.length + nameBuf.length), data, pad4(data.length)];
}

export function buildCpio(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  entries.forEach((e, i) => {
    const name = e.path.replace(/^\/+/, "");
    if (!name || name.split("/").includes("..")) throw new Error(`bad initramfs path ${e.path}`);
    const ino = i + 1;
    if (e.kind === "dir") parts.push(...record(ino, name, S_IFDIR | (e.mode ?? 0o755), Buffer.alloc(0)));
    else if (e.kind === "file") parts.push(...record(ino, name, S_IFREG | (e.mode ?? 0o644), e.data));
    else if (e.kind === "symlink") parts.push(...record(ino, name, S_IFLNK | 0o777, Buffer.from(e.target)));
    else parts.push(...record(ino, name, S_IFCHR | (e.mode ?? 0o600), Buffer.alloc(0), e));
  });
  parts.push(...record(entries.length + 1, "TRAILER!!!", 0, Buffer.alloc(0)));
  const body = Buffer.concat(parts);
  // Kernels expect the archive padded to a 512-byte block.
  return Buffer.concat([body, Buffer.alloc((512 - (body.length % 512)) % 512)]);
}
