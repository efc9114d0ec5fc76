-- AlterTable
ALTER TABLE "Service" ADD COLUMN     "backendCidr" TEXT,
ADD COLUMN     "backendEndpoint" TEXT,
ADD COLUMN     "backendPublicKey" TEXT;
