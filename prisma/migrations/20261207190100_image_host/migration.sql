-- AlterTable
ALTER TABLE "VmImage" ADD COLUMN     "hostId" TEXT,
ADD COLUMN     "registeredById" TEXT;

-- CreateIndex
CREATE INDEX "VmImage_hostId_idx" ON "VmImage"("hostId");

-- AddForeignKey
ALTER TABLE "VmImage" ADD CONSTRAINT "VmImage_hostId_fkey" FOREIGN KEY ("hostId") REFERENCES "Host"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "VmImage" ADD CONSTRAINT "VmImage_registeredById_fkey" FOREIGN KEY ("registeredById") REFERENCES "user"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- Added by hand: an image's name is a VM name (its file is `<name>.image` in a host's VM
-- directory), its checksum 64 lowercase hex digits. NOT VALID: rows from before are not
-- re-checked, every new or changed row is.
ALTER TABLE "VmImage"
  ADD CONSTRAINT "VmImage_name_format" CHECK ("name" ~ '^[a-z][a-z0-9-]{0,62}$') NOT VALID,
  ADD CONSTRAINT "VmImage_sha256_format" CHECK ("sha256" IS NULL OR "sha256" ~ '^[0-9a-f]{64}$') NOT VALID,
  ADD CONSTRAINT "VmImage_size_positive" CHECK ("diskBytes" > 0) NOT VALID;
