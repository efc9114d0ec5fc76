"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { useTRPC } from "@/components/shared/trpc";
import { useMe } from "@/components/shared/use-me";
import { PlacementPreview, type PreviewKind } from "./placement-preview";

type Phase = "NEST" | "LOADING" | "PRODUCTION";
type Power = "RUNNING" | "PAUSED" | "SAVED" | "SHUTOFF" | "UNKNOWN";
export interface ActionVm {
  id: string;
  name: string;
  phase: Phase;
  power: Power;
  hostId: string | null;
  operations?: { id: string }[];
}

type ActionKey = "activate" | "hibernate" | "relocate" | "toNest" | "toLoading" | "restart" | "move" | "delete";
interface Action {
  key: ActionKey;
  label: string;
  /** What will happen, asked before anything moves. */
  confirm: string;
  danger?: boolean;
}

/** The actions that make sense for a VM where it is, in the order of its life (thesis §3.2). */
export function actionsFor(vm: ActionVm): Action[] {
  const a: Action[] = [];
  if (vm.phase !== "PRODUCTION")
    a.push({
      key: "activate",
      label: "Activate",
      confirm: `Activate ${vm.name}? It is suspended, copied and resumed on the production host below.`,
    });
  if (vm.phase === "LOADING")
    a.push({
      key: "hibernate",
      label: "Hibernate",
      confirm: `Hibernate ${vm.name} into the Nest? It is booted, saved and moved to a Nest host.`,
    });
  if (vm.phase === "PRODUCTION" && vm.power === "RUNNING")
    a.push({
      key: "relocate",
      label: "Relocate",
      confirm: `Move ${vm.name} closer to its users? It leaves the load balancer, is saved with its memory, copied and resumed on the production host below, then serves there (§4.2).`,
    });
  if (vm.phase === "PRODUCTION") {
    a.push({
      key: "toNest",
      label: "Deactivate",
      confirm: `Deactivate ${vm.name}? It leaves the load balancer, is saved and moved to the Hibernation Nest host below.`,
      danger: true,
    });
    a.push({
      key: "toLoading",
      label: "To Loading Chambers",
      confirm: `Move ${vm.name} to the Loading Chambers? It stops serving, is saved and moved to the Loading Chambers host below.`,
      danger: true,
    });
  }
  if (vm.power === "RUNNING" || vm.power === "SHUTOFF")
    a.push({
      key: "restart",
      label: "Restart",
      confirm: `Restart ${vm.name}? It shuts down and boots again${vm.phase === "PRODUCTION" ? " (out of rotation meanwhile)" : ""}.`,
      danger: vm.phase === "PRODUCTION",
    });
  if (vm.power === "SHUTOFF")
    a.push({
      key: "move",
      label: "Move",
      confirm: `Move the stopped ${vm.name} to another ${vm.phase.toLowerCase()} host (disk and config)?`,
    });
  a.push({
    key: "delete",
    label: "Delete",
    confirm: `Delete ${vm.name}? It is stopped and its disk, saved state and config are removed from its host. This cannot be undone.`,
    danger: true,
  });
  return a;
}

/** The actions whose host the Oracle chooses, shown (and open to another hosting network) before confirming. */
const PREVIEW: Partial<Record<ActionKey, { kind: PreviewKind; to?: "NEST" | "LOADING" }>> = {
  activate: { kind: "ACTIVATE" },
  relocate: { kind: "RELOCATE" },
  toNest: { kind: "DEACTIVATE", to: "NEST" },
  toLoading: { kind: "DEACTIVATE", to: "LOADING" },
};

/**
 * Operator actions on one VM. Each moves files or stops a service, so each asks first;
 * the operation itself then shows on the Operations page and the VM's history.
 */
export function VmActions({ vm }: { vm: ActionVm }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { canOperate } = useMe();
  const [confirming, setConfirming] = useState<Action | null>(null);
  // "" is the Oracle's choice; else the hosting network the operator picked in the dialog.
  const [hostingNetworkId, setHostingNetworkId] = useState("");
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  const done = {
    onSuccess: () => setMessage({ text: "Requested; follow it on the", error: false }),
    onError: (err: { message: string }) => setMessage({ text: err.message, error: true }),
    onSettled: () => {
      setConfirming(null);
      return queryClient.invalidateQueries({ queryKey: trpc.vms.pathKey() });
    },
  };
  const m = {
    activate: useMutation(trpc.vms.activate.mutationOptions(done)),
    hibernate: useMutation(trpc.vms.hibernate.mutationOptions(done)),
    relocate: useMutation(trpc.vms.relocate.mutationOptions(done)),
    deactivate: useMutation(trpc.vms.deactivate.mutationOptions(done)),
    restart: useMutation(trpc.vms.restart.mutationOptions(done)),
    move: useMutation(trpc.vms.move.mutationOptions(done)),
    delete: useMutation(trpc.vms.delete.mutationOptions(done)),
  };
  if (!canOperate || !vm.hostId) return null;
  const busy = Object.values(m).some((x) => x.isPending);
  const run = (key: ActionKey) => {
    const vmId = vm.id;
    const within = hostingNetworkId ? { hostingNetworkId } : {};
    if (key === "toNest") m.deactivate.mutate({ vmId, to: "NEST", ...within });
    else if (key === "toLoading") m.deactivate.mutate({ vmId, to: "LOADING", ...within });
    else if (key === "activate") m.activate.mutate({ vmId, ...within });
    else if (key === "relocate") m.relocate.mutate({ vmId, ...within });
    else m[key].mutate({ vmId });
  };
  const preview = confirming ? PREVIEW[confirming.key] : undefined;
  const inFlight = (vm.operations?.length ?? 0) > 0;
  return (
    <div className="actions small">
      {confirming ? (
        <div className="confirm" role="group" aria-label={`Confirm ${confirming.label.toLowerCase()}`}>
          {confirming.confirm}{" "}
          {preview && (
            <PlacementPreview
              vmId={vm.id}
              {...preview}
              hostingNetworkId={hostingNetworkId}
              onPick={setHostingNetworkId}
            />
          )}
          <button
            type="button"
            className={confirming.danger ? "danger" : undefined}
            disabled={busy}
            onClick={() => run(confirming.key)}
          >
            Yes, {confirming.label.toLowerCase()}
          </button>{" "}
          <button type="button" onClick={() => setConfirming(null)}>
            Cancel
          </button>
        </div>
      ) : (
        actionsFor(vm).map((a) => (
          <button
            key={a.key}
            type="button"
            disabled={inFlight}
            title={inFlight ? "An operation is in progress on this VM" : undefined}
            onClick={() => (setMessage(null), setHostingNetworkId(""), setConfirming(a))}
          >
            {a.label}…
          </button>
        ))
      )}
      {message && (
        <div className={message.error ? "field-error" : "muted"} role={message.error ? "alert" : "status"}>
          {message.text} {!message.error && <Link href="/operations">Operations page</Link>}
        </div>
      )}
    </div>
  );
}
