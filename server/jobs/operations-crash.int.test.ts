import { describe } from "vitest";
import { crashAtEveryStep } from "../../test/operations-crash";
import { startOpsLab } from "../../test/ops-lab";

// An oracle SIGKILLed at every step boundary of an activation and of a deactivation, on the
// sim lab (test/operations-crash.ts; the libvirt lab's run is operations-crash.libvirt.int.test.ts,
// a file of its own so the two run side by side).
describe("an oracle killed mid-operation (sim lab)", () => crashAtEveryStep(() => startOpsLab(), 300_000));
