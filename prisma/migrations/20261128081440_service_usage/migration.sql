-- CreateTable
CREATE TABLE "ServiceUsage" (
    "serviceId" TEXT NOT NULL,
    "resolution" "MetricResolution" NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "vmSamples" INTEGER NOT NULL,
    "prodSamples" INTEGER NOT NULL,
    "cpuSum" DOUBLE PRECISION NOT NULL,
    "cpuMax" DOUBLE PRECISION NOT NULL,

    CONSTRAINT "ServiceUsage_pkey" PRIMARY KEY ("serviceId","resolution","at")
);

-- CreateIndex
CREATE INDEX "ServiceUsage_resolution_at_idx" ON "ServiceUsage"("resolution", "at");

-- AddForeignKey
ALTER TABLE "ServiceUsage" ADD CONSTRAINT "ServiceUsage_serviceId_fkey" FOREIGN KEY ("serviceId") REFERENCES "Service"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Host rows alone (the per-host chart series and their ranking), read index-only: the
-- (hostId, resolution, at) index also holds every VM row of the host.
CREATE INDEX "MetricSample_host_rows_idx" ON "MetricSample"("hostId", "resolution", "at") INCLUDE ("cpuPercent") WHERE "vmId" IS NULL;

-- What the existing samples add up to.
INSERT INTO "ServiceUsage" ("serviceId", "resolution", "at", "vmSamples", "prodSamples", "cpuSum", "cpuMax")
SELECT v."serviceId", m.resolution, m.at, count(*)::int, (count(*) FILTER (WHERE h.role = 'PRODUCTION'))::int, sum(m."cpuPercent"), max(m."cpuPercent")
  FROM "MetricSample" m
  JOIN "Vm" v ON v.id = m."vmId"
  JOIN "Host" h ON h.id = m."hostId"
 GROUP BY 1, 2, 3;
