"use client";

import "./zod-jitless";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createTRPCClient, httpBatchLink } from "@trpc/client";
import { createTRPCContext } from "@trpc/tanstack-react-query";
import { useState, type ReactNode } from "react";
import superjson from "superjson";
import type { AppRouter } from "@/server/api/root";

export const { TRPCProvider, useTRPC } = createTRPCContext<AppRouter>();

export function Providers({ children }: { children: ReactNode }) {
  const [queryClient] = useState(
    () =>
      new QueryClient({
        defaultOptions: {
          queries: {
            staleTime: 5_000,
            // Do not hammer the server with retries of a refusal (403, 404, bad input).
            retry: (count, err) =>
              count < 2 &&
              !/FORBIDDEN|UNAUTHORIZED|NOT_FOUND|BAD_REQUEST/.test(
                String((err as { data?: { code?: string } }).data?.code),
              ),
          },
        },
      }),
  );
  // The server refuses batches over API_MAX_BATCH (default 20): larger ones are split here.
  const [trpcClient] = useState(() =>
    createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: "/api/trpc", transformer: superjson, maxItems: 20 })] }),
  );
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        {children}
      </TRPCProvider>
    </QueryClientProvider>
  );
}
