-- Audit events are append-only (docs/security.md, "Retention"): the
-- database refuses to change or remove one, whatever code asks. Hand-written: Prisma's
-- schema cannot express triggers.
--
-- A user who has acted is never deleted (the product disables users): deleting one would
-- set "actorId" to NULL in their audit events (ON DELETE SET NULL), which is an update,
-- and is refused here with its own message.
--
-- The function's body is an E'' string whose semicolons are written \073: migrate deploy
-- runs through the driver adapter (@prisma/adapter-pg), which splits a migration at every
-- semicolon, even inside quotes, so no statement here may contain one literally.
CREATE FUNCTION "audit_event_append_only"() RETURNS trigger
LANGUAGE plpgsql AS E'
BEGIN
  IF TG_OP = ''UPDATE'' THEN
    IF OLD."actorId" IS NOT NULL AND NEW."actorId" IS NULL THEN
      RAISE EXCEPTION ''audit events are append-only: user % has audit events and cannot be deleted (disable the user instead)'', OLD."actorId"
        USING ERRCODE = ''restrict_violation''\073
    END IF\073
  END IF\073
  RAISE EXCEPTION ''audit events are append-only: % of "AuditEvent" refused'', TG_OP
    USING ERRCODE = ''restrict_violation''\073
END\073
';

CREATE TRIGGER "AuditEvent_append_only"
  BEFORE UPDATE OR DELETE ON "AuditEvent"
  FOR EACH ROW EXECUTE FUNCTION "audit_event_append_only"();

CREATE TRIGGER "AuditEvent_no_truncate"
  BEFORE TRUNCATE ON "AuditEvent"
  FOR EACH STATEMENT EXECUTE FUNCTION "audit_event_append_only"();
