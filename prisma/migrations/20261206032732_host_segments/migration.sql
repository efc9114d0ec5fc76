-- AlterTable
ALTER TABLE "Host" ADD COLUMN     "segments" INTEGER[] DEFAULT ARRAY[]::INTEGER[],
ADD COLUMN     "segmentsProbedAt" TIMESTAMP(3);
