-- AlterTable
ALTER TABLE "OracleProcess" ADD COLUMN     "hostingNetworkIds" TEXT[] DEFAULT ARRAY[]::TEXT[];
