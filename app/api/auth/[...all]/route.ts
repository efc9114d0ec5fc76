import { auth } from "@/server/auth/auth";
import { handleAuthRequest } from "@/server/auth/signin-limits";

export const dynamic = "force-dynamic";

// Refusals by the sign-in limits say which limit and when to retry (server/auth/signin-limits.ts).
export async function GET(req: Request) {
  return handleAuthRequest(auth(), req);
}
export async function POST(req: Request) {
  return handleAuthRequest(auth(), req);
}
