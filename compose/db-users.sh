#!/bin/sh
# Run by the one-shot db-users service before `vigil migrate`: the two users Vigil connects
# as, so that no service holds root. The migrator may change the schema (and so defines the
# report_* views, which then read the tables with its rights); the services' user may read
# and write rows and nothing more, so a bug or an injection in a worker cannot drop or alter
# a table. Idempotent: run at every `up`, so a rotated password applies, and everything
# beyond the lists below that an earlier version granted is taken back.
# The lists and why each privilege is there: db/README.md, "Who connects as whom".
# The defaults are the compose stack's; test/integration/db-users.test.ts runs this very
# script against the test database with its own values.
set -eu
HOST="${MARIADB_HOST:-mariadb}"
PORT="${MARIADB_PORT:-3306}"
DB="${VIGIL_DATABASE:-vigil}"
SERVICE_USER="${VIGIL_DB_USER:-vigil}"
MIGRATOR_USER="${MIGRATOR_DB_USER:-vigil_migrator}"

die() { printf 'db-users: %s\n' "$*" >&2; exit 1; }

# Names are spliced into SQL: only plain ones, so a typo fails here and not half-way.
for name in "$DB" "$SERVICE_USER" "$MIGRATOR_USER"; do
  case "$name" in '' | *[!A-Za-z0-9_]*) die "refused name '$name': use letters, digits and _ only" ;; esac
done
[ "$SERVICE_USER" != "$MIGRATOR_USER" ] || die "VIGIL_DB_USER and MIGRATOR_DB_USER are both '$SERVICE_USER': they must differ"

# In a single-quoted SQL string only ' and \ need escaping. An empty password would let
# anyone who reaches the server log in as that user.
password() {
  pw="$(sed -e 's/\\/\\\\/g' -e "s/'/''/g" "$2")" || die "cannot read $1 ($2)"
  [ -n "$pw" ] || die "$1 ($2) is empty"
  printf '%s' "$pw"
}
SERVICE_PW="$(password VIGIL_DB_PASSWORD_FILE "${VIGIL_DB_PASSWORD_FILE:-/run/secrets/vigil_password}")"
MIGRATOR_PW="$(password MIGRATOR_DB_PASSWORD_FILE "${MIGRATOR_DB_PASSWORD_FILE:-/run/secrets/migrator_password}")"
ROOT_PW="$(cat "${ROOT_PASSWORD_FILE:-/run/secrets/root_password}")"
# The root password reaches the client through its environment, never its command line.
export MYSQL_PWD="$ROOT_PW"
sql() { mariadb -h "$HOST" -P "$PORT" -u root --batch --skip-column-names "$@"; }

err="$(sql -e 'SELECT 1' 2>&1 >/dev/null)" || die "cannot connect to MariaDB at $HOST:$PORT as root: $err"

# In a database-level GRANT, _ is a wildcard (% too, refused above): vigil_x would also match vigilAx.
DB_PATTERN="$(printf '%s' "$DB" | sed 's/_/\\_/g')"
# The migrator: what every migration from an empty database needs, found by running them
# without each one. DROP for CREATE OR REPLACE VIEW too; REFERENCES only MySQL 8 checks (for
# a foreign key). SELECT also for the views it defines: they read the tables with its rights.
# INSERT and UPDATE: Kysely's bookkeeping and the result_code sync. No DELETE: nothing does.
MIGRATOR_PRIVILEGES='SELECT, INSERT, UPDATE, CREATE, ALTER, DROP, INDEX, REFERENCES, CREATE VIEW'
# The services: rows only. GET_LOCK and information_schema's view of its own tables need nothing more.
SERVICE_PRIVILEGES='SELECT, INSERT, UPDATE, DELETE'

# Whether a user holds exactly the list on the database and nothing else (1 or 0). The
# services keep running across an `up`, so a user already right is not touched: taking
# everything back and granting it again would leave them a moment with no rights at all.
holds_exactly() {
  n="$(printf '%s\n' "$2" | tr ',' '\n' | wc -l)"
  in_list="$(printf '%s' "$2" | sed -e "s/ *, */','/g" -e "s/^/'/" -e "s/\$/'/")"
  schema="$(printf '%s' "$DB_PATTERN" | sed 's/\\/\\\\/g')"
  g="'''$1''@''%'''"
  sql -e "SELECT (SELECT COUNT(*) FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = $g) = $n
    AND (SELECT COUNT(*) FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = $g AND TABLE_SCHEMA = '$schema'
         AND PRIVILEGE_TYPE IN ($in_list) AND IS_GRANTABLE = 'NO') = $n
    AND (SELECT COUNT(*) FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = $g AND PRIVILEGE_TYPE <> 'USAGE') = 0
    AND (SELECT COUNT(*) FROM information_schema.TABLE_PRIVILEGES WHERE GRANTEE = $g) = 0
    AND (SELECT COUNT(*) FROM information_schema.COLUMN_PRIVILEGES WHERE GRANTEE = $g) = 0"
}

# One user: created when missing, its password set (a rotated one applies); unless it
# already holds exactly the list, every privilege is taken back and the list granted again,
# so a list made shorter here is shorter on a site that ran an older version too.
user_sql() {
  printf "CREATE USER IF NOT EXISTS '%s'@'%%' IDENTIFIED BY '%s';\n" "$1" "$2"
  printf "ALTER USER '%s'@'%%' IDENTIFIED BY '%s';\n" "$1" "$2"
  if [ "$(holds_exactly "$1" "$3")" != 1 ]; then
    printf "REVOKE ALL PRIVILEGES, GRANT OPTION FROM '%s'@'%%';\n" "$1"
    printf "GRANT %s ON \`%s\`.* TO '%s'@'%%';\n" "$3" "$DB_PATTERN" "$1"
  fi
}

# printf, not echo: sh's echo would eat the backslashes escaped above.
{
  printf "CREATE DATABASE IF NOT EXISTS \`%s\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;\n" "$DB"
  user_sql "$MIGRATOR_USER" "$MIGRATOR_PW" "$MIGRATOR_PRIVILEGES"
  user_sql "$SERVICE_USER" "$SERVICE_PW" "$SERVICE_PRIVILEGES"
} | sql
printf 'user %s may change the schema of %s: %s\n' "$MIGRATOR_USER" "$DB" "$MIGRATOR_PRIVILEGES"
printf 'user %s may read and write the rows of %s: %s\n' "$SERVICE_USER" "$DB" "$SERVICE_PRIVILEGES"
