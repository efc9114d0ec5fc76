import { z } from "zod";
import type { OperationKind } from "../db/generated/client";
import { MAX_SEGMENT } from "../hosts/segments";
import type { EndPower, Phase } from "../oracle/lifecycle";
import type { PlacementDecision } from "../oracle/scheduler";

/**
 * What an operation was asked to do, fixed when it is requested and stored with it
 * (Operation.decision): the placement (why this target), the VM's file names, where it
 * ends up, and its steps. The file names are kept because the Vm row changes at the
 * commit step, and a step re-run after a crash must still find the source's files.
 */
export interface OperationPlan {
  placement: PlacementDecision | null;
  /** Base names inside each host's VM directory. */
  files: { disk: string; state: string; xml: string };
  /** The phase the VM is in when the operation succeeds. */
  toPhase: Phase;
  toPower: EndPower;
  /**
   * The golden image a CREATE copies (a file `<name>.image` in a host's VM directory): the
   * host holding it (a target without the file gets it from there first), its size and
   * SHA-256 as registered. Plans from before images had a host name none: the file must
   * then be on the target.
   */
  image?: ImagePlan;
  /** HIBERNATE: how long the freshly booted VM runs before it is saved (§3.4 pre-boot). */
  bootSettleMs?: number;
  /** How long a drain waits for connections to end before taking the VM out anyway. */
  drainTimeoutMs?: number;
  /** The VM owner's layer-2 segment (§4.3.2), fixed at request time for every step (absent on operations requested before it was recorded). */
  segment?: number;
}

export interface ImagePlan {
  name: string;
  memoryMiB: number;
  vcpus: number;
  hostId?: string;
  /** The holding host's name, for the step's words. */
  host?: string;
  bytes?: number;
  sha256?: string;
}

/** The plan's image, from its row as the request reads it. */
export function imagePlan(image: {
  name: string;
  memoryMiB: number;
  vcpus: number;
  hostId: string | null;
  host: { name: string } | null;
  diskBytes: bigint;
  sha256: string | null;
}): ImagePlan {
  return {
    name: image.name,
    memoryMiB: image.memoryMiB,
    vcpus: image.vcpus,
    ...(image.hostId && image.host ? { hostId: image.hostId, host: image.host.name } : {}),
    ...(image.diskBytes > 0n ? { bytes: Number(image.diskBytes) } : {}),
    ...(image.sha256 ? { sha256: image.sha256 } : {}),
  };
}

const fileName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/);
const phase = z.enum(["NEST", "LOADING", "PRODUCTION"]);
const planSchema = z.object({
  files: z.object({ disk: fileName, state: fileName, xml: fileName }),
  toPhase: phase,
  // Plans written before the field existed ended production runs running, the rest saved or off.
  toPower: z.enum(["RUNNING", "SAVED", "SHUTOFF", "SAVED_OR_SHUTOFF"]).optional(),
  image: z
    .object({
      name: fileName,
      memoryMiB: z.number().int().min(16),
      vcpus: z.number().int().min(1).max(64),
      hostId: z.string().min(1).max(64).optional(),
      host: z.string().max(63).optional(),
      bytes: z.number().int().min(1).optional(),
      sha256: z
        .string()
        .regex(/^[0-9a-f]{64}$/)
        .optional(),
    })
    .optional(),
  bootSettleMs: z.number().int().min(0).max(600_000).optional(),
  drainTimeoutMs: z.number().int().min(0).max(3_600_000).optional(),
  segment: z.number().int().min(1).max(MAX_SEGMENT).optional(),
});

export type ExecutablePlan = Omit<OperationPlan, "placement">;

/** The stored plan's executable part, validated (it is JSON from the database). */
export function readPlan(decision: unknown): ExecutablePlan {
  const p = planSchema.parse(decision);
  return { ...p, toPower: p.toPower ?? (p.toPhase === "PRODUCTION" ? "RUNNING" : "SAVED_OR_SHUTOFF") };
}

/**
 * The steps of an operation, in order (thesis §3.3 for the moves). Network steps bracket
 * production: a VM leaves load-balancer rotation (drain) before it stops serving, and
 * joins it (bind) once it runs on its new host. Pure: the same inputs give the same list,
 * which is stored with the operation when it is requested.
 */
export function planSteps(kind: OperationKind, vm: { phase: Phase; power: string }, toPhase: Phase): string[] {
  const serving = vm.phase === "PRODUCTION";
  const move = ["suspend", "copy disk", "copy state", "copy config", "register"];
  switch (kind) {
    case "ACTIVATE":
    case "CLONE":
      return [...move, "resume", "bind", "record", "clean source"];
    case "DEACTIVATE":
      return ["drain", ...move, "record", "clean source"];
    case "HIBERNATE":
      return ["boot", ...move, "record", "clean source"];
    case "COLD_MOVE":
      // Two files (disk, config), then start where it lands if it serves (§6.3).
      return toPhase === "PRODUCTION"
        ? [...(serving ? ["drain"] : []), ...move, "resume", "bind", "record", "clean source"]
        : [...move, "record", "clean source"];
    case "RELOCATE":
      // §4.2: out of rotation, saved with its memory, copied, restored and back in rotation at the target.
      return ["drain", ...move, "resume", "bind", "record", "clean source"];
    case "RESTART":
      return serving ? ["drain", "shut down", "start", "bind", "record"] : ["shut down", "start", "record"];
    case "DELETE":
      return [...(serving ? ["drain"] : []), "stop", "forget", "remove domain", "remove files"];
    case "CREATE":
      return ["create disk", "define", "record"];
  }
}
