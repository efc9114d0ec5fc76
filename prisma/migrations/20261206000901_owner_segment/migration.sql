-- CreateTable
CREATE TABLE "OwnerSegment" (
    "ownerDomain" TEXT NOT NULL,
    "number" INTEGER NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "OwnerSegment_pkey" PRIMARY KEY ("ownerDomain")
);

-- CreateIndex
CREATE UNIQUE INDEX "OwnerSegment_number_key" ON "OwnerSegment"("number");

-- A VLAN id: 1 to 4094 (0 and 4095 are reserved by 802.1Q).
ALTER TABLE "OwnerSegment" ADD CONSTRAINT "OwnerSegment_number_vlan" CHECK ("number" BETWEEN 1 AND 4094);

-- Existing owner domains get their segments in name order.
INSERT INTO "OwnerSegment" ("ownerDomain", "number")
SELECT "ownerDomain", row_number() OVER (ORDER BY "ownerDomain")
FROM (SELECT DISTINCT "ownerDomain" FROM "Service") d;
