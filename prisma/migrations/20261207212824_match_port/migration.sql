-- AlterTable
ALTER TABLE "Match" ADD COLUMN     "port" INTEGER;
