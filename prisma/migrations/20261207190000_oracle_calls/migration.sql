-- CreateEnum
CREATE TYPE "OracleCallState" AS ENUM ('QUEUED', 'RUNNING', 'DONE', 'FAILED', 'EXPIRED');

-- CreateTable
CREATE TABLE "OracleCall" (
    "id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "input" JSONB NOT NULL,
    "state" "OracleCallState" NOT NULL DEFAULT 'QUEUED',
    "result" JSONB,
    "errorCode" TEXT,
    "error" TEXT,
    "requestedById" TEXT,
    "deadline" TIMESTAMP(3) NOT NULL,
    "runBy" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "OracleCall_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "OracleCall_createdAt_idx" ON "OracleCall"("createdAt");
