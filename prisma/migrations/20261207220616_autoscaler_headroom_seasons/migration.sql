-- AlterTable
ALTER TABLE "AutoscalingPolicy" ADD COLUMN     "headroomCoverage" DOUBLE PRECISION NOT NULL DEFAULT 0.85,
ADD COLUMN     "seasonHours" INTEGER[] DEFAULT ARRAY[24, 168]::INTEGER[];
