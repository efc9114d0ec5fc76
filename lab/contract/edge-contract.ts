import { generateKeyPairSync, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commandLine } from "../../server/hosts/command";
import { InvalidArgumentError } from "../../server/hosts/errors";
import { EdgeCommandError, SshEdgeDriver, type EdgeTarget, type TunnelSpec } from "../../server/edge/driver/driver";
import { firewallRules } from "../../server/edge/driver/firewall";
import { edgeTarget, type EdgeManifest } from "../../server/edge/registry";

export interface EdgeContractLab {
  manifest: EdgeManifest;
  /** A backend the edge's HAProxy declares. */
  backend: string;
  /**
   * How the lab makes open connections to a server: the backend and the server address the
   * case uses, and `open`, which makes `n` sessions to that server (the sim edge sets them,
   * the libvirt lab holds real requests through HAProxy). Without it that case is skipped.
   */
  connections?: {
    backend: string;
    address: string;
    port: number;
    open: (hostingNetwork: string, backend: string, server: string, n: number) => Promise<void>;
  };
}

const EVIL = ["x; rm -rf /", "$(id)", "a b", "a\nb", "UPPER", "-x", "a/b", ""];

/** A WireGuard public key nobody holds the private half of here (a back end that never answers). */
const someoneElsesKey = () =>
  (generateKeyPairSync("x25519").publicKey.export({ format: "der", type: "spki" }) as Buffer)
    .subarray(-32)
    .toString("base64");

/**
 * The edge driver's contract: every lab's edge (sim, libvirt) passes it unchanged,
 * through the real driver over real SSH.
 */
