#!/usr/bin/env bash
# deps.sh makes sure the Postgres and Redis that tests and `make run` use are
# reachable, in this order of preference:
#   1. they already answer at WT_TEST_POSTGRES_URL / WT_TEST_REDIS_URL: reuse them;
#   2. the server binaries are installed: start private ones (an existing
#      Debian cluster via pg_ctlcluster, else a private initdb data dir under
#      .run/ with trust auth on 127.0.0.1; redis-server without persistence);
#   3. running as root: apt-get install postgresql redis-server, then (2).
# It is idempotent and exits non-zero with a clear message when it cannot.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUN_DIR="${WT_RUN_DIR:-$ROOT/.run}"
PG_URL="${WT_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
REDIS_URL="${WT_TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"
DEADLINE_SECONDS="${WT_DEPS_DEADLINE:-60}"

say() { printf 'deps: %s\n' "$*" >&2; }
die() { printf 'deps: ERROR: %s\n' "$*" >&2; exit 1; }

# url_hostport URL DEFAULT_PORT prints "host port" of a postgres:// or redis:// URL.
url_hostport() {
	local rest="${1#*://}"
	rest="${rest##*@}"
	rest="${rest%%/*}"
	rest="${rest%%\?*}"
	local host="${rest%%:*}" port="$2"
	[[ "$rest" == *:* ]] && port="${rest##*:}"
	[[ -z "$host" ]] && host=127.0.0.1
	printf '%s %s\n' "$host" "$port"
}
read -r PG_HOST PG_PORT < <(url_hostport "$PG_URL" 5432)
read -r REDIS_HOST REDIS_PORT < <(url_hostport "$REDIS_URL" 6379)

# wait_until DESCRIPTION CMD... polls CMD until it succeeds or the deadline passes.
wait_until() {
	local what="$1"; shift
	local end=$((SECONDS + DEADLINE_SECONDS))
	until "$@" >/dev/null 2>&1; do
		if ((SECONDS >= end)); then
			return 1
		fi
		sleep 0.2
	done
	say "$what is ready"
}

pg_query_ok() { psql "$PG_URL" -Atqc 'SELECT 1' >/dev/null 2>&1; }
pg_answers() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; }
redis_ok() { [[ "$(redis-cli -u "$REDIS_URL" ping 2>/dev/null)" == PONG ]]; }

INSTALLED_BY_US=0
apt_install() {
	[[ "$(id -u)" == 0 ]] || die "$* not installed and not root: install them (sudo apt-get install -y $*) or point WT_TEST_POSTGRES_URL / WT_TEST_REDIS_URL at running servers"
	command -v apt-get >/dev/null || die "$* not installed and apt-get is not available"
	say "installing $* with apt-get"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2 || die "apt-get update failed"
	apt-get install -y -qq "$@" >&2 || die "apt-get install $* failed"
	INSTALLED_BY_US=1
}

pg_bindir() {
	local d
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [[ -x "$d/initdb" && -x "$d/pg_ctl" ]]; then
			printf '%s\n' "$d"
			return 0
		fi
	done
	return 1
}

# pg_debian_cluster prints "version name status" of a Debian cluster on PG_PORT.
pg_debian_cluster() {
	command -v pg_lsclusters >/dev/null || return 1
	pg_lsclusters --no-header 2>/dev/null | awk -v port="$PG_PORT" '$3 == port { print $1, $2, $4; found=1; exit } END { exit !found }'
}

# pg_trust_local makes a Debian cluster this script installed accept
# postgres@127.0.0.1 without a password, as the tests expect.
pg_trust_local() {
	local ver="$1" name="$2" hba="/etc/postgresql/$1/$2/pg_hba.conf"
	[[ -w "$hba" ]] || return 1
	if ! grep -q '^host all postgres 127.0.0.1/32 trust' "$hba"; then
		say "allowing postgres@127.0.0.1 without password in $hba (dev cluster installed by this script)"
		sed -i '1i host all postgres 127.0.0.1/32 trust\nhost all postgres ::1/128 trust' "$hba"
	fi
	pg_ctlcluster "$ver" "$name" reload >&2
}

