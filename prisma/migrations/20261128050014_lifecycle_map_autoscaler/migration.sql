-- CreateEnum
CREATE TYPE "AutoscalerAction" AS ENUM ('SCALE_OUT', 'SCALE_IN', 'HOLD', 'SERVER_LOSS', 'RECOVER');

-- AlterTable
ALTER TABLE "ReplicaTarget" ADD COLUMN     "blockedReason" TEXT,
ADD COLUMN     "reconciledAt" TIMESTAMP(3);

-- CreateTable
CREATE TABLE "AutoscalerDecision" (
    "id" TEXT NOT NULL,
    "serviceId" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "action" "AutoscalerAction" NOT NULL,
    "reason" TEXT NOT NULL,
    "dryRun" BOOLEAN NOT NULL DEFAULT false,
    "vmId" TEXT,
    "hostId" TEXT,
    "operationId" TEXT,
    "inputs" JSONB,

    CONSTRAINT "AutoscalerDecision_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "AutoscalerDecision_serviceId_at_idx" ON "AutoscalerDecision"("serviceId", "at");

-- CreateIndex
CREATE INDEX "AutoscalerDecision_action_at_idx" ON "AutoscalerDecision"("action", "at");

-- CreateIndex
CREATE UNIQUE INDEX "DemandSample_serviceId_at_lat_lon_key" ON "DemandSample"("serviceId", "at", "lat", "lon");

-- AddForeignKey
ALTER TABLE "AutoscalerDecision" ADD CONSTRAINT "AutoscalerDecision_serviceId_fkey" FOREIGN KEY ("serviceId") REFERENCES "Service"("id") ON DELETE CASCADE ON UPDATE CASCADE;
