import { HostsView } from "@/components/hosts/view";

export default function HostsPage() {
  return <HostsView />;
}
