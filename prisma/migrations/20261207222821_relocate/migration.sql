-- AlterEnum
ALTER TYPE "OperationKind" ADD VALUE 'RELOCATE';
