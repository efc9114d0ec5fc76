import { describe, expect, it } from "vitest";
import { firewallRules, type FirewallRules } from "./driver/firewall";
import { bindingIntent, notServing, planEdgeRepair, type EdgeSeen, type EdgeWanted } from "./repair-plan";

const POOL = "192.0.2.0/28";
const rules: FirewallRules = firewallRules({
  poolCidr: POOL,
  open: [{ publicAddress: "192.0.2.1", port: 80, proto: "tcp", owner: "web" }],
  nat: [],
});
const want: EdgeWanted = {
  poolCidr: POOL,
  members: [
    { backend: "web", server: "web-1", address: "10.0.0.5", port: 80, via: "vmxs1" },
    { backend: "web", server: "web-2", address: "10.0.0.6", port: 80, via: "vmxs1" },
  ],
  draining: [],
  vips: [{ address: "192.0.2.1", backend: "web" }],
  addresses: ["192.0.2.1"],
  firewall: rules,
  natSegments: [],
};
const ready = (server: string, address: string) => ({ server, address, port: 80, admin: "ready" as const });
/** The edge as the product left it. */
const whole: EdgeSeen = {
  servers: { web: [ready("web-1", "10.0.0.5"), ready("web-2", "10.0.0.6")] },
  vips: [{ key: "192.0.2.1", value: "web" }],
  addresses: ["192.0.2.1"],
  firewall: rules,
};

describe("planEdgeRepair: what the edge must do to hold what the database binds", () => {
  it("asks nothing of an edge that holds it all (a second pass is a no-op)", () => {
    expect(planEdgeRepair(want, whole)).toEqual([]);
  });

  it("after a HAProxy reload (runtime servers and map entries gone) adds the members back and maps the address", () => {
    expect(planEdgeRepair(want, { ...whole, servers: { web: [] }, vips: [] })).toEqual([
      {
        do: "add-server",
        why: "missing",
        backend: "web",
        server: "web-1",
        address: "10.0.0.5",
        port: 80,
        via: "vmxs1",
      },
      {
        do: "add-server",
        why: "missing",
        backend: "web",
        server: "web-2",
        address: "10.0.0.6",
        port: 80,
        via: "vmxs1",
      },
      { do: "set-vip", address: "192.0.2.1", backend: "web" },
    ]);
  });

  it("after a reboot (no addresses, no table) puts the address and the whole firewall back, and a NAT segment's route", () => {
    const nat = { ...want, natSegments: [3, 3] };
    expect(planEdgeRepair(nat, { servers: { web: [] }, vips: [], addresses: [], firewall: null })).toEqual([
      { do: "add-address", address: "192.0.2.1" },
      {
        do: "add-server",
        why: "missing",
        backend: "web",
        server: "web-1",
        address: "10.0.0.5",
        port: 80,
        via: "vmxs1",
      },
      {
        do: "add-server",
        why: "missing",
        backend: "web",
        server: "web-2",
        address: "10.0.0.6",
        port: 80,
        via: "vmxs1",
      },
      { do: "set-vip", address: "192.0.2.1", backend: "web" },
      { do: "apply-firewall", rules, why: "missing" },
      { do: "segment-route", segment: 3 },
    ]);
  });

  it("replaces a member at another address, readies one left in maintenance, rewrites a changed firewall", () => {
    const seen: EdgeSeen = {
      ...whole,
      servers: { web: [ready("web-1", "10.0.0.99"), { ...ready("web-2", "10.0.0.6"), admin: "maint" }] },
      firewall: { ...rules, input: rules.input.filter((r) => !r.includes("dport 80")) },
    };
    expect(planEdgeRepair(want, seen)).toEqual([
      {
        do: "add-server",
        why: "different",
        backend: "web",
        server: "web-1",
        address: "10.0.0.5",
        port: 80,
        via: "vmxs1",
      },
      { do: "ready-server", backend: "web", server: "web-2", admin: "maint" },
      { do: "apply-firewall", rules, why: "different" },
    ]);
  });

  it("takes away what nothing binds: a stray member, a map entry twice or for a released address, a pool address; never an address outside the pool", () => {
    const seen: EdgeSeen = {
      servers: { web: [...whole.servers.web!, ready("old-vm", "10.0.0.9")] },
      vips: [
        { key: "192.0.2.1", value: "web" },
        { key: "192.0.2.1", value: "shop" },
        { key: "192.0.2.5", value: "web" },
      ],
      addresses: ["192.0.2.1", "192.0.2.5", "10.79.1.6"],
      firewall: rules,
    };
    expect(planEdgeRepair(want, seen)).toEqual([
      { do: "set-vip", address: "192.0.2.1", backend: "web" },
      { do: "delete-server", backend: "web", server: "old-vm" },
      { do: "remove-vip", address: "192.0.2.5" },
      { do: "remove-address", address: "192.0.2.5" },
    ]);
  });

  it("leaves a member being drained alone (the drain step owns it): not readied, not re-added, not deleted", () => {
    const draining: EdgeWanted = {
      ...want,
      members: want.members.slice(0, 1),
      draining: [{ backend: "web", server: "web-2" }],
    };
    const seen: EdgeSeen = {
      ...whole,
      servers: { web: [ready("web-1", "10.0.0.5"), { ...ready("web-2", "10.0.0.6"), admin: "drain" }] },
    };
    expect(planEdgeRepair(draining, seen)).toEqual([]);
  });
});

