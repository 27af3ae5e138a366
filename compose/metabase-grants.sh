#!/bin/sh
# Run by the one-shot metabase-grants service after `vigil migrate`: the read-only user
# Metabase connects as. It gets SELECT on the report_* views and nothing else. MariaDB runs
# a view with its definer's rights, so the views read the tables for it, and the tables
# (with their image columns) stay closed to it. Idempotent: run at every `up`, so views
# that later migrations add are granted too, and a changed password is applied.
# The defaults are the compose stack's; test/integration/metabase-views.test.ts runs this
# very script against the test database with its own values.
set -eu
HOST="${MARIADB_HOST:-mariadb}"
PORT="${MARIADB_PORT:-3306}"
DB="${VIGIL_DATABASE:-vigil}"
USER_NAME="${METABASE_DB_USER:-metabase}"
ROOT_PW="$(cat "${ROOT_PASSWORD_FILE:-/run/secrets/mariadb_root_password}")"
# In a single-quoted SQL string only ' and \ need escaping.
PW="$(sed -e 's/\\/\\\\/g' -e "s/'/''/g" "${METABASE_PASSWORD_FILE:-/run/secrets/metabase_db_password}")"
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
} | sql
echo "user $USER_NAME may read: $(echo $views | tr ' ' ',')"
