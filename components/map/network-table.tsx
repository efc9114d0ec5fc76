"use client";

import type { MapNetwork } from "@/server/map/world-map";
import { STATE_COLOUR, STATE_LABEL } from "./markers";

/** Every hosting network as text: the map's content for screen readers, search and copying. */
export function NetworkTable({ networks, onOpen }: { networks: MapNetwork[]; onOpen: (n: MapNetwork) => void }) {
  return (
    <details className="wm-table">
      <summary>All hosting networks ({networks.length})</summary>
      <table data-testid="hosting-networks">
        <thead>
          <tr>
            <th>Hosting network</th>
            <th>State</th>
            <th>Hosts up</th>
            <th>Production in use</th>
            <th>Running replicas</th>
            <th>Link</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {networks.map((n) => (
            <tr key={n.id}>
              <td>
                {n.city}, {n.country}
              </td>
              <td>
                <span className="wm-dot" style={{ background: STATE_COLOUR[n.state] }} /> {STATE_LABEL[n.state]}
              </td>
              <td className="num">
                {n.up} / {n.hosts}
              </td>
              <td className="num">
                {n.busy} / {n.production}
              </td>
              <td className="num">{n.replicas}</td>
              <td className="num">{n.linkMbps >= 1000 ? `${n.linkMbps / 1000} Gbit/s` : `${n.linkMbps} Mbit/s`}</td>
              <td>
                <button type="button" className="link" onClick={() => onOpen(n)} aria-label={`Open ${n.city}`}>
                  open
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
