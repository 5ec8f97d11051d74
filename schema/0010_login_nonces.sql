-- 0010_login_nonces: login nonces outlive a restart (PROTOCOL.md "Authentication": a nonce is
-- refused if seen in the last 5 minutes).
--
-- ipxd answers logins from memory and writes each fresh nonce here behind the reply, in
-- batches (gateway/pg_nonces.hpp); at start it loads the nonces of the last 5 minutes back,
-- so a login frame replayed after a restart is refused. Rows older than the window are
-- deleted by the writer. Not part of the journal: nonces are the gateway's, not the engine's.

CREATE TABLE IF NOT EXISTS login_nonces (
  nonce   text   PRIMARY KEY,
  seen_ms bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS login_nonces_seen_ms ON login_nonces (seen_ms);
