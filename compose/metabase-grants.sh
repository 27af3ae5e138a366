#!/bin/sh
# Run by the one-shot metabase-grants service after `vigil migrate`, before Metabase starts,
# for Metabase's two users:
# - the read-only user it reads Vigil's data as. It gets SELECT on the report_* views and
#   nothing else. MariaDB runs a view with its definer's rights, so the views read the
#   tables for it, and the tables (with their image columns) stay closed to it.
# - the user of its own application database (questions, dashboards, its users), kept in
#   MariaDB rather than in an H2 file on a volume. It gets every privilege on that database,
#   since Metabase migrates its own schema, and nothing on Vigil's.
# Idempotent: run at every `up`, so views that later migrations add are granted too, a
# changed password is applied, and the application user's privileges are set anew.
# The defaults are the compose stack's; test/integration/metabase-views.test.ts runs this
# very script against the test database with its own values.
set -eu
HOST="${MARIADB_HOST:-mariadb}"
PORT="${MARIADB_PORT:-3306}"
DB="${VIGIL_DATABASE:-vigil}"
USER_NAME="${METABASE_DB_USER:-metabase}"
APP_DB="${METABASE_APP_DATABASE:-metabase_app}"
APP_USER="${METABASE_APP_DB_USER:-metabase_app}"
# The application database's names are spliced into SQL: only plain ones, so a typo fails here.
for name in "$APP_DB" "$APP_USER"; do
  case "$name" in '' | *[!A-Za-z0-9_]*) echo "refused name '$name': use letters, digits and _ only" >&2; exit 1 ;; esac
done
[ "$APP_DB" != "$DB" ] || { echo "METABASE_APP_DATABASE is $DB, Vigil's own database: Metabase needs one of its own" >&2; exit 1; }
ROOT_PW="$(cat "${ROOT_PASSWORD_FILE:-/run/secrets/root_password}")"
# In a single-quoted SQL string only ' and \ need escaping.
PW="$(sed -e 's/\\/\\\\/g' -e "s/'/''/g" "${METABASE_PASSWORD_FILE:-/run/secrets/metabase_password}")"
APP_PW="$(sed -e 's/\\/\\\\/g' -e "s/'/''/g" "${METABASE_APP_PASSWORD_FILE:-/run/secrets/metabase_app_password}")"
# An empty password would let anyone who reaches the server log in as it.
[ -n "$APP_PW" ] || { echo "METABASE_APP_PASSWORD_FILE is empty" >&2; exit 1; }
# In a database-level GRANT, _ is a wildcard: metabase_app would also match metabaseXapp.
APP_DB_PATTERN="$(printf '%s' "$APP_DB" | sed 's/_/\\_/g')"
# The root password reaches the client through its environment, never its command line.
export MYSQL_PWD="$ROOT_PW"
sql() { mariadb -h "$HOST" -P "$PORT" -u root --batch --skip-column-names "$@"; }

views="$(sql -e "SELECT TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = '$DB' AND TABLE_NAME LIKE 'report\\_%' ORDER BY TABLE_NAME")"
[ -n "$views" ] || { echo "no report_* views in $DB: did vigil migrate run?" >&2; exit 1; }

# printf, not echo: sh's echo would eat the backslashes escaped above.
{
  printf "CREATE USER IF NOT EXISTS '%s'@'%%' IDENTIFIED BY '%s';\n" "$USER_NAME" "$PW"
  printf "ALTER USER '%s'@'%%' IDENTIFIED BY '%s';\n" "$USER_NAME" "$PW"
  for v in $views; do printf "GRANT SELECT ON \`%s\`.\`%s\` TO '%s'@'%%';\n" "$DB" "$v" "$USER_NAME"; done
  printf "CREATE DATABASE IF NOT EXISTS \`%s\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;\n" "$APP_DB"
  printf "CREATE USER IF NOT EXISTS '%s'@'%%' IDENTIFIED BY '%s';\n" "$APP_USER" "$APP_PW"
  printf "ALTER USER '%s'@'%%' IDENTIFIED BY '%s';\n" "$APP_USER" "$APP_PW"
  # Taken back first, so whatever an earlier run or a hand granted beyond its database goes.
  printf "REVOKE ALL PRIVILEGES, GRANT OPTION FROM '%s'@'%%';\n" "$APP_USER"
  printf "GRANT ALL PRIVILEGES ON \`%s\`.* TO '%s'@'%%';\n" "$APP_DB_PATTERN" "$APP_USER"
} | sql
echo "user $USER_NAME may read: $(echo $views | tr ' ' ',')"
echo "user $APP_USER may do anything in $APP_DB and nothing elsewhere"
