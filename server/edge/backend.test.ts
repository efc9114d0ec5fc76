import { describe, expect, it } from "vitest";
import type { NetworkBinding } from "../db/generated/client";
import { planTunnels, setBackendInput, type TunnelFront } from "./backend";

const KEY = "cshFUlacQtbr6i5oYCCzV1ENW/wtHuJlbn5DU76+jDs=";
const OTHER_KEY = "bshFUlacQtbr6i5oYCCzV1ENW/wtHuJlbn5DU76+jDs=";
const BACK = { backendEndpoint: "203.0.113.50:51820", backendPublicKey: KEY, backendCidr: "10.88.0.0/24" };
const ONE_TIER = { backendEndpoint: null, backendPublicKey: null, backendCidr: null };
const A = { id: "hn-a", slug: "a" };
const B = { id: "hn-b", slug: "b" };

/** A problem per field, as the CLI prints them ("field: message"). */
function problems(input: unknown): string[] {
  const r = setBackendInput.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
}

describe("setBackendInput", () => {
  it("takes all three fields (trimmed), or all three null to clear", () => {
    expect(setBackendInput.parse({ service: "map", ...BACK, backendCidr: " 10.88.0.0/24 " })).toEqual({
      service: "map",
      ...BACK,
    });
    expect(setBackendInput.parse({ service: "map", ...ONE_TIER })).toEqual({ service: "map", ...ONE_TIER });
  });

  it("names the field and the reason for each bad value", () => {
    expect(
      problems({ service: "map", backendEndpoint: "backend", backendPublicKey: "abc", backendCidr: "10.88.0.1/24" }),
    ).toEqual([
      'backendEndpoint: "backend" is not host:port (an IPv4 address or DNS name, and a port 1–65535)',
      "backendPublicKey: is not a WireGuard key (32 bytes in base64, 44 characters ending in '=')",
      "backendCidr: 10.88.0.1/24 has host bits set (did you mean 10.88.0.0/24?)",
    ]);
    expect(problems({ service: "map", ...BACK, backendEndpoint: "" })).toEqual(["backendEndpoint: is required"]);
    expect(problems({ service: "Map!", ...BACK })).toEqual(["service: is not a service slug"]);
  });

  it("refuses a back-end network so wide it would take the front end's other traffic, or one over the edges' tunnel addresses", () => {
    expect(problems({ service: "map", ...BACK, backendCidr: "0.0.0.0/0" })).toEqual([
      "backendCidr: 0.0.0.0/0 is wider than /8: the front end's other traffic (its answers to clients) would go into the tunnel",
    ]);
    expect(problems({ service: "map", ...BACK, backendCidr: "100.64.0.0/24" })).toEqual([
      "backendCidr: 100.64.0.0/24 overlaps 100.64.0.0/10, where the edges' own tunnel addresses are",
    ]);
    expect(problems({ service: "map", ...BACK, backendCidr: "100.0.0.0/8" })).toHaveLength(1);
    expect(problems({ service: "map", ...BACK, backendCidr: "100.128.0.0/16" })).toEqual([]);
  });

  it("never takes half a back end: each missing field is named", () => {
    expect(problems({ service: "map", ...BACK, backendPublicKey: null, backendCidr: null })).toEqual([
      "backendPublicKey: is required with backendEndpoint (set all three, or clear all three)",
      "backendCidr: is required with backendEndpoint (set all three, or clear all three)",
    ]);
  });
});

let n = 0;
function vpn(
  hn: { id: string },
  config: Partial<typeof BACK> = {},
  state: NetworkBinding["state"] = "APPLIED",
  privateAddress = "10.1.0.5",
): NetworkBinding {
  const c = { ...BACK, ...config };
  return {
    id: `b${++n}`,
    kind: "VPN",
    state,
    vmId: "vm",
    hostingNetworkId: hn.id,
    publicAddress: null,
    privateAddress,
    port: null,
    backend: null,
    dnsName: null,
    segment: null,
    config: {
      interface: "vmxwg1",
      table: 20_001,
      tunnelAddress: "100.64.0.1",
      endpoint: c.backendEndpoint,
      peerPublicKey: c.backendPublicKey,
      backendCidr: c.backendCidr,
      publicKey: null,
      backendAllows: [],
    },
    createdAt: new Date(0),
    updatedAt: new Date(0),
  };
}

