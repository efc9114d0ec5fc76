import { MatchesView } from "@/components/matches-view";

export default function MatchesPage() {
  return <MatchesView />;
}
