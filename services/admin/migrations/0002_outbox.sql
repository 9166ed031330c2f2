-- The transactional outbox: each mutation writes its event here in its own transaction; the
-- relay publishes rows in seq order to JetStream (msg-id = event_id) and deletes a row only after
-- the stream acknowledged it. A crash between commit and publish leaves the row for the next run.
CREATE TABLE admin.outbox (
  seq bigserial PRIMARY KEY,
  event_id uuid NOT NULL UNIQUE,
  subject text NOT NULL,
  payload bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