export function defineEdgeContract(getLab: () => Promise<EdgeContractLab>, opts: { label: string }): void {
  const run = randomBytes(2).toString("hex");
  let lab: EdgeContractLab;
  let driver: SshEdgeDriver;
  let edge: EdgeTarget;
  const server = (n: number) => `ct-${run}-${n}`;
  const tunnel = (peerPublicKey: string): TunnelSpec => ({
    interface: `vmxct${run}`,
    endpoint: "192.0.2.90:51820",
    peerPublicKey,
    allowedCidr: "10.250.0.0/24",
    tunnelAddress: "100.64.250.1",
    table: 29_990,
    sources: ["10.20.0.50"],
  });

  describe(`edge driver contract (${opts.label} lab)`, () => {
    beforeAll(async () => {
      lab = await getLab();
      driver = new SshEdgeDriver({ connectTimeoutMs: 5000, commandTimeoutMs: 15_000 });
      edge = edgeTarget(lab.manifest.edges[0]!);
    }, 120_000);
    afterAll(async () => {
      if (!driver) return;
      for (let n = 0; n < 4; n++) await driver?.deleteServer(edge, lab.backend, server(n)).catch(() => false);
      if (lab?.connections) await driver?.deleteServer(edge, lab.connections.backend, server(2)).catch(() => false);
      await driver
        ?.removeTunnel(edge, tunnel(someoneElsesKey()).interface, tunnel(someoneElsesKey()).table)
        .catch(() => false);
      await driver?.close();
    });

    it("puts a server in rotation in a backend, idempotently, and moves it when its address changes", async () => {
      await driver.addServer(edge, lab.backend, server(0), "10.20.0.5", 80);
      await driver.addServer(edge, lab.backend, server(0), "10.20.0.5", 80);
      let mine = (await driver.servers(edge, lab.backend)).filter((s) => s.server === server(0));
      expect(mine).toMatchObject([{ backend: lab.backend, address: "10.20.0.5", port: 80, admin: "ready", used: 0 }]);
      await driver.addServer(edge, lab.backend, server(0), "10.20.0.6", 8080);
      mine = (await driver.servers(edge, lab.backend)).filter((s) => s.server === server(0));
      expect(mine).toMatchObject([{ address: "10.20.0.6", port: 8080, admin: "ready" }]);
    });

    it("drains a server, then removes it; removing it again says it was not there", async () => {
      await driver.addServer(edge, lab.backend, server(1), "10.20.0.7", 80);
      await driver.setServerState(edge, lab.backend, server(1), "drain");
      expect((await driver.servers(edge, lab.backend)).find((s) => s.server === server(1))?.admin).toBe("drain");
      expect(await driver.deleteServer(edge, lab.backend, server(1))).toBe(true);
      expect((await driver.servers(edge, lab.backend)).some((s) => s.server === server(1))).toBe(false);
      expect(await driver.deleteServer(edge, lab.backend, server(1))).toBe(false);
    });

    it("counts a server's open connections, and a removal after a drain timeout closes them", async (ctx) => {
      const c = lab.connections;
      if (!c) return ctx.skip();
      await driver.addServer(edge, c.backend, server(2), c.address, c.port);
      await c.open(edge.hostingNetwork, c.backend, server(2), 3);
      expect((await driver.servers(edge, c.backend)).find((s) => s.server === server(2))?.used).toBe(3);
      expect(await driver.deleteServer(edge, c.backend, server(2))).toBe(true);
      expect((await driver.servers(edge, c.backend)).some((s) => s.server === server(2))).toBe(false);
    });

    it("refuses a backend the edge does not declare, with HAProxy's words", async () => {
      await expect(driver.addServer(edge, `nope-${run}`, server(3), "10.20.0.9", 80)).rejects.toThrow(EdgeCommandError);
      await expect(driver.addServer(edge, `nope-${run}`, server(3), "10.20.0.9", 80)).rejects.toThrow(
        /No such backend/,
      );
    });

    it("maps a public address to a backend, once, and unmaps it", async () => {
      const vip = "192.0.2.77";
      await driver.setVip(edge, vip, lab.backend);
      await driver.setVip(edge, vip, lab.backend);
      expect((await driver.vips(edge)).filter((e) => e.key === vip)).toEqual([{ key: vip, value: lab.backend }]);
      await driver.removeVip(edge, vip);
      await driver.removeVip(edge, vip);
      expect((await driver.vips(edge)).some((e) => e.key === vip)).toBe(false);
    });

    it("replaces the product's firewall table whole and never touches another table", async () => {
      const other =
        "table inet operator_rules {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n\t\ttcp dport 22 accept\n\t}\n}\n";
      await driver.transport.run(edge, commandLine(["nft", "-f", "-"]), { stdin: other });
      const listOther = async () =>
        (await driver.transport.run(edge, commandLine(["nft", "list", "table", "inet", "operator_rules"]))).stdout;
      const before = await listOther();
      const first = firewallRules({
        poolCidr: "192.0.2.64/28",
        open: [{ publicAddress: "192.0.2.65", port: 80, proto: "tcp", owner: "map" }],
        nat: [{ publicAddress: "192.0.2.66", privateAddress: "10.20.0.10", port: 2302, proto: "udp", vm: "game-1" }],
      });
      await driver.applyFirewall(edge, first);
      expect(await driver.firewall(edge)).toEqual(first);
      const second = firewallRules({
        poolCidr: "192.0.2.64/28",
        open: [{ publicAddress: "192.0.2.65", port: 443, proto: "tcp", owner: "finance" }],
        nat: [],
      });
      await driver.applyFirewall(edge, second);
      expect(await driver.firewall(edge)).toEqual(second);
      expect(await listOther()).toBe(before);
    });

    it("keeps the pool's addresses on the public interface, idempotently", async () => {
      await driver.addAddress(edge, "192.0.2.78");
      await driver.addAddress(edge, "192.0.2.78");
      expect(await driver.addresses(edge)).toContain("192.0.2.78");
      await driver.removeAddress(edge, "192.0.2.78");
      await driver.removeAddress(edge, "192.0.2.78");
      expect(await driver.addresses(edge)).not.toContain("192.0.2.78");
    });

    it("makes a tunnel home with a key made on the edge, idempotently; a new back-end key replaces the peer", async () => {
      const [first, second] = [someoneElsesKey(), someoneElsesKey()];
      const made = await driver.ensureTunnel(edge, tunnel(first));
      expect(await driver.ensureTunnel(edge, tunnel(first))).toEqual(made);
      let mine = (await driver.tunnels(edge)).filter((x) => x.interface === tunnel(first).interface);
      expect(mine).toEqual([
        {
          interface: tunnel(first).interface,
          publicKey: made.publicKey,
          peers: [
            { publicKey: first, endpoint: "192.0.2.90:51820", allowedIps: ["10.250.0.0/24"], latestHandshake: 0 },
          ],
        },
      ]);
      expect(await driver.ensureTunnel(edge, tunnel(second))).toEqual(made);
      mine = (await driver.tunnels(edge)).filter((x) => x.interface === tunnel(first).interface);
      expect(mine[0]!.peers.map((p) => p.publicKey)).toEqual([second]);
    });

    it("removes a tunnel with its key; removing it again says it was not there; a new one gets a new key", async () => {
      const spec = tunnel(someoneElsesKey());
      const before = await driver.ensureTunnel(edge, spec);
      expect(await driver.removeTunnel(edge, spec.interface, spec.table)).toBe(true);
      expect(await driver.removeTunnel(edge, spec.interface, spec.table)).toBe(false);
      expect((await driver.tunnels(edge)).some((x) => x.interface === spec.interface)).toBe(false);
      const again = await driver.ensureTunnel(edge, spec);
      expect(again.publicKey).not.toBe(before.publicKey);
      expect(await driver.removeTunnel(edge, spec.interface, spec.table)).toBe(true);
    });

    it("refuses a tunnel whose back end is not a key, an endpoint or a network, before any command runs", async () => {
      const ok = tunnel(someoneElsesKey());
      for (const bad of EVIL) {
        await expect(driver.ensureTunnel(edge, { ...ok, interface: bad })).rejects.toThrow(InvalidArgumentError);
        await expect(driver.ensureTunnel(edge, { ...ok, peerPublicKey: bad })).rejects.toThrow(/backendPublicKey/);
        await expect(driver.ensureTunnel(edge, { ...ok, endpoint: bad })).rejects.toThrow(/backendEndpoint/);
        await expect(driver.ensureTunnel(edge, { ...ok, allowedCidr: bad })).rejects.toThrow(/backendCidr/);
        await expect(driver.ensureTunnel(edge, { ...ok, sources: [bad] })).rejects.toThrow(InvalidArgumentError);
      }
      await expect(driver.ensureTunnel(edge, { ...ok, table: 254 })).rejects.toThrow(InvalidArgumentError);
      expect((await driver.tunnels(edge)).some((x) => x.interface === ok.interface)).toBe(false);
    });

    it("refuses names and addresses that are not identifiers before any command runs", async () => {
      for (const bad of EVIL) {
        await expect(driver.addServer(edge, lab.backend, bad, "10.20.0.5", 80)).rejects.toThrow(InvalidArgumentError);
        await expect(driver.addServer(edge, bad, "ok-name", "10.20.0.5", 80)).rejects.toThrow(InvalidArgumentError);
        await expect(driver.setVip(edge, bad, lab.backend)).rejects.toThrow(InvalidArgumentError);
        await expect(driver.addAddress(edge, bad)).rejects.toThrow(InvalidArgumentError);
      }
      await expect(driver.addServer(edge, lab.backend, "ok-name", "10.20.0.5", 0)).rejects.toThrow(
        InvalidArgumentError,
      );
    });
  });
}
