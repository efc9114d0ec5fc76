import type { AddressInfo } from "node:net";
import { PassThrough } from "node:stream";
import ssh2, { type Connection, type ServerChannel } from "ssh2";
import { findAuthorizedKey } from "./authorized-keys";
import type { SimHostRuntime } from "./context";
import { runCommandLine } from "./shell";
import { serveSftp } from "./sftp";

/** OpenSSH's default MaxSessions: sessions beyond it are refused on one connection. */
const MAX_SESSIONS = 10;

export interface HostServer {
  port: number;
  /** Drops every live connection at once (a cut link), leaving the listener open. */
  cutSessions(): void;
  close(): Promise<void>;
}

/**
 * sshd for one sim host: public-key logins for its one user against the user's
 * ~/.ssh/authorized_keys and the lab's site-wide keys (authorized-keys.ts), exec sessions run by the sim shell, `signal` requests kill the
 * running command (as sshd's killpg does), and the sftp subsystem.
 */
export async function startHostServer(
  host: SimHostRuntime,
  hostKey: string,
  bindAddress: string,
  port: number,
): Promise<HostServer> {
  const connections = new Set<Connection>();
  const server = new ssh2.Server({ hostKeys: [hostKey], ident: "OpenSSH_9.2p1 Debian-2+deb12u3" }, (client) => {
    connections.add(client);
    // ssh2 has setNoDelay on server connections too; its typings only omit it.
    (client as unknown as { setNoDelay(on: boolean): void }).setNoDelay(true);
    // A connection that drops hangs up its sessions' commands (sshd's SIGHUP to them).
    const hangups = new Set<() => void>();
    client.on("close", () => {
      connections.delete(client);
      for (const hangup of hangups) hangup();
    });
    client.on("error", () => undefined);
    client.on("authentication", (ctx) => {
      if (ctx.username !== host.user || ctx.method !== "publickey") return ctx.reject(["publickey"]);
      void findAuthorizedKey(
        { userFile: host.fs.real(`${host.home}/.ssh/authorized_keys`), siteDir: host.siteKeysDir },
        ctx.key,
      ).then((key) => {
        if (!key) return ctx.reject(["publickey"]);
        if (ctx.signature && ctx.blob && key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true)
          return ctx.reject(["publickey"]);
        ctx.accept();
      });
    });
    client.on("ready", () => {
      let open = 0;
      client.on("session", (accept, reject) => {
        if (open >= MAX_SESSIONS) return reject();
        open++;
        const session = accept();
        let counted = true;
        const done = () => {
          if (counted) open--;
          counted = false;
        };
        session.on("close", done);
        session.on("env", (acceptEnv) => acceptEnv?.());
        session.on("pty", (_a, rejectPty) => rejectPty?.());
        session.on("shell", (_a, rejectShell) => rejectShell());
        session.on("sftp", (acceptSftp) => serveSftp(acceptSftp(), host));
        const killer = new AbortController();
        let killedBy: string | null = null;
        const hangup = () => {
          killedBy ??= "HUP";
          killer.abort();
        };
        hangups.add(hangup);
        session.on("close", () => hangups.delete(hangup));
        session.on("signal", (acceptSignal, _r, info) => {
          acceptSignal?.();
          killedBy = info.name.replace(/^SIG/, "");
          killer.abort();
        });
        session.on("exec", (acceptExec, _r, info) => {
          const channel = acceptExec();
          // Commands read stdin through a pipe: whatever they do to it, the channel stays open
          // until the exit status is sent.
          const stdin = new PassThrough();
          channel.pipe(stdin);
          // A dropped connection closes the command's stdin (EOF), as sshd's pipe does.
          channel.on("close", () => stdin.end());
          runCommandLine(info.command, { stdin, stdout: channel, stderr: channel.stderr }, host, killer.signal).then(
            (status) => finish(channel, killedBy ?? status),
            (err: unknown) => {
              channel.stderr.write(`bash: internal error: ${(err as Error).message}\n`);
              finish(channel, 1);
            },
          );
        });
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, bindAddress, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    cutSessions() {
      // The socket, not a polite SSH disconnect: the peer sees a reset, as on a cut link.
      for (const c of connections) (c as unknown as { _sock?: { destroy(): void } })._sock?.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of connections) c.end();
        server.close(() => resolve());
      }),
  };
}

function finish(channel: ServerChannel, status: number | string): void {
  if (channel.destroyed) return;
  if (typeof status === "string") channel.exit(status, false, "");
  else channel.exit(status);
  channel.end();
}
