#!/bin/sh
# Run by the one-shot metabase-grants service after `vigil migrate`: the read-only user
# Metabase connects as. It gets SELECT on the report_* views and nothing else. MariaDB runs
# a view with its definer's rights, so the views read the tables for it, and the tables
# (with their image columns) stay closed to it. Idempotent: run at every `up`, so views
# that later migrations add are granted too, and a changed password is applied.
set -eu
DB="${VIGIL_DATABASE:-vigil}"
USER_NAME="${METABASE_DB_USER:-metabase}"
ROOT_PW="$(cat /run/secrets/mariadb_root_password)"
# In a single-quoted SQL string only ' and \ need escaping.
PW="$(sed -e 's/\\/\\\\/g' -e "s/'/''/g" /run/secrets/metabase_db_password)"
export MYSQL_PWD="$ROOT_PW"
sql() { mariadb -h mariadb -u root --batch --skip-column-names "$@"; }

views="$(sql -e "SELECT TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = '$DB' AND TABLE_NAME LIKE 'report\\_%' ORDER BY TABLE_NAME")"
[ -n "$views" ] || { echo "no report_* views in $DB: did vigil migrate run?" >&2; exit 1; }

{
  echo "CREATE USER IF NOT EXISTS '$USER_NAME'@'%' IDENTIFIED BY '$PW';"
  echo "ALTER USER '$USER_NAME'@'%' IDENTIFIED BY '$PW';"
  for v in $views; do echo "GRANT SELECT ON \`$DB\`.\`$v\` TO '$USER_NAME'@'%';"; done
} | sql
echo "user $USER_NAME may read: $(echo $views | tr ' ' ',')"
