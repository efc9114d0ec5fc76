-- AlterTable
ALTER TABLE "AutoscalingPolicy" ALTER COLUMN "scaleInPercent" SET DEFAULT 70;
