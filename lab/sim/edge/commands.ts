/** The programs of a sim edge (other sim hosts answer "command not found" for them). */
export { socat as haproxySocat } from "./haproxy";
export { ip } from "./ip";
export { nft } from "./nft";
export { umask, wg, wireguardGo } from "./wireguard";
