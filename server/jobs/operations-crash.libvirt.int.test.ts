import { describeWithLibvirtLab, libvirtLabForSuite } from "../../test/libvirt-suite";
import { crashAtEveryStep } from "../../test/operations-crash";
import { startLibvirtOpsLab } from "../../test/ops-lab";

// An oracle SIGKILLed at every step boundary of an activation and of a deactivation, on the
// libvirt lab, where the guest also has to answer HTTP after each activation with the boot id
// it had before (test/operations-crash.ts).
const log = (line: string) => console.log(`[crash test, libvirt lab] ${line}`);
describeWithLibvirtLab("an oracle killed mid-operation (libvirt lab)", await libvirtLabForSuite(log), log, (manifest) =>
  crashAtEveryStep(() => startLibvirtOpsLab(manifest), 30 * 60_000),
);
