import { OperationsView } from "@/components/operations/view";

export default function OperationsPage() {
  return <OperationsView />;
}
