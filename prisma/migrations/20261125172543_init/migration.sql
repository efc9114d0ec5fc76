-- CreateEnum
CREATE TYPE "HostRole" AS ENUM ('NEST', 'LOADING', 'PRODUCTION');

-- CreateEnum
CREATE TYPE "HostStatus" AS ENUM ('UNKNOWN', 'UP', 'DOWN');

-- CreateEnum
CREATE TYPE "HostKeyTrust" AS ENUM ('PENDING', 'TRUSTED', 'MISMATCH');

-- CreateEnum
CREATE TYPE "ServiceKind" AS ENUM ('WEB', 'GAME');

-- CreateEnum
CREATE TYPE "VmPhase" AS ENUM ('NEST', 'LOADING', 'PRODUCTION');

-- CreateEnum
CREATE TYPE "VmPower" AS ENUM ('RUNNING', 'PAUSED', 'SAVED', 'SHUTOFF', 'UNKNOWN');

-- CreateEnum
CREATE TYPE "OperationKind" AS ENUM ('CREATE', 'HIBERNATE', 'ACTIVATE', 'DEACTIVATE', 'CLONE', 'COLD_MOVE', 'RESTART', 'DELETE');

-- CreateEnum
CREATE TYPE "OperationState" AS ENUM ('QUEUED', 'RUNNING', 'CANCELLING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'ROLLED_BACK');

-- CreateEnum
CREATE TYPE "StepState" AS ENUM ('PENDING', 'RUNNING', 'DONE', 'FAILED', 'COMPENSATED', 'SKIPPED');

-- CreateEnum
CREATE TYPE "MatchStatus" AS ENUM ('SCHEDULED', 'PREPARING', 'LIVE', 'FINISHED', 'CANCELLED', 'FAILED');

-- CreateEnum
CREATE TYPE "MetricResolution" AS ENUM ('RAW', 'MINUTE', 'HOUR');

-- CreateEnum
CREATE TYPE "BindingKind" AS ENUM ('NAT', 'LB', 'DNS', 'FIREWALL', 'VLAN', 'VPN');

-- CreateEnum
CREATE TYPE "BindingState" AS ENUM ('PENDING', 'APPLIED', 'REMOVING', 'FAILED');

-- CreateEnum
CREATE TYPE "Role" AS ENUM ('OPERATOR', 'CLAN_ADMIN', 'MANAGER', 'ADMIN');

-- CreateEnum
CREATE TYPE "AlertSeverity" AS ENUM ('INFO', 'WARNING', 'CRITICAL');

-- CreateTable
CREATE TABLE "HostingNetwork" (
    "id" TEXT NOT NULL,
    "slug" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "city" TEXT NOT NULL,
    "country" TEXT NOT NULL,
    "continent" TEXT NOT NULL,
    "lat" DOUBLE PRECISION NOT NULL,
    "lon" DOUBLE PRECISION NOT NULL,
    "publicPoolCidr" TEXT NOT NULL,
    "linkMbps" INTEGER NOT NULL DEFAULT 1000,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "HostingNetwork_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Host" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "hostingNetworkId" TEXT NOT NULL,
    "role" "HostRole" NOT NULL,
    "sshHost" TEXT NOT NULL,
    "sshPort" INTEGER NOT NULL DEFAULT 22,
    "sshUser" TEXT NOT NULL,
    "sshKeyRef" TEXT NOT NULL,
    "hostKeyFingerprint" TEXT,
    "hostKeyTrust" "HostKeyTrust" NOT NULL DEFAULT 'PENDING',
    "vmDir" TEXT NOT NULL DEFAULT '/var/lib/vmatrix',
    "cpus" INTEGER NOT NULL DEFAULT 0,
    "memoryMiB" INTEGER NOT NULL DEFAULT 0,
    "diskBytes" BIGINT NOT NULL DEFAULT 0,
    "freeDiskBytes" BIGINT NOT NULL DEFAULT 0,
    "vmSlots" INTEGER NOT NULL DEFAULT 1,
    "hypervisor" TEXT,
    "status" "HostStatus" NOT NULL DEFAULT 'UNKNOWN',
    "draining" BOOLEAN NOT NULL DEFAULT false,
    "retiredAt" TIMESTAMP(3),
    "lastHeartbeatAt" TIMESTAMP(3),
    "missedBeats" INTEGER NOT NULL DEFAULT 0,
    "lastError" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Host_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Service" (
    "id" TEXT NOT NULL,
    "slug" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "kind" "ServiceKind" NOT NULL,
    "port" INTEGER NOT NULL,
    "ownerDomain" TEXT NOT NULL,
    "dnsName" TEXT,
    "description" TEXT NOT NULL DEFAULT '',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Service_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "VmImage" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "serviceId" TEXT NOT NULL,
    "diskBytes" BIGINT NOT NULL,
    "memoryMiB" INTEGER NOT NULL,
    "vcpus" INTEGER NOT NULL,
    "sha256" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "VmImage_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Vm" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "serviceId" TEXT NOT NULL,
    "imageId" TEXT,
    "phase" "VmPhase" NOT NULL,
    "power" "VmPower" NOT NULL DEFAULT 'UNKNOWN',
    "hostId" TEXT,
    "privateAddress" TEXT,
    "diskPath" TEXT,
    "statePath" TEXT,
    "xmlPath" TEXT,
    "diskBytes" BIGINT NOT NULL DEFAULT 0,
    "stateBytes" BIGINT NOT NULL DEFAULT 0,
    "memoryMiB" INTEGER NOT NULL DEFAULT 128,
    "vcpus" INTEGER NOT NULL DEFAULT 1,
    "preBooted" BOOLEAN NOT NULL DEFAULT false,
    "flagged" TEXT,
    "version" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Vm_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ReplicaTarget" (
    "id" TEXT NOT NULL,
    "serviceId" TEXT NOT NULL,
    "hostingNetworkId" TEXT NOT NULL,
    "desired" INTEGER NOT NULL DEFAULT 0,
    "version" INTEGER NOT NULL DEFAULT 0,
    "updatedById" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ReplicaTarget_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "DemandSample" (
    "id" BIGSERIAL NOT NULL,
    "serviceId" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "lat" DOUBLE PRECISION NOT NULL,
    "lon" DOUBLE PRECISION NOT NULL,
    "count" INTEGER NOT NULL,

    CONSTRAINT "DemandSample_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Operation" (
    "id" TEXT NOT NULL,
    "kind" "OperationKind" NOT NULL,
    "state" "OperationState" NOT NULL DEFAULT 'QUEUED',
    "vmId" TEXT NOT NULL,
    "sourceHostId" TEXT,
    "targetHostId" TEXT,
    "requestedById" TEXT,
    "reason" TEXT NOT NULL DEFAULT '',
    "progress" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "bytesMoved" BIGINT NOT NULL DEFAULT 0,
    "bytesTotal" BIGINT NOT NULL DEFAULT 0,
    "error" TEXT,
    "decision" JSONB,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "Operation_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "OperationStep" (
    "id" TEXT NOT NULL,
    "operationId" TEXT NOT NULL,
    "index" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "state" "StepState" NOT NULL DEFAULT 'PENDING',
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),
    "bytes" BIGINT NOT NULL DEFAULT 0,
    "detail" TEXT,
    "error" TEXT,

    CONSTRAINT "OperationStep_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Match" (
    "id" TEXT NOT NULL,
    "serviceId" TEXT NOT NULL,
    "hostId" TEXT NOT NULL,
    "vmId" TEXT,
    "clanA" TEXT NOT NULL,
    "clanB" TEXT NOT NULL,
    "startsAt" TIMESTAMP(3) NOT NULL,
    "endsAt" TIMESTAMP(3) NOT NULL,
    "status" "MatchStatus" NOT NULL DEFAULT 'SCHEDULED',
    "bookedById" TEXT NOT NULL,
    "placement" JSONB,
    "address" TEXT,
    "error" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Match_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "MatchPlayer" (
    "id" TEXT NOT NULL,
    "matchId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "team" TEXT NOT NULL,
    "ip" TEXT,
    "lat" DOUBLE PRECISION,
    "lon" DOUBLE PRECISION,
    "rttMs" DOUBLE PRECISION,

    CONSTRAINT "MatchPlayer_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "MetricSample" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "resolution" "MetricResolution" NOT NULL DEFAULT 'RAW',
    "hostId" TEXT,
    "vmId" TEXT,
    "cpuPercent" DOUBLE PRECISION NOT NULL,
    "memoryBytes" BIGINT NOT NULL DEFAULT 0,
    "netRxBytes" BIGINT NOT NULL DEFAULT 0,
    "netTxBytes" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "MetricSample_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AutoscalingPolicy" (
    "id" TEXT NOT NULL,
    "serviceId" TEXT NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "dryRun" BOOLEAN NOT NULL DEFAULT false,
    "cpuThresholdPercent" DOUBLE PRECISION NOT NULL DEFAULT 90,
    "windowMinutes" INTEGER NOT NULL DEFAULT 10,
    "scaleInPercent" DOUBLE PRECISION NOT NULL DEFAULT 50,
    "cooldownMinutes" INTEGER NOT NULL DEFAULT 10,
    "minReplicas" INTEGER NOT NULL DEFAULT 1,
    "maxReplicas" INTEGER NOT NULL DEFAULT 8,
    "idleReserveHosts" INTEGER NOT NULL DEFAULT 1,
    "autoRecover" BOOLEAN NOT NULL DEFAULT true,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "AutoscalingPolicy_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "NetworkBinding" (
    "id" TEXT NOT NULL,
    "kind" "BindingKind" NOT NULL,
    "state" "BindingState" NOT NULL DEFAULT 'PENDING',
    "vmId" TEXT NOT NULL,
    "hostingNetworkId" TEXT NOT NULL,
    "publicAddress" TEXT,
    "privateAddress" TEXT,
    "port" INTEGER,
    "backend" TEXT,
    "dnsName" TEXT,
    "segment" TEXT,
    "config" JSONB,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "NetworkBinding_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "user" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "emailVerified" BOOLEAN NOT NULL DEFAULT false,
    "image" TEXT,
    "role" "Role" NOT NULL DEFAULT 'MANAGER',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "user_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "session" (
    "id" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "token" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "ipAddress" TEXT,
    "userAgent" TEXT,
    "userId" TEXT NOT NULL,

    CONSTRAINT "session_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "account" (
    "id" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "providerId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "accessToken" TEXT,
    "refreshToken" TEXT,
    "idToken" TEXT,
    "accessTokenExpiresAt" TIMESTAMP(3),
    "refreshTokenExpiresAt" TIMESTAMP(3),
    "scope" TEXT,
    "password" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "account_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "verification" (
    "id" TEXT NOT NULL,
    "identifier" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "verification_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AuditEvent" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actorId" TEXT,
    "actorEmail" TEXT,
    "action" TEXT NOT NULL,
    "entityType" TEXT NOT NULL,
    "entityId" TEXT,
    "before" JSONB,
    "after" JSONB,

    CONSTRAINT "AuditEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Alert" (
    "id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "severity" "AlertSeverity" NOT NULL,
    "message" TEXT NOT NULL,
    "hostId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "resolvedAt" TIMESTAMP(3),

    CONSTRAINT "Alert_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "HostingNetwork_slug_key" ON "HostingNetwork"("slug");

-- CreateIndex
CREATE UNIQUE INDEX "Host_name_key" ON "Host"("name");

-- CreateIndex
CREATE INDEX "Host_hostingNetworkId_role_idx" ON "Host"("hostingNetworkId", "role");

-- CreateIndex
CREATE UNIQUE INDEX "Service_slug_key" ON "Service"("slug");

-- CreateIndex
CREATE UNIQUE INDEX "VmImage_name_key" ON "VmImage"("name");

-- CreateIndex
CREATE UNIQUE INDEX "Vm_name_key" ON "Vm"("name");

-- CreateIndex
CREATE INDEX "Vm_serviceId_phase_idx" ON "Vm"("serviceId", "phase");

-- CreateIndex
CREATE INDEX "Vm_hostId_idx" ON "Vm"("hostId");

-- CreateIndex
CREATE UNIQUE INDEX "ReplicaTarget_serviceId_hostingNetworkId_key" ON "ReplicaTarget"("serviceId", "hostingNetworkId");

-- CreateIndex
CREATE INDEX "DemandSample_serviceId_at_idx" ON "DemandSample"("serviceId", "at");

-- CreateIndex
CREATE INDEX "Operation_state_createdAt_idx" ON "Operation"("state", "createdAt");

-- CreateIndex
CREATE INDEX "Operation_vmId_createdAt_idx" ON "Operation"("vmId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "OperationStep_operationId_index_key" ON "OperationStep"("operationId", "index");

-- CreateIndex
CREATE INDEX "Match_hostId_startsAt_idx" ON "Match"("hostId", "startsAt");

-- CreateIndex
CREATE INDEX "Match_bookedById_idx" ON "Match"("bookedById");

-- CreateIndex
CREATE INDEX "MetricSample_hostId_resolution_at_idx" ON "MetricSample"("hostId", "resolution", "at");

-- CreateIndex
CREATE INDEX "MetricSample_vmId_resolution_at_idx" ON "MetricSample"("vmId", "resolution", "at");

-- CreateIndex
CREATE UNIQUE INDEX "AutoscalingPolicy_serviceId_key" ON "AutoscalingPolicy"("serviceId");

-- CreateIndex
CREATE INDEX "NetworkBinding_vmId_idx" ON "NetworkBinding"("vmId");

-- CreateIndex
CREATE INDEX "NetworkBinding_hostingNetworkId_kind_idx" ON "NetworkBinding"("hostingNetworkId", "kind");

-- CreateIndex
CREATE UNIQUE INDEX "user_email_key" ON "user"("email");

-- CreateIndex
CREATE UNIQUE INDEX "session_token_key" ON "session"("token");

-- CreateIndex
CREATE INDEX "session_userId_idx" ON "session"("userId");

-- CreateIndex
CREATE INDEX "account_userId_idx" ON "account"("userId");

-- CreateIndex
CREATE INDEX "verification_identifier_idx" ON "verification"("identifier");

-- CreateIndex
CREATE INDEX "AuditEvent_at_idx" ON "AuditEvent"("at");

-- CreateIndex
CREATE INDEX "AuditEvent_entityType_entityId_idx" ON "AuditEvent"("entityType", "entityId");

-- CreateIndex
CREATE INDEX "Alert_resolvedAt_createdAt_idx" ON "Alert"("resolvedAt", "createdAt");

-- AddForeignKey
ALTER TABLE "Host" ADD CONSTRAINT "Host_hostingNetworkId_fkey" FOREIGN KEY ("hostingNetworkId") REFERENCES "HostingNetwork"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "VmImage" ADD CONSTRAINT "VmImage_serviceId_fkey" FOREIGN KEY ("serviceId") REFERENCES "Service"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Vm" ADD CONSTRAINT "Vm_serviceId_fkey" FOREIGN KEY ("serviceId") REFERENCES "Service"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Vm" ADD CONSTRAINT "Vm_imageId_fkey" FOREIGN KEY ("imageId") REFERENCES "VmImage"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Vm" ADD CONSTRAINT "Vm_hostId_fkey" FOREIGN KEY ("hostId") REFERENCES "Host"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ReplicaTarget" ADD CONSTRAINT "ReplicaTarget_serviceId_fkey" FOREIGN KEY ("serviceId") REFERENCES "Service"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ReplicaTarget" ADD CONSTRAINT "ReplicaTarget_hostingNetworkId_fkey" FOREIGN KEY ("hostingNetworkId") REFERENCES "HostingNetwork"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DemandSample" ADD CONSTRAINT "DemandSample_serviceId_fkey" FOREIGN KEY ("serviceId") REFERENCES "Service"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Operation" ADD CONSTRAINT "Operation_vmId_fkey" FOREIGN KEY ("vmId") REFERENCES "Vm"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Operation" ADD CONSTRAINT "Operation_sourceHostId_fkey" FOREIGN KEY ("sourceHostId") REFERENCES "Host"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Operation" ADD CONSTRAINT "Operation_targetHostId_fkey" FOREIGN KEY ("targetHostId") REFERENCES "Host"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Operation" ADD CONSTRAINT "Operation_requestedById_fkey" FOREIGN KEY ("requestedById") REFERENCES "user"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "OperationStep" ADD CONSTRAINT "OperationStep_operationId_fkey" FOREIGN KEY ("operationId") REFERENCES "Operation"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Match" ADD CONSTRAINT "Match_serviceId_fkey" FOREIGN KEY ("serviceId") REFERENCES "Service"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Match" ADD CONSTRAINT "Match_hostId_fkey" FOREIGN KEY ("hostId") REFERENCES "Host"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Match" ADD CONSTRAINT "Match_vmId_fkey" FOREIGN KEY ("vmId") REFERENCES "Vm"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Match" ADD CONSTRAINT "Match_bookedById_fkey" FOREIGN KEY ("bookedById") REFERENCES "user"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "MatchPlayer" ADD CONSTRAINT "MatchPlayer_matchId_fkey" FOREIGN KEY ("matchId") REFERENCES "Match"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "MetricSample" ADD CONSTRAINT "MetricSample_hostId_fkey" FOREIGN KEY ("hostId") REFERENCES "Host"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "MetricSample" ADD CONSTRAINT "MetricSample_vmId_fkey" FOREIGN KEY ("vmId") REFERENCES "Vm"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AutoscalingPolicy" ADD CONSTRAINT "AutoscalingPolicy_serviceId_fkey" FOREIGN KEY ("serviceId") REFERENCES "Service"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "NetworkBinding" ADD CONSTRAINT "NetworkBinding_vmId_fkey" FOREIGN KEY ("vmId") REFERENCES "Vm"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "NetworkBinding" ADD CONSTRAINT "NetworkBinding_hostingNetworkId_fkey" FOREIGN KEY ("hostingNetworkId") REFERENCES "HostingNetwork"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "session" ADD CONSTRAINT "session_userId_fkey" FOREIGN KEY ("userId") REFERENCES "user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "account" ADD CONSTRAINT "account_userId_fkey" FOREIGN KEY ("userId") REFERENCES "user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AuditEvent" ADD CONSTRAINT "AuditEvent_actorId_fkey" FOREIGN KEY ("actorId") REFERENCES "user"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Alert" ADD CONSTRAINT "Alert_hostId_fkey" FOREIGN KEY ("hostId") REFERENCES "Host"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- ───────── Integrity the Prisma schema language cannot express ─────────

CREATE EXTENSION IF NOT EXISTS btree_gist;

-- A host never holds two production VMs (thesis §5.2.2: one live VM per RM).
CREATE UNIQUE INDEX "Vm_one_production_vm_per_host" ON "Vm" ("hostId")
  WHERE "phase" = 'PRODUCTION' AND "hostId" IS NOT NULL;

-- One operation per VM at a time.
CREATE UNIQUE INDEX "Operation_one_active_per_vm" ON "Operation" ("vmId")
  WHERE "state" IN ('QUEUED', 'RUNNING', 'CANCELLING');

-- No two live bookings of one host overlap in time (half-open slots [start, end)).
ALTER TABLE "Match" ADD CONSTRAINT "Match_no_overlapping_bookings_per_host"
  EXCLUDE USING gist ("hostId" WITH =, tsrange("startsAt", "endsAt", '[)') WITH &&)
  WHERE ("status" IN ('SCHEDULED', 'PREPARING', 'LIVE'));
ALTER TABLE "Match" ADD CONSTRAINT "Match_slot_valid" CHECK ("endsAt" > "startsAt");
ALTER TABLE "Match" ADD CONSTRAINT "Match_clans_named" CHECK (length(trim("clanA")) > 0 AND length(trim("clanB")) > 0);

ALTER TABLE "HostingNetwork"
  ADD CONSTRAINT "HostingNetwork_lat_range" CHECK ("lat" BETWEEN -90 AND 90),
  ADD CONSTRAINT "HostingNetwork_lon_range" CHECK ("lon" BETWEEN -180 AND 180),
  ADD CONSTRAINT "HostingNetwork_country_iso2" CHECK ("country" ~ '^[A-Z]{2}$'),
  ADD CONSTRAINT "HostingNetwork_slug_format" CHECK ("slug" ~ '^[a-z][a-z0-9-]{0,62}$'),
  ADD CONSTRAINT "HostingNetwork_link_positive" CHECK ("linkMbps" > 0),
  ADD CONSTRAINT "HostingNetwork_pool_cidr" CHECK ("publicPoolCidr"::cidr IS NOT NULL);

ALTER TABLE "Host"
  ADD CONSTRAINT "Host_name_format" CHECK ("name" ~ '^[a-z][a-z0-9-]{0,62}$'),
  ADD CONSTRAINT "Host_ssh_port_range" CHECK ("sshPort" BETWEEN 1 AND 65535),
  ADD CONSTRAINT "Host_counts_nonnegative" CHECK (
    "cpus" >= 0 AND "memoryMiB" >= 0 AND "diskBytes" >= 0 AND "freeDiskBytes" >= 0
    AND "vmSlots" >= 0 AND "missedBeats" >= 0),
  ADD CONSTRAINT "Host_production_single_slot" CHECK ("role" <> 'PRODUCTION' OR "vmSlots" <= 1);

ALTER TABLE "Service"
  ADD CONSTRAINT "Service_port_range" CHECK ("port" BETWEEN 1 AND 65535),
  ADD CONSTRAINT "Service_slug_format" CHECK ("slug" ~ '^[a-z][a-z0-9-]{0,62}$');

ALTER TABLE "VmImage"
  ADD CONSTRAINT "VmImage_sizes" CHECK ("diskBytes" >= 0 AND "memoryMiB" > 0 AND "vcpus" > 0);

ALTER TABLE "Vm"
  ADD CONSTRAINT "Vm_name_format" CHECK ("name" ~ '^[a-z][a-z0-9-]{0,62}$'),
  ADD CONSTRAINT "Vm_sizes" CHECK ("diskBytes" >= 0 AND "stateBytes" >= 0 AND "memoryMiB" > 0 AND "vcpus" > 0),
  ADD CONSTRAINT "Vm_version_nonnegative" CHECK ("version" >= 0);

ALTER TABLE "ReplicaTarget"
  ADD CONSTRAINT "ReplicaTarget_desired_nonnegative" CHECK ("desired" >= 0),
  ADD CONSTRAINT "ReplicaTarget_version_nonnegative" CHECK ("version" >= 0);

ALTER TABLE "DemandSample"
  ADD CONSTRAINT "DemandSample_lat_range" CHECK ("lat" BETWEEN -90 AND 90),
  ADD CONSTRAINT "DemandSample_lon_range" CHECK ("lon" BETWEEN -180 AND 180),
  ADD CONSTRAINT "DemandSample_count_nonnegative" CHECK ("count" >= 0);

ALTER TABLE "Operation"
  ADD CONSTRAINT "Operation_progress_range" CHECK ("progress" BETWEEN 0 AND 1),
  ADD CONSTRAINT "Operation_bytes_nonnegative" CHECK ("bytesMoved" >= 0 AND "bytesTotal" >= 0);

ALTER TABLE "OperationStep"
  ADD CONSTRAINT "OperationStep_index_nonnegative" CHECK ("index" >= 0),
  ADD CONSTRAINT "OperationStep_bytes_nonnegative" CHECK ("bytes" >= 0);

ALTER TABLE "MatchPlayer"
  ADD CONSTRAINT "MatchPlayer_team" CHECK ("team" IN ('A', 'B')),
  ADD CONSTRAINT "MatchPlayer_lat_range" CHECK ("lat" IS NULL OR "lat" BETWEEN -90 AND 90),
  ADD CONSTRAINT "MatchPlayer_lon_range" CHECK ("lon" IS NULL OR "lon" BETWEEN -180 AND 180),
  ADD CONSTRAINT "MatchPlayer_rtt_nonnegative" CHECK ("rttMs" IS NULL OR "rttMs" >= 0);

ALTER TABLE "MetricSample"
  ADD CONSTRAINT "MetricSample_subject" CHECK ("hostId" IS NOT NULL OR "vmId" IS NOT NULL),
  ADD CONSTRAINT "MetricSample_values_nonnegative" CHECK (
    "cpuPercent" >= 0 AND "memoryBytes" >= 0 AND "netRxBytes" >= 0 AND "netTxBytes" >= 0);

ALTER TABLE "AutoscalingPolicy"
  ADD CONSTRAINT "AutoscalingPolicy_threshold_range" CHECK ("cpuThresholdPercent" > 0 AND "cpuThresholdPercent" <= 100),
  ADD CONSTRAINT "AutoscalingPolicy_scale_in_range" CHECK ("scaleInPercent" >= 0 AND "scaleInPercent" < "cpuThresholdPercent"),
  ADD CONSTRAINT "AutoscalingPolicy_windows" CHECK ("windowMinutes" > 0 AND "cooldownMinutes" >= 0),
  ADD CONSTRAINT "AutoscalingPolicy_replica_bounds" CHECK ("minReplicas" >= 0 AND "maxReplicas" >= "minReplicas"),
  ADD CONSTRAINT "AutoscalingPolicy_reserve_nonnegative" CHECK ("idleReserveHosts" >= 0);

ALTER TABLE "NetworkBinding"
  ADD CONSTRAINT "NetworkBinding_port_range" CHECK ("port" IS NULL OR "port" BETWEEN 1 AND 65535);
