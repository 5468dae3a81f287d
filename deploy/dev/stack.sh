# stack.sh is sourced by run.sh and bench.sh: it starts the WatchTower stack
# (identity, authz, session, ingestion, gateway) from bin/ as background
# children of the calling shell and stops them all again.
#
# Before sourcing, the caller may set:
#   RUN_DIR      state directory (default <repo>/.run)
#   PORT_OFFSET  added to every default port (default 0: gateway :8080,
#                gRPC :9101-9104, admin :9200-9204)
#   DB_NAME      dev database name (default watchtower)
#   KEY_PREFIX   Redis key prefix of this stack (default wt:)
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUN_DIR="${RUN_DIR:-$ROOT/.run}"
PORT_OFFSET="${PORT_OFFSET:-0}"
DB_NAME="${DB_NAME:-watchtower}"
KEY_PREFIX="${KEY_PREFIX:-wt:}"
BIN="$ROOT/bin"
LOG_DIR="$RUN_DIR/logs"
READY_DEADLINE="${WT_READY_DEADLINE:-60}"

ADMIN_PG_URL="${WT_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
REDIS_URL="${WT_TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"

port() { echo $(($1 + PORT_OFFSET)); }
GATEWAY_HTTP="127.0.0.1:$(port 8080)"
GATEWAY_URL="http://$GATEWAY_HTTP"
declare -A GRPC_ADDR=(
	[identity]="127.0.0.1:$(port 9101)" [session]="127.0.0.1:$(port 9102)"
	[ingestion]="127.0.0.1:$(port 9103)" [authz]="127.0.0.1:$(port 9104)"
)
declare -A ADMIN_ADDR=(
	[gateway]="127.0.0.1:$(port 9200)" [identity]="127.0.0.1:$(port 9201)" [session]="127.0.0.1:$(port 9202)"
	[ingestion]="127.0.0.1:$(port 9203)" [authz]="127.0.0.1:$(port 9204)"
)
SERVICES=(identity authz session ingestion)
CREDS="$RUN_DIR/demo-credentials"
DEMO_ORG="Demo Bank"
DEMO_EMAIL="admin@demo.watchtower.local"

declare -A CHILD_PID=()
STOPPING=0

log() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }
fail() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# db_url_for NAME prints the admin URL with its database replaced by NAME.
db_url_for() {
	local base="${ADMIN_PG_URL%%\?*}" query=""
	[[ "$ADMIN_PG_URL" == *\?* ]] && query="?${ADMIN_PG_URL#*\?}"
	printf '%s/%s%s\n' "${base%/*}" "$1" "${query:-?sslmode=disable}"
}

