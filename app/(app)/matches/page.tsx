import { MatchesView } from "@/components/booking/matches-view";

export default function MatchesPage() {
  return <MatchesView />;
}