pg_start_private() {
	local bindir="$1" base="$RUN_DIR/postgres"
	local data="$base/data" log="$base/postgres.log"
	local -a as_owner=()
	mkdir -p "$data"
	chmod 0700 "$data"
	if [[ "$(id -u)" == 0 ]]; then
		# initdb refuses to run as root: the directory belongs to the postgres user.
		id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
		as_owner=(runuser -u postgres --)
		chown -R postgres "$base"
		# The postgres user must be able to reach the data dir.
		local p="$RUN_DIR"
		while [[ "$p" != / ]]; do chmod o+x "$p" 2>/dev/null || true; p="$(dirname "$p")"; done
	fi
	if [[ ! -s "$data/PG_VERSION" ]]; then
		say "initialising a private Postgres data dir in $data (trust auth, 127.0.0.1 only)"
		"${as_owner[@]}" "$bindir/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --no-instructions >"$RUN_DIR/initdb.log" 2>&1 ||
			die "initdb failed; see $RUN_DIR/initdb.log"
	fi
	say "starting private Postgres on $PG_HOST:$PG_PORT (log $log)"
	"${as_owner[@]}" "$bindir/pg_ctl" -D "$data" -l "$log" -w -t "$DEADLINE_SECONDS" \
		-o "-c listen_addresses=$PG_HOST -c port=$PG_PORT -c unix_socket_directories=$base -c fsync=off" start >&2 ||
		die "Postgres did not start; see $log"
}

ensure_postgres() {
	if pg_query_ok; then
		say "reusing Postgres at $PG_HOST:$PG_PORT"
		return
	fi
	if pg_answers; then
		die "Postgres answers at $PG_HOST:$PG_PORT but refuses $PG_URL (tests need user postgres with trust auth on 127.0.0.1, or set WT_TEST_POSTGRES_URL)"
	fi
	command -v psql >/dev/null && pg_bindir >/dev/null || apt_install postgresql postgresql-client
	local cluster ver name status
	if cluster="$(pg_debian_cluster)"; then
		read -r ver name status <<<"$cluster"
		if [[ "$status" != online ]]; then
			say "starting Debian cluster $ver/$name"
			pg_ctlcluster "$ver" "$name" start >&2 || die "pg_ctlcluster $ver $name start failed"
		fi
		wait_until "Postgres" pg_answers || die "Postgres cluster $ver/$name did not accept connections within ${DEADLINE_SECONDS}s"
		if ! pg_query_ok && ((INSTALLED_BY_US)); then
			pg_trust_local "$ver" "$name" || true
		fi
		wait_until "Postgres login" pg_query_ok ||
			die "cluster $ver/$name refuses $PG_URL: allow 'host all postgres 127.0.0.1/32 trust' in its pg_hba.conf or set WT_TEST_POSTGRES_URL"
		return
	fi
	pg_start_private "$(pg_bindir)"
	wait_until "Postgres" pg_query_ok || die "private Postgres did not answer within ${DEADLINE_SECONDS}s; see $RUN_DIR/postgres/postgres.log"
}

ensure_redis() {
	if redis_ok; then
		say "reusing Redis at $REDIS_HOST:$REDIS_PORT"
		return
	fi
	command -v redis-server >/dev/null && command -v redis-cli >/dev/null || apt_install redis-server redis-tools
	# A freshly installed package may have started its own server.
	if redis_ok; then
		say "Redis is up at $REDIS_HOST:$REDIS_PORT"
		return
	fi
	mkdir -p "$RUN_DIR"
	say "starting private Redis on $REDIS_HOST:$REDIS_PORT (no persistence; log $RUN_DIR/redis.log)"
	redis-server --daemonize yes --bind "$REDIS_HOST" --port "$REDIS_PORT" --save "" --appendonly no \
		--dir "$RUN_DIR" --logfile "$RUN_DIR/redis.log" --pidfile "$RUN_DIR/redis.pid" >&2 ||
		die "redis-server failed to start; see $RUN_DIR/redis.log"
	wait_until "Redis" redis_ok || die "Redis did not answer PING within ${DEADLINE_SECONDS}s; see $RUN_DIR/redis.log"
}

ensure_postgres
ensure_redis
say "Postgres $PG_HOST:$PG_PORT and Redis $REDIS_HOST:$REDIS_PORT are reachable"
