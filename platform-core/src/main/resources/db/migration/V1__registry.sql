-- Amalgam registry: tenants and API keys, jobs and their events, artifacts and their lineage.

create table tenants (
    id          uuid primary key,
    name        text not null unique,
    created_at  timestamptz not null default now()
);

create table api_keys (
    id          uuid primary key,
    tenant_id   uuid not null references tenants (id),
    name        text not null,
    -- sha256 of the secret, hex; the secret itself is never stored
    key_hash    text not null unique,
    -- the first characters of the secret, to recognise a key in listings
    key_prefix  text not null,
    admin       boolean not null default false,
    created_at  timestamptz not null default now(),
    revoked_at  timestamptz
);

create table jobs (
    id               uuid primary key,
    tenant_id        uuid not null references tenants (id),
    type             text not null,
    spec_version     integer not null,
    spec             jsonb not null,
    status           text not null check (status in ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
    priority         integer not null default 0,
    attempts         integer not null default 0,
    max_attempts     integer not null default 3 check (max_attempts >= 1),
    lease_owner      text,
    lease_expires_at timestamptz,
    progress         double precision not null default 0 check (progress >= 0 and progress <= 1),
    progress_message text,
    cancel_requested boolean not null default false,
    -- resumable state written by the handler (training step, removal sets, ...)
    checkpoint       jsonb,
    result           jsonb,
    error            text,
    idempotency_key  text,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now(),
    started_at       timestamptz,
    finished_at      timestamptz,
    unique (tenant_id, idempotency_key)
);

-- the claim query scans only claimable rows
create index jobs_claimable on jobs (type, priority desc, created_at) where status in ('QUEUED', 'RUNNING');
create index jobs_tenant_created on jobs (tenant_id, created_at desc);

create table job_events (
    job_id      uuid not null references jobs (id) on delete cascade,
    -- from one global sequence: increasing within a job, so a stream resumes after the last seq seen
    seq         bigserial not null,
    kind        text not null check (kind in ('STATUS', 'PROGRESS', 'METRIC', 'LOG')),
    payload     jsonb not null,
    created_at  timestamptz not null default now(),
    primary key (job_id, seq)
);

create table artifacts (
    id               uuid primary key,
    tenant_id        uuid not null references tenants (id),
    kind             text not null check (kind in ('MODEL', 'DATASET', 'REPORT', 'CHECKPOINT')),
    name             text not null,
    status           text not null check (status in ('READY', 'DELETED')),
    storage_path     text not null,
    size_bytes       bigint not null,
    metadata         jsonb not null default '{}'::jsonb,
    producing_job_id uuid references jobs (id),
    created_at       timestamptz not null default now(),
    deleted_at       timestamptz
);

-- names are unique among a tenant's live artifacts, so specs can refer to artifacts by name
create unique index artifacts_tenant_name on artifacts (tenant_id, name) where status = 'READY';

create table artifact_files (
    artifact_id uuid not null references artifacts (id) on delete cascade,
    path        text not null,
    size_bytes  bigint not null,
    sha256      text not null,
    primary key (artifact_id, path)
);

-- lineage: which job consumed (INPUT) and produced (OUTPUT) which artifacts
create table job_artifacts (
    job_id      uuid not null references jobs (id) on delete cascade,
    artifact_id uuid not null references artifacts (id),
    role        text not null check (role in ('INPUT', 'OUTPUT')),
    primary key (job_id, artifact_id, role)
);
create index job_artifacts_artifact on job_artifacts (artifact_id);
