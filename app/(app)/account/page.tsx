import { AccountView } from "@/components/account/view";

export default function AccountPage() {
  return <AccountView />;
}
