#!/usr/bin/env bash
# clean.sh (`make clean-dev`) resets the local dev state: it drops the dev
# databases (watchtower and the bench's), deletes the dev stacks' Redis keys,
# stops a private Postgres or Redis that deps.sh started from .run, and
# removes .run (signing key, demo credentials, logs).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUN_DIR="$ROOT/.run"
ADMIN_PG_URL="${WT_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
REDIS_URL="${WT_TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"

for port in 8080 18080; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		echo "something still listens on 127.0.0.1:$port: stop 'make run' / 'make bench' first" >&2
		exit 1
	fi
done

if psql "$ADMIN_PG_URL" -Atqc 'SELECT 1' >/dev/null 2>&1; then
	for db in watchtower watchtower_bench wtbench_baseline; do
		psql "$ADMIN_PG_URL" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" && echo "dropped database $db"
	done
else
	echo "Postgres is not reachable: databases not dropped" >&2
fi

if [[ "$(redis-cli -u "$REDIS_URL" ping 2>/dev/null)" == PONG ]]; then
	for prefix in 'wt:' 'wtbench:'; do
		redis-cli -u "$REDIS_URL" --scan --pattern "${prefix}*" | xargs -r -n 500 redis-cli -u "$REDIS_URL" del >/dev/null
		echo "deleted the Redis keys under $prefix"
	done
fi

if [[ -s "$RUN_DIR/postgres/data/postmaster.pid" ]]; then
	bindir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
	if [[ "$(id -u)" == 0 ]]; then
		chmod o+x "$RUN_DIR" # the postgres user must reach its data dir
		runuser -u postgres -- "$bindir/pg_ctl" -D "$RUN_DIR/postgres/data" -m fast stop
	else
		"$bindir/pg_ctl" -D "$RUN_DIR/postgres/data" -m fast stop
	fi
fi
if [[ -s "$RUN_DIR/redis.pid" ]] && kill -0 "$(cat "$RUN_DIR/redis.pid")" 2>/dev/null; then
	kill "$(cat "$RUN_DIR/redis.pid")"
fi
rm -rf "$RUN_DIR"
echo "removed $RUN_DIR"
