import { VmDetail } from "@/components/vm-detail";

export default async function VmPage({ params }: { params: Promise<{ name: string }> }) {
  const { name } = await params;
  return <VmDetail name={decodeURIComponent(name)} />;
}
