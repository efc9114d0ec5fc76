import type { Metadata } from "next";
import type { ReactNode } from "react";
import { Providers } from "@/components/shared/trpc";
import "./globals.css";

export const metadata: Metadata = {
  title: "vMatrix Control Plane",
  description: "Move, replicate, suspend and resume virtual machines across a worldwide network of hosts.",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}
