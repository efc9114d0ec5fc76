import { VmDetail } from "@/components/vms/detail";

export default async function VmPage({ params }: { params: Promise<{ name: string }> }) {
  const { name } = await params;
  return <VmDetail name={decodeURIComponent(name)} />;
}
