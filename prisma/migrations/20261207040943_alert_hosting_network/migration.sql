-- AlterTable
ALTER TABLE "Alert" ADD COLUMN     "hostingNetworkId" TEXT;

-- CreateIndex
CREATE INDEX "Alert_hostingNetworkId_kind_resolvedAt_idx" ON "Alert"("hostingNetworkId", "kind", "resolvedAt");

-- AddForeignKey
ALTER TABLE "Alert" ADD CONSTRAINT "Alert_hostingNetworkId_fkey" FOREIGN KEY ("hostingNetworkId") REFERENCES "HostingNetwork"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- One spelling per alert kind: drift alerts were NETWORK_DRIFT, every other kind is kebab-case.
UPDATE "Alert" SET "kind" = 'network-drift' WHERE "kind" = 'NETWORK_DRIFT';

-- Existing alerts get their hosting network: alerts about a host from that host, drift
-- alerts from the slug their message names (Network drift at edge E (SLUG): ...), once, here.
UPDATE "Alert" AS a SET "hostingNetworkId" = h."hostingNetworkId" FROM "Host" h WHERE a."hostId" = h.id;
UPDATE "Alert" AS a SET "hostingNetworkId" = hn.id FROM "HostingNetwork" hn
 WHERE a."kind" = 'network-drift' AND a."hostingNetworkId" IS NULL AND a."message" LIKE 'Network drift at edge % (' || hn.slug || '): %';
