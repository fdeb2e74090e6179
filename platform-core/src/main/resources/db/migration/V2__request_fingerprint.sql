-- sha256 of the request body a job was submitted with: an Idempotency-Key retry is answered with the first
-- job, even after it finished and its output names are taken, and a reuse of the key for another body is refused
alter table jobs add column request_sha256 text;
