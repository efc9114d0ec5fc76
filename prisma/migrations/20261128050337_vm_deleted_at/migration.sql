-- AlterTable
ALTER TABLE "Vm" ADD COLUMN     "deletedAt" TIMESTAMP(3);
