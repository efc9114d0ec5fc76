-- CreateTable
CREATE TABLE "PoolTarget" (
    "id" TEXT NOT NULL,
    "serviceId" TEXT NOT NULL,
    "hostingNetworkId" TEXT NOT NULL,
    "size" INTEGER NOT NULL,
    "blockedReason" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "PoolTarget_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "PoolTarget_serviceId_hostingNetworkId_key" ON "PoolTarget"("serviceId", "hostingNetworkId");

-- AddForeignKey
ALTER TABLE "PoolTarget" ADD CONSTRAINT "PoolTarget_serviceId_fkey" FOREIGN KEY ("serviceId") REFERENCES "Service"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PoolTarget" ADD CONSTRAINT "PoolTarget_hostingNetworkId_fkey" FOREIGN KEY ("hostingNetworkId") REFERENCES "HostingNetwork"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- A pool holds between 0 and 1000 pre-booted VMs.
ALTER TABLE "PoolTarget" ADD CONSTRAINT "PoolTarget_size_range" CHECK ("size" BETWEEN 0 AND 1000);
