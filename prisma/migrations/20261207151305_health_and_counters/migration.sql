-- CreateTable
CREATE TABLE "OracleProcess" (
    "id" TEXT NOT NULL,
    "hostname" TEXT NOT NULL,
    "pid" INTEGER NOT NULL,
    "startedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastSeenAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "OracleProcess_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ProcessCounter" (
    "name" TEXT NOT NULL,
    "labels" TEXT NOT NULL DEFAULT '',
    "value" BIGINT NOT NULL DEFAULT 0,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ProcessCounter_pkey" PRIMARY KEY ("name","labels")
);

-- CreateIndex
CREATE INDEX "OracleProcess_lastSeenAt_idx" ON "OracleProcess"("lastSeenAt");
