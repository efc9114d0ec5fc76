import type { Metadata } from "next";
import type { ReactNode } from "react";
import { Providers } from "@/components/shared/trpc";
import "./globals.css";

export const metadata: Metadata = {
  title: "vMatrix Control Plane",
  description: "Move, replicate, suspend and resume virtual machines across a worldwide network of hosts.",
  // A static file in public/, served at / without a session like every file there.
  icons: { icon: { url: "/icon.svg", type: "image/svg+xml" } },
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
