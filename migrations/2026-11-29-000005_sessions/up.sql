-- A session is one login: its refresh tokens rotate within it (a token's family is its session), and
-- every access token names it (`sid`), so revoking the session ends the access tokens at once, not at
-- their expiry. `expires_at` is the absolute lifetime no rotation extends.
CREATE TABLE sessions (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);
CREATE INDEX sessions_user_live_idx ON sessions (user_id) WHERE revoked_at IS NULL;

-- The logins that exist already become sessions, revoked if any of their tokens was.
INSERT INTO sessions (id, user_id, created_at, expires_at, revoked_at)
SELECT family_id, min(user_id::text)::uuid, min(created_at), min(created_at) + interval '90 days',
       max(revoked_at)
FROM refresh_tokens
GROUP BY family_id;

ALTER TABLE refresh_tokens
    ADD CONSTRAINT refresh_tokens_family_id_fkey
    FOREIGN KEY (family_id) REFERENCES sessions (id) ON DELETE CASCADE;