function front(
  service: TunnelFront["service"],
  servedIn: { id: string; slug: string }[],
  tunnels: NetworkBinding[] = [],
  privateAddress: string | null = "10.1.0.5",
  sourceInterface: string | null = null,
): TunnelFront {
  return {
    vm: { id: "vm", name: "map-1", privateAddress },
    service,
    sourceInterface,
    servedIn,
    tunnels: tunnels.map((b) => ({ binding: b, hostingNetwork: b.hostingNetworkId === A.id ? A : B })),
  };
}

const plan = (f: TunnelFront) =>
  planTunnels([f]).map((a) => `${a.do} ${a.hostingNetwork.slug}${"why" in a ? ` (${a.why})` : ""}`);
const owner = { ownerDomain: "mapco.example" };

describe("planTunnels", () => {
  it("makes a tunnel where a two-tier service's replica serves and has none", () => {
    expect(plan(front({ ...owner, ...BACK }, [A, B], [vpn(A)]))).toEqual(["make b"]);
  });

  it("leaves a tunnel that already leads to the back end alone", () => {
    expect(plan(front({ ...owner, ...BACK }, [A], [vpn(A)]))).toEqual([]);
  });

  it("re-applies a tunnel whose endpoint, key or network changed, or that was never applied", () => {
    expect(plan(front({ ...owner, ...BACK, backendPublicKey: OTHER_KEY }, [A], [vpn(A)]))).toEqual([
      "reapply a (changed)",
    ]);
    expect(plan(front({ ...owner, ...BACK, backendEndpoint: "203.0.113.51:51820" }, [A], [vpn(A)]))).toEqual([
      "reapply a (changed)",
    ]);
    expect(plan(front({ ...owner, ...BACK, backendCidr: "10.89.0.0/24" }, [A], [vpn(A)]))).toEqual([
      "reapply a (changed)",
    ]);
    expect(plan(front({ ...owner, ...BACK }, [A], [vpn(A, {}, "APPLIED", "10.1.0.9")]))).toEqual([
      "reapply a (changed)",
    ]);
    expect(plan(front({ ...owner, ...BACK }, [A], [vpn(A, {}, "PENDING")]))).toEqual(["reapply a (not applied)"]);
    // Made before owner segments (no source leg): re-applied once the owner has a segment.
    expect(plan(front({ ...owner, ...BACK }, [A], [vpn(A)], "10.1.0.5", "vmxs3"))).toEqual(["reapply a (changed)"]);
    const withLeg = vpn(A);
    withLeg.config = { ...(withLeg.config as object), sourceInterface: "vmxs3" };
    expect(plan(front({ ...owner, ...BACK }, [A], [withLeg], "10.1.0.5", "vmxs3"))).toEqual([]);
  });

  it("releases every tunnel of a service that is no longer two-tier, and one where the replica no longer serves", () => {
    expect(plan(front({ ...owner, ...ONE_TIER }, [A, B], [vpn(A), vpn(B)]))).toEqual([
      "release a (one-tier)",
      "release b (one-tier)",
    ]);
    expect(plan(front({ ...owner, ...BACK }, [A], [vpn(A), vpn(B)]))).toEqual(["release b (not served there)"]);
  });

  it("gives no tunnel to a replica without a private address, nor to a one-tier service", () => {
    expect(plan(front({ ...owner, ...BACK }, [A], [], null))).toEqual([]);
    expect(plan(front({ ...owner, ...ONE_TIER }, [A]))).toEqual([]);
  });
});
