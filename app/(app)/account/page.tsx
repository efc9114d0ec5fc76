import { AccountView } from "@/components/account/view";
import { TokensPanel } from "@/components/tokens/tokens-panel";

export default function AccountPage() {
  return (
    <AccountView>
      <TokensPanel />
    </AccountView>
  );
}