describe("notServing: whether the DNS may answer a binding's address", () => {
  const lb = {
    kind: "LB" as const,
    server: "web-1",
    backend: "web",
    publicAddress: "192.0.2.1",
    privateAddress: "10.0.0.5",
    port: 80,
    rules,
  };
  it("is null when the edge holds every piece", () => {
    expect(notServing(lb, whole)).toBeNull();
  });
  it("names the first missing piece", () => {
    expect(notServing(lb, { ...whole, servers: { web: [] } })).toBe("web-1 is not in backend web");
    expect(notServing(lb, { ...whole, vips: [] })).toBe("192.0.2.1 does not lead to backend web");
    expect(notServing(lb, { ...whole, addresses: [] })).toBe("192.0.2.1 is not on the edge's public interface");
    expect(notServing(lb, { ...whole, firewall: null })).toBe("the edge has no product firewall table");
    expect(notServing(lb, { ...whole, servers: { web: [{ ...ready("web-1", "10.0.0.5"), admin: "drain" }] } })).toBe(
      "web-1 in backend web is in drain",
    );
  });
  it("a NAT binding needs its address and its rules, not a member", () => {
    const natRules = firewallRules({
      poolCidr: POOL,
      open: [{ publicAddress: "192.0.2.2", port: 2302, proto: "udp", owner: "gs-1" }],
      nat: [{ publicAddress: "192.0.2.2", privateAddress: "10.0.0.7", port: 2302, proto: "udp", vm: "gs-1" }],
    });
    const nat = {
      ...lb,
      kind: "NAT" as const,
      server: "gs-1",
      backend: null,
      publicAddress: "192.0.2.2",
      rules: natRules,
    };
    expect(notServing(nat, { ...whole, addresses: ["192.0.2.2"], firewall: natRules })).toBeNull();
    expect(notServing(nat, { ...whole, addresses: ["192.0.2.2"], firewall: rules })).toMatch(/^prerouting: missing/);
  });
});

describe("bindingIntent: which bindings the repair puts in service", () => {
  const b = (state: "PENDING" | "APPLIED" | "REMOVING" | "FAILED", vmServing = true, operationInFlight = false) =>
    bindingIntent({ state, vmServing, operationInFlight });
  it("serves what is applied, and what the edge lost (PENDING) while its VM runs in production with no operation", () => {
    expect(b("APPLIED")).toBe("serve");
    expect(b("APPLIED", true, true)).toBe("serve");
    expect(b("PENDING")).toBe("serve");
  });
  it("leaves to its operation a binding being drained or being bound", () => {
    expect(b("REMOVING")).toBe("leave");
    expect(b("PENDING", true, true)).toBe("leave");
    expect(b("PENDING", false, true)).toBe("leave");
  });
  it("never puts in service a PENDING row of a VM that does not serve, nor a FAILED one", () => {
    expect(b("PENDING", false)).toBe("none");
    expect(b("FAILED")).toBe("none");
  });
});
