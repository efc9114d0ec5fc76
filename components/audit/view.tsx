"use client";

import { useQuery } from "@tanstack/react-query";
import { formatDateTime } from "@/server/format";
import { QueryState } from "@/components/shared/query-state";
import { useTRPC } from "@/components/shared/trpc";

export function AuditView() {
  const trpc = useTRPC();
  const events = useQuery(trpc.audit.list.queryOptions());
  return (
    <>
      <h1>Audit log</h1>
      <QueryState query={events} isEmpty={(d) => d.length === 0} empty={<p>No changes recorded yet.</p>}>
        {(data) => (
          <table data-testid="audit">
            <thead>
              <tr>
                <th>When</th>
                <th>Who</th>
                <th>What</th>
                <th>Record</th>
                <th>Before</th>
                <th>After</th>
              </tr>
            </thead>
            <tbody>
              {data.map((e) => (
                <tr key={e.id.toString()}>
                  <td>{formatDateTime(e.at)}</td>
                  <td>{e.actorEmail}</td>
                  <td>{e.action}</td>
                  <td>
                    {e.entityType} <code>{e.entityId}</code>
                  </td>
                  <td>
                    <code>{JSON.stringify(e.before)}</code>
                  </td>
                  <td>
                    <code>{JSON.stringify(e.after)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </QueryState>
    </>
  );
}
