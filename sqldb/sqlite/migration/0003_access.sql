-- Identities and authentication (package access). Times are unix ms.
-- Users: password_hash is argon2id in PHC string form, never a password.
CREATE TABLE access_users (
  name            TEXT    PRIMARY KEY,
  roles           TEXT    NOT NULL, -- comma-separated
  password_hash   TEXT    NOT NULL,
  must_change     INTEGER NOT NULL DEFAULT 0,
  disabled        INTEGER NOT NULL DEFAULT 0,
  failed_attempts INTEGER NOT NULL DEFAULT 0,
  locked_until    INTEGER NOT NULL DEFAULT 0,
  created         INTEGER NOT NULL,
  updated         INTEGER NOT NULL
);

-- API clients: secret_hash is SHA-256 of a 256-bit random secret.
CREATE TABLE access_clients (
  id          TEXT    PRIMARY KEY,
  name        TEXT    NOT NULL UNIQUE,
  secret_hash TEXT    NOT NULL,
  scopes      TEXT    NOT NULL, -- space-separated SMART scopes
  roles       TEXT    NOT NULL, -- comma-separated
  disabled    INTEGER NOT NULL DEFAULT 0,
  created     INTEGER NOT NULL
);

-- Web sessions, by the SHA-256 of their secret id.
CREATE TABLE access_sessions (
  id_hash   BLOB    PRIMARY KEY,
  user_name TEXT    NOT NULL REFERENCES access_users (name),
  created   INTEGER NOT NULL,
  last_seen INTEGER NOT NULL
);
CREATE INDEX access_sessions_user ON access_sessions (user_name);
CREATE INDEX access_sessions_last_seen ON access_sessions (last_seen);

-- Token signing keys (PKCS #8 DER). The oldest signs; all verify.
CREATE TABLE access_keys (
  kid         TEXT    PRIMARY KEY,
  alg         TEXT    NOT NULL,
  private_key BLOB    NOT NULL,
  created     INTEGER NOT NULL
);
