#!/bin/sh
# The part of the official postgres image's entrypoint that compose.yaml relies on: an empty data directory is
# initialised with POSTGRES_USER (default postgres) and POSTGRES_PASSWORD, POSTGRES_DB is created, and the server
# listens on every interface with password authentication (trust only on the container's own Unix socket).
set -eu
if [ "${1:-}" != postgres ]; then
  exec "$@"
fi
user=${POSTGRES_USER:-postgres}
mkdir -p "$PGDATA"
chown postgres:postgres "$PGDATA"
chmod 700 "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  password_file=$(mktemp)
  printf '%s' "${POSTGRES_PASSWORD:?the postgres image needs POSTGRES_PASSWORD}" >"$password_file"
  chown postgres "$password_file"
  runuser -u postgres -- initdb --pgdata="$PGDATA" --username="$user" --pwfile="$password_file" \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$password_file"
  echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  if [ -n "${POSTGRES_DB:-}" ] && [ "$POSTGRES_DB" != "$user" ]; then
    echo "CREATE DATABASE \"$POSTGRES_DB\"" | runuser -u postgres -- postgres --single -D "$PGDATA" postgres >/dev/null
  fi
fi
shift
exec runuser -u postgres -- postgres -D "$PGDATA" "$@"
