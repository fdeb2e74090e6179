-- Registered credentials: secrets (a judge endpoint's API key) a tenant stores once and names in job specs, so that
-- a secret is never part of a spec. Each secret is sealed with AES-256-GCM under the platform's master key: the
-- ciphertext carries GCM's tag, the nonce is random per secret, and the tenant and name are the associated data (a
-- row copied to another tenant or name does not open). master_key_id says which master key sealed it, so a process
-- with another key fails with a clear message instead of a bare tag mismatch.
create table credentials (
    id             uuid primary key,
    tenant_id      uuid not null references tenants (id),
    name           text not null,
    nonce          bytea not null,
    ciphertext     bytea not null,
    master_key_id  text not null,
    -- the first 12 hex digits of the secret's sha256, to recognise a secret without showing it
    fingerprint    text not null,
    created_at     timestamptz not null default now(),
    unique (tenant_id, name)
);