# need_tool CMD PACKAGE makes sure CMD exists, installing the Debian PACKAGE
# when running as root.
need_tool() {
	command -v "$1" >/dev/null && return 0
	if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
		log "installing $2 (for $1)"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null 2>&1 ||
			{ DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2"; } >&2 ||
			fail "could not install $2"
		return 0
	fi
	fail "$1 is required (apt-get install $2)"
}

# stack_env prepares the database, the signing key and the WT_* environment.
stack_env() {
	mkdir -p "$RUN_DIR" "$LOG_DIR"
	chmod go-rw "$RUN_DIR" # keep o+x: a private Postgres under it runs as user postgres
	local b
	for b in gateway "${SERVICES[@]}" wtctl; do
		[[ -x "$BIN/$b" ]] || fail "$BIN/$b is missing: run 'make build' first"
	done
	need_tool psql postgresql-client
	need_tool curl curl

	if [[ "$(psql "$ADMIN_PG_URL" -Atqc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" != 1 ]]; then
		log "creating database $DB_NAME"
		psql "$ADMIN_PG_URL" -qc "CREATE DATABASE \"$DB_NAME\"" >/dev/null || fail "could not create database $DB_NAME"
		if [[ -e "$CREDS" ]]; then
			log "the database is new: forgetting the old demo credentials in $CREDS"
			rm -f "$CREDS"
		fi
	fi

	# Secrets generated once per state dir: the principal signing key and the
	# API key hash pepper (changing either voids sessions in flight or keys).
	local envfile="$RUN_DIR/dev.env"
	(umask 077 && touch "$envfile")
	chmod 0600 "$envfile"
	if ! grep -q '^WT_PRINCIPAL_KEYS=' "$envfile"; then
		log "generating a principal signing key in $envfile"
		printf 'WT_PRINCIPAL_KEYS=dev:%s\n' "$(head -c 32 /dev/urandom | base64 -w0)" >>"$envfile"
	fi
	if ! grep -q '^WT_API_KEY_PEPPER=' "$envfile"; then
		log "generating an API key pepper in $envfile"
		printf 'WT_API_KEY_PEPPER=%s\n' "$(head -c 32 /dev/urandom | base64 -w0)" >>"$envfile"
	fi
	set -a
	# shellcheck disable=SC1090
	. "$envfile"
	set +a

	export WT_POSTGRES_URL
	WT_POSTGRES_URL="$(db_url_for "$DB_NAME")"
	export WT_REDIS_URL="$REDIS_URL"
	export WT_REDIS_KEY_PREFIX="$KEY_PREFIX"
	export WT_IDENTITY_ADDR="${GRPC_ADDR[identity]}" WT_SESSION_ADDR="${GRPC_ADDR[session]}"
	export WT_INGESTION_ADDR="${GRPC_ADDR[ingestion]}" WT_AUTHZ_ADDR="${GRPC_ADDR[authz]}"
	export WT_PUBLIC_BASE_URL="$GATEWAY_URL"
	mkdir -p "$RUN_DIR/mail"
	export WT_MAIL_URL="file://$RUN_DIR/mail"
}

# port_busy ADDR reports whether something already listens on host:port.
port_busy() { (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null; }

# start NAME ARGS... starts bin/NAME in the background, logging to LOG_DIR.
start() {
	local name="$1"; shift
	: >"$LOG_DIR/$name.log"
	"$BIN/$name" "$@" >>"$LOG_DIR/$name.log" 2>&1 &
	CHILD_PID[$name]=$!
}

# wait_ready NAME URL polls URL until it answers 2xx, the child dies or the
# deadline passes.
wait_ready() {
	local name="$1" url="$2" end=$((SECONDS + READY_DEADLINE))
	until curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; do
		if ! kill -0 "${CHILD_PID[$name]}" 2>/dev/null; then
			printf '%s exited during start-up; last lines of %s:\n' "$name" "$LOG_DIR/$name.log" >&2
			tail -n 20 "$LOG_DIR/$name.log" >&2
			return 1
		fi
		if ((SECONDS >= end)); then
			printf '%s not ready at %s after %ss; see %s\n' "$name" "$url" "$READY_DEADLINE" "$LOG_DIR/$name.log" >&2
			return 1
		fi
		sleep 0.2
	done
	log "$name ready"
}

# stack_start migrates and starts every service, then the gateway.
stack_start() {
	local addr
	for addr in "$GATEWAY_HTTP" "${GRPC_ADDR[@]}" "${ADMIN_ADDR[@]}"; do
		port_busy "$addr" && fail "$addr is already in use: is another stack running? (stop it, or set PORT_OFFSET)"
	done
	log "applying migrations"
	"$BIN/wtctl" migrate >"$LOG_DIR/migrate.log" 2>&1 || { cat "$LOG_DIR/migrate.log" >&2; fail "wtctl migrate failed"; }

	trap stack_stop EXIT
	trap 'stack_stop; exit 130' INT
	trap 'stack_stop; exit 143' TERM

	local s
	for s in "${SERVICES[@]}"; do
		start "$s" --grpc-addr "${GRPC_ADDR[$s]}" --admin-addr "${ADMIN_ADDR[$s]}"
	done
	for s in "${SERVICES[@]}"; do
		wait_ready "$s" "http://${ADMIN_ADDR[$s]}/readyz" || fail "$s did not become ready"
	done
	start gateway --http-addr "$GATEWAY_HTTP" --admin-addr "${ADMIN_ADDR[gateway]}"
	wait_ready gateway "$GATEWAY_URL/readyz" || fail "gateway did not become ready"
}

# stack_stop sends SIGTERM to every child, waits up to 15 s, then SIGKILLs
# what is left, then runs stack_on_stop when the caller defines one. It runs
# once.
stack_stop() {
	((STOPPING)) && return
	STOPPING=1
	trap - EXIT INT TERM
	local pids=("${CHILD_PID[@]}") pid
	if ((${#pids[@]})); then
		log "stopping ${!CHILD_PID[*]}"
		kill -TERM "${pids[@]}" 2>/dev/null || true
		local end=$((SECONDS + 15))
		for pid in "${pids[@]}"; do
			while kill -0 "$pid" 2>/dev/null && ((SECONDS < end)); do sleep 0.1; done
		done
		for pid in "${pids[@]}"; do
			if kill -0 "$pid" 2>/dev/null; then
				printf 'process %s did not stop in time: SIGKILL\n' "$pid" >&2
				kill -KILL "$pid" 2>/dev/null || true
			fi
			wait "$pid" 2>/dev/null || true
		done
		CHILD_PID=()
		log "stopped"
	fi
	if declare -F stack_on_stop >/dev/null; then stack_on_stop || true; fi
}

# stack_watch returns when a child exits or a signal arrives (the traps stop
# the stack). A child that exits 0 was stopped by a signal (Ctrl-C reaches
# the whole foreground process group, and bash then leaves the signal to the
# children): stack_watch returns 0. Any other exit is reported and returns 1.
stack_watch() {
	local name status
	while :; do
		wait -n "${CHILD_PID[@]}" 2>/dev/null || true
		((STOPPING)) && return 0
		for name in "${!CHILD_PID[@]}"; do
			if ! kill -0 "${CHILD_PID[$name]}" 2>/dev/null; then
				status=0
				wait "${CHILD_PID[$name]}" 2>/dev/null || status=$?
				unset 'CHILD_PID[$name]'
				if ((status == 0)); then
					log "$name stopped"
					return 0
				fi
				printf '%s exited with status %s; last lines of %s:\n' "$name" "$status" "$LOG_DIR/$name.log" >&2
				tail -n 20 "$LOG_DIR/$name.log" >&2
				return 1
			fi
		done
	done
}

# seed_demo bootstraps the demo org and admin once, keeping the credentials
# in a 0600 file that later runs reprint.
seed_demo() {
	if [[ -s "$CREDS" ]]; then
		# The credentials are only good while their org is in this database
		# (another checkout's `make clean-dev` may have dropped and re-made it).
		local known_org
		known_org="$(sed -n 's/^ORG_ID=//p' "$CREDS")"
		if [[ -n "$known_org" && "$(psql "$(db_url_for "$DB_NAME")" -Atqc "SELECT 1 FROM identity.organizations WHERE id = '$known_org'")" == 1 ]]; then
			return 0
		fi
		log "the demo org in $CREDS is not in database $DB_NAME: forgetting those credentials"
		rm -f "$CREDS"
	fi
	local password out email="$DEMO_EMAIL" org="$DEMO_ORG" suffix
	password="$(head -c 18 /dev/urandom | base64 -w0 | tr '+/' '-_')"
	if ! out="$(printf '%s\n' "$password" | "$BIN/wtctl" bootstrap --org "$org" --email "$email" --name "Demo Admin" --password-stdin 2>&1)"; then
		if [[ "$out" != *email_taken* ]]; then
			printf '%s\n' "$out" >&2
			return 1
		fi
		# Another checkout seeded this database and kept the password: leave
		# its org alone and seed one of our own under a fresh address.
		suffix="$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
		email="admin+$suffix@${DEMO_EMAIL#*@}"
		org="$DEMO_ORG $suffix"
		log "$DEMO_EMAIL already exists in database $DB_NAME (seeded by another checkout); seeding \"$org\" with $email"
		if ! out="$(printf '%s\n' "$password" | "$BIN/wtctl" bootstrap --org "$org" --email "$email" --name "Demo Admin" --password-stdin 2>&1)"; then
			printf '%s\n' "$out" >&2
			return 1
		fi
	fi
	local org_id user_id
	org_id="$(sed -n 's/.*"orgId":"\([^"]*\)".*/\1/p' <<<"$out")"
	user_id="$(sed -n 's/.*"userId":"\([^"]*\)".*/\1/p' <<<"$out")"
	(umask 077 && cat >"$CREDS" <<EOF
ORG_ID=$org_id
USER_ID=$user_id
EMAIL=$email
PASSWORD=$password
EOF
)
	log "seeded org \"$org\" ($org_id) and its admin $email"
}

# seed_api_key creates a demo wt_test_ key once, when wtctl can.
seed_api_key() {
	grep -q '^API_KEY=' "$CREDS" && return 0
	local org_id out secret
	org_id="$(sed -n 's/^ORG_ID=//p' "$CREDS")"
	if ! out="$("$BIN/wtctl" api-key create --org "$org_id" --name "demo" --environment test 2>&1)"; then
		printf 'notice: no demo API key yet (wtctl api-key create: %s)\n' "$(tail -n 1 <<<"$out")" >&2
		return 0
	fi
	secret="$(sed -n 's/.*"secret":"\([^"]*\)".*/\1/p' <<<"$out")"
	[[ -n "$secret" ]] || { printf 'notice: wtctl api-key create printed no secret\n' >&2; return 0; }
	printf 'API_KEY=%s\n' "$secret" >>"$CREDS"
	log "created the demo API key"
}
