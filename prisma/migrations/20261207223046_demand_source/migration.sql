-- CreateEnum
CREATE TYPE "DemandSource" AS ENUM ('DNS', 'EDGE', 'INGEST', 'SIM');

-- DropIndex
DROP INDEX "DemandSample_serviceId_at_lat_lon_key";

-- AlterTable
ALTER TABLE "DemandSample" ADD COLUMN     "source" "DemandSource" NOT NULL DEFAULT 'INGEST';

-- CreateIndex
CREATE UNIQUE INDEX "DemandSample_serviceId_at_lat_lon_source_key" ON "DemandSample"("serviceId", "at", "lat", "lon", "source");
