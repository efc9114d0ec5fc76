import { VmsView } from "@/components/vms/view";

export default function VmsPage() {
  return <VmsView />;
}
