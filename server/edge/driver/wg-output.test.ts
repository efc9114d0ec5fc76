import { describe, expect, it } from "vitest";
import { OutputShapeError } from "./haproxy-output";
import { parseRules, parseWgShowAll } from "./wg-output";

// Outputs recorded from wireguard-tools 1.0 with wireguard-go and iproute2 6.1 (Debian 12).
const EDGE = "61kqv9oSwA20U0css17rT3RKAWPiKBLpEH2cYAkcTFg=";
const BACK = "cshFUlacQtbr6i5oYCCzV1ENW/wtHuJlbn5DU76+jDs=";

describe("wg show all …", () => {
  it("reads an interface, its public key and its one peer", () => {
    expect(
      parseWgShowAll({
        publicKey: `vmxwg1\t${EDGE}\n`,
        endpoints: `vmxwg1\t${BACK}\t10.79.9.2:51820\n`,
        allowedIps: `vmxwg1\t${BACK}\t10.88.0.0/24\n`,
        handshakes: `vmxwg1\t${BACK}\t1795856564\n`,
      }),
    ).toEqual([
      {
        interface: "vmxwg1",
        publicKey: EDGE,
        peers: [
          { publicKey: BACK, endpoint: "10.79.9.2:51820", allowedIps: ["10.88.0.0/24"], latestHandshake: 1795856564 },
        ],
      },
    ]);
  });

  it("reads a fresh interface: no private key yet ('(none)'), no peers (an empty field)", () => {
    expect(
      parseWgShowAll({
        publicKey: "vmxwg2\t(none)\n",
        endpoints: "vmxwg2\t\n",
        allowedIps: "vmxwg2\t\n",
        handshakes: "vmxwg2\t\n",
      }),
    ).toEqual([{ interface: "vmxwg2", publicKey: null, peers: [] }]);
    expect(parseWgShowAll({ publicKey: "", endpoints: "", allowedIps: "", handshakes: "" })).toEqual([]);
  });

  it("refuses any other shape", () => {
    expect(() =>
      parseWgShowAll({ publicKey: "vmxwg1\tnot-a-key\n", endpoints: "", allowedIps: "", handshakes: "" }),
    ).toThrow(OutputShapeError);
    expect(() =>
      parseWgShowAll({
        publicKey: `vmxwg1\t${EDGE}\n`,
        endpoints: `other\t${BACK}\t1.2.3.4:5\n`,
        allowedIps: "",
        handshakes: "",
      }),
    ).toThrow(/no public key line/);
    expect(() =>
      parseWgShowAll({
        publicKey: `vmxwg1\t${EDGE}\n`,
        endpoints: "",
        allowedIps: `vmxwg1\t${BACK}\t10.88.0.0/24; rm\n`,
        handshakes: "",
      }),
    ).toThrow(OutputShapeError);
  });
});

describe("ip -j rule show", () => {
  it("reads priorities, sources and tables", () => {
    const out =
      '[{"priority":0,"src":"all","table":"local"},{"priority":20001,"src":"10.77.0.12","table":"20001"},{"priority":32766,"src":"all","table":"main"},{"priority":32767,"src":"all","table":"default"}]\n';
    expect(parseRules(out)[1]).toEqual({ priority: 20001, src: "10.77.0.12", iif: null, table: "20001", fwmark: null });
    // An owner segment's rule (iproute2 6.1 prints the mark in hex), and a tunnel's rule for a front end on one segment.
    expect(parseRules('[{"priority":10007,"src":"all","fwmark":"0x7","table":"10007"}]')[0]).toEqual({
      priority: 10007,
      src: "all",
      iif: null,
      table: "10007",
      fwmark: "0x7",
    });
    expect(parseRules('[{"priority":20001,"src":"10.77.0.12","iif":"vmxs2","table":"20001"}]')[0]).toMatchObject({
      src: "10.77.0.12",
      iif: "vmxs2",
    });
    expect(() => parseRules("RTNETLINK answers: Operation not permitted")).toThrow(OutputShapeError);
  });
});
