import { AutoscalerView } from "@/components/autoscaler/view";

export default function AutoscalerPage() {
  return <AutoscalerView />;
}
