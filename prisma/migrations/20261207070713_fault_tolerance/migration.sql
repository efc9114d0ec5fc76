-- AlterTable
ALTER TABLE "Vm" ADD COLUMN     "crashes" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "lastCrashAt" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "Operation" ADD COLUMN     "leaseExpiresAt" TIMESTAMP(3),
ADD COLUMN     "leaseHolder" TEXT,
ADD COLUMN     "leaseToken" BIGINT NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "Alert" ADD COLUMN     "acknowledgedAt" TIMESTAMP(3),
ADD COLUMN     "acknowledgedById" TEXT,
ADD COLUMN     "vmId" TEXT;

-- CreateTable
CREATE TABLE "PendingCleanup" (
    "id" TEXT NOT NULL,
    "hostId" TEXT NOT NULL,
    "operationId" TEXT,
    "step" TEXT NOT NULL,
    "vmName" TEXT NOT NULL,
    "detail" JSONB,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "lastError" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "doneAt" TIMESTAMP(3),

    CONSTRAINT "PendingCleanup_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "PendingCleanup_hostId_doneAt_idx" ON "PendingCleanup"("hostId", "doneAt");

-- CreateIndex
CREATE INDEX "Alert_vmId_kind_resolvedAt_idx" ON "Alert"("vmId", "kind", "resolvedAt");

-- AddForeignKey
ALTER TABLE "Alert" ADD CONSTRAINT "Alert_vmId_fkey" FOREIGN KEY ("vmId") REFERENCES "Vm"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Alert" ADD CONSTRAINT "Alert_acknowledgedById_fkey" FOREIGN KEY ("acknowledgedById") REFERENCES "user"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PendingCleanup" ADD CONSTRAINT "PendingCleanup_hostId_fkey" FOREIGN KEY ("hostId") REFERENCES "Host"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PendingCleanup" ADD CONSTRAINT "PendingCleanup_operationId_fkey" FOREIGN KEY ("operationId") REFERENCES "Operation"("id") ON DELETE SET NULL ON UPDATE CASCADE;
