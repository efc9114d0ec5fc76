import { UtilizationView } from "@/components/utilization/view";

export default function UtilizationPage() {
  return <UtilizationView />;
}
