-- Schema admin: tenants and what they provision. Every row carries tenant_id (the tenants table's
-- key is the tenant id itself; platform API keys are the one kind of row without a tenant).
-- Uniqueness lives here, not in application checks, so that two simultaneous creates of the same
-- extension, number or trunk yield exactly one success and one unique violation.

CREATE SCHEMA IF NOT EXISTS admin;

CREATE TABLE admin.tenants (
  tenant_id            uuid PRIMARY KEY,
  slug                 text NOT NULL UNIQUE,
  name                 text NOT NULL,
  sip_domain           text NOT NULL UNIQUE,
  status               text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
  suspend_reason       text NOT NULL DEFAULT '',
  max_extensions       integer NOT NULL CHECK (max_extensions > 0),
  max_concurrent_calls integer NOT NULL CHECK (max_concurrent_calls > 0),
  created_at           timestamptz NOT NULL,
  updated_at           timestamptz NOT NULL
);

CREATE TABLE admin.api_keys (
  key_id      uuid PRIMARY KEY,
  tenant_id   uuid REFERENCES admin.tenants (tenant_id) ON DELETE CASCADE,
  name        text NOT NULL,
  prefix      text NOT NULL,
  secret_hash text NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL,
  revoked_at  timestamptz
);
CREATE INDEX api_keys_tenant ON admin.api_keys (tenant_id, key_id);

CREATE TABLE admin.extensions (
  extension_id uuid PRIMARY KEY,
  tenant_id    uuid NOT NULL REFERENCES admin.tenants (tenant_id) ON DELETE CASCADE,
  number       text NOT NULL,
  display_name text NOT NULL,
  sip_username text NOT NULL,
  ha1_md5      text NOT NULL,
  ha1_sha256   text NOT NULL,
  caller_id    text NOT NULL DEFAULT '',
  enabled      boolean NOT NULL DEFAULT true,
  created_at   timestamptz NOT NULL,
  updated_at   timestamptz NOT NULL,
  CONSTRAINT extensions_number_key UNIQUE (tenant_id, number),
  CONSTRAINT extensions_sip_username_key UNIQUE (tenant_id, sip_username)
);

CREATE TABLE admin.numbers (
  number_id  uuid PRIMARY KEY,
  tenant_id  uuid NOT NULL REFERENCES admin.tenants (tenant_id) ON DELETE CASCADE,
  e164       text NOT NULL,
  target     text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  -- A number belongs to one tenant on the whole platform.
  CONSTRAINT numbers_e164_key UNIQUE (e164)
);
CREATE INDEX numbers_tenant ON admin.numbers (tenant_id, number_id);

CREATE TABLE admin.trunks (
  trunk_id         uuid PRIMARY KEY,
  tenant_id        uuid NOT NULL REFERENCES admin.tenants (tenant_id) ON DELETE CASCADE,
  name             text NOT NULL,
  host             text NOT NULL,
  port             integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
  transport        text NOT NULL CHECK (transport IN ('udp', 'tcp', 'tls')),
  username         text NOT NULL DEFAULT '',
  password         text NOT NULL DEFAULT '',
  prefix_rules     jsonb NOT NULL DEFAULT '[]',
  caller_id_policy text NOT NULL CHECK (caller_id_policy IN ('passthrough', 'fixed', 'block')),
  fixed_caller_id  text NOT NULL DEFAULT '',
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  CONSTRAINT trunks_name_key UNIQUE (tenant_id, name)
);

-- Inbound INVITEs are matched to a trunk by source address, so no two trunks on the platform
-- may claim overlapping source ranges.
CREATE TABLE admin.trunk_sources (
  tenant_id uuid NOT NULL,
  trunk_id  uuid NOT NULL REFERENCES admin.trunks (trunk_id) ON DELETE CASCADE,
  source    cidr NOT NULL,
  PRIMARY KEY (trunk_id, source),
  CONSTRAINT trunk_sources_no_overlap EXCLUDE USING gist (source inet_ops WITH &&)
);

-- Who did what, when. Kept after the tenant is deleted, so no foreign keys.
CREATE TABLE admin.audit_log (
  audit_id      bigserial PRIMARY KEY,
  tenant_id     uuid,
  actor_key_id  uuid,
  action        text NOT NULL,
  resource_type text NOT NULL,
  resource_id   text NOT NULL,
  details       jsonb NOT NULL DEFAULT '{}',
  at            timestamptz NOT NULL
);
CREATE INDEX audit_log_tenant ON admin.audit_log (tenant_id, audit_id);
