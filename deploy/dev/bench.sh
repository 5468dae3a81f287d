#!/usr/bin/env bash
# bench.sh (`make bench`) measures the gateway's hot paths on loopback against
# bare baselines measured in the same run (same machine, same Redis and
# Postgres, same load driver), then runs the Go micro-benchmarks:
#
#   1. GET /api/v1/auth/session with a session cookie vs a bare net/http
#      server doing one Redis GET per request (64 connections each);
#   2. the Redis pool of the gateway before and after (new connections after
#      warm-up show up as pool misses);
#   3. the cost of one login (one connection, sequential logins);
#   4. session checks while 16 clients flood POST /api/v1/auth/login, as a
#      fraction of the undisturbed figure;
#   5. POST /api/v1/transactions with unique idempotency keys vs a bare
#      server doing one Redis SET NX and one Postgres INSERT per request
#      (when the demo API key exists);
#   6. go test -bench over every module.
#
# The stack runs on its own ports (gateway :18080), database
# (watchtower_bench) and Redis key prefix (wtbench:), state in .run/bench.
# BENCH_DURATION (default 15s) sets each main phase, BENCH_FLOOD_DURATION
# (default 10s) the two flood phases; both in whole seconds ("15s").
# BENCH_PHASES (default "session,login,ingest,go") picks phases: session (1-2
# and the wrk cross-check), login (3-4), ingest (5), go (6). With WT_PPROF=true
# every binary serves /debug/pprof/ and the ingest phase keeps CPU profiles of
# the gateway and the ingestion service in the results directory.
set -euo pipefail

RUN_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.run/bench"
PORT_OFFSET=10000
DB_NAME=watchtower_bench
KEY_PREFIX="wtbench:"
# shellcheck source=deploy/dev/stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/stack.sh"

DURATION="${BENCH_DURATION:-15s}"
FLOOD_DURATION="${BENCH_FLOOD_DURATION:-10s}"
CONNS="${BENCH_CONNECTIONS:-64}"
PHASES=",${BENCH_PHASES:-session,login,ingest,go},"
phase() { [[ "$PHASES" == *",$1,"* ]]; }
BASELINE_REDIS_ADDR="127.0.0.1:$(port 8090)"
BASELINE_INGEST_ADDR="127.0.0.1:$(port 8091)"
BASELINE_DB=wtbench_baseline
RESULTS="$RUN_DIR/results"

[[ -x "$BIN/wtbench" ]] || fail "$BIN/wtbench is missing: run 'make build'"
need_tool jq jq

"$ROOT/deploy/dev/deps.sh"
# A run leaves about a million idempotency records (24-hour TTL) under its
# prefix, and every later SCAN of this Redis (the tests' clean-up, for one)
# would walk them: delete them when the stack stops, and any a killed run
# left before starting.
clean_redis() { "$BIN/wtbench" clean-redis --redis-url "$REDIS_URL" --prefix "$KEY_PREFIX" >/dev/null || printf 'notice: could not delete the Redis keys under %s\n' "$KEY_PREFIX" >&2; }
stack_on_stop() { log "deleting the bench's Redis keys ($KEY_PREFIX*)"; clean_redis; }
clean_redis
stack_env
stack_start
seed_demo || exit 1
seed_api_key
EMAIL="$(sed -n 's/^EMAIL=//p' "$CREDS")"
PASSWORD="$(sed -n 's/^PASSWORD=//p' "$CREDS")"
API_KEY="$(sed -n 's/^API_KEY=//p' "$CREDS")"
mkdir -p "$RESULTS"

for addr in "$BASELINE_REDIS_ADDR" "$BASELINE_INGEST_ADDR"; do
	port_busy "$addr" && fail "$addr is already in use"
done
if [[ "$(psql "$ADMIN_PG_URL" -Atqc "SELECT 1 FROM pg_database WHERE datname = '$BASELINE_DB'")" != 1 ]]; then
	psql "$ADMIN_PG_URL" -qc "CREATE DATABASE \"$BASELINE_DB\"" >/dev/null
fi
psql "$(db_url_for "$BASELINE_DB")" -qc 'DROP TABLE IF EXISTS wtbench_transactions' >/dev/null 2>&1 || true
: >"$LOG_DIR/baseline-redis.log"
: >"$LOG_DIR/baseline-ingest.log"
"$BIN/wtbench" baseline-redis --addr "$BASELINE_REDIS_ADDR" --redis-url "$REDIS_URL" --key "${KEY_PREFIX}baseline" \
	>>"$LOG_DIR/baseline-redis.log" 2>&1 &
CHILD_PID[baseline-redis]=$!
"$BIN/wtbench" baseline-ingest --addr "$BASELINE_INGEST_ADDR" --redis-url "$REDIS_URL" --redis-key-prefix "${KEY_PREFIX}baseline-idem:" \
	--postgres-url "$(db_url_for "$BASELINE_DB")" >>"$LOG_DIR/baseline-ingest.log" 2>&1 &
CHILD_PID[baseline-ingest]=$!
wait_ready baseline-redis "http://$BASELINE_REDIS_ADDR/" || fail "baseline-redis did not start"
end=$((SECONDS + READY_DEADLINE))
until port_busy "$BASELINE_INGEST_ADDR"; do
	kill -0 "${CHILD_PID[baseline-ingest]}" 2>/dev/null || { tail "$LOG_DIR/baseline-ingest.log" >&2; fail "baseline-ingest exited"; }
	((SECONDS < end)) || fail "baseline-ingest did not listen"
	sleep 0.2
done

# login prints the wt_session cookie pair ("wt_session=…") of a fresh login.
login() {
	local headers
	headers="$(curl -sS -D - -o /dev/null -H 'content-type: application/json' \
		--data "$(jq -nc --arg e "$EMAIL" --arg p "$PASSWORD" '{email: $e, password: $p}')" \
		"$GATEWAY_URL/api/v1/auth/login")" || return 1
	sed -n 's/^[Ss]et-[Cc]ookie: \(wt_session=[^;]*\).*/\1/p' <<<"$headers" | tr -d '\r' | head -n 1
}

# load NAME ARGS... runs wtbench load, keeps its JSON in RESULTS/NAME.json.
load() {
	local name="$1"; shift
	"$BIN/wtbench" load "$@" >"$RESULTS/$name.json" || fail "load $name failed"
}

pool_stats() {
	curl -fsS "http://${ADMIN_ADDR[gateway]}/metrics" 2>/dev/null | grep -E '^watchtower_gateway_redis_pool_[a-z_]+ ' || true
}

summary() { # NAME: one line of throughput and latencies, flagged when not all 2xx
	jq -r --arg n "$1" '"\($n): \(.rps) req/s  p50 \(.p50Ms) ms  p99 \(.p99Ms) ms  statuses \(.statuses|tojson)  errors \(.errors)"
		+ (if ([.statuses|keys[]|select(startswith("2")|not)]|length) > 0 or .errors > 0 then "  <-- WARNING: not all 2xx" else "" end)' "$RESULTS/$1.json"
}
rps() { jq -r .rps "$RESULTS/$1.json"; }
all2xx() { jq -e '([.statuses|keys[]|select(startswith("2")|not)]|length) == 0 and .errors == 0 and .requests > 0' "$RESULTS/$1.json" >/dev/null; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

COOKIE="$(login)" || true
[[ "$COOKIE" == wt_session=* ]] || fail "could not log in as $EMAIL through the gateway (see $LOG_DIR/gateway.log)"
SESSION_URL="$GATEWAY_URL/api/v1/auth/session"
status="$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $COOKIE" "$SESSION_URL")"
[[ "$status" == 200 ]] || fail "GET /api/v1/auth/session with the fresh cookie answered $status"

WRK=0
if phase session; then
log "warm-up (3s each)"
load warmup-session --url "$SESSION_URL" --header "Cookie: $COOKIE" --connections "$CONNS" --duration 3s
load warmup-baseline --url "http://$BASELINE_REDIS_ADDR/" --connections "$CONNS" --duration 3s
POOL_BEFORE="$(pool_stats)"

log "session check through the gateway ($CONNS connections, $DURATION)"
load session --url "$SESSION_URL" --header "Cookie: $COOKIE" --connections "$CONNS" --duration "$DURATION"
POOL_AFTER="$(pool_stats)"
log "baseline: bare net/http + one Redis GET ($CONNS connections, $DURATION)"
load baseline-redis --url "http://$BASELINE_REDIS_ADDR/" --connections "$CONNS" --duration "$DURATION"

# A second opinion from wrk (C, lighter on the shared CPUs) when installed
# (apt-get install wrk); the ratio is what counts, with either driver.
if command -v wrk >/dev/null; then
	WRK=1
	log "wrk cross-check: session vs Redis baseline (2 threads, $CONNS connections, 10s each)"
	wrk -t2 -c"$CONNS" -d10s --latency -H "Cookie: $COOKIE" "$SESSION_URL" >"$RESULTS/wrk-session.txt" 2>&1 || WRK=0
	wrk -t2 -c"$CONNS" -d10s --latency "http://$BASELINE_REDIS_ADDR/" >"$RESULTS/wrk-baseline.txt" 2>&1 || WRK=0
fi
fi # session
wrk_rps() { awk '/^Requests\/sec:/ { print $2 }' "$RESULTS/$1.txt"; }
wrk_lat() { awk -v p="$2" '$1 == p { print $2 }' "$RESULTS/$1.txt"; }
wrk_non2xx() { awk '/Non-2xx or 3xx responses:/ { print $NF }' "$RESULTS/$1.txt"; }

if phase login; then
log "cost of one login (1 connection, 5s)"
LOGIN_BODY="$(jq -nc --arg e "$EMAIL" --arg p "$PASSWORD" '{email: $e, password: $p}')"
load login-single --url "$GATEWAY_URL/api/v1/auth/login" --method POST --header 'Content-Type: application/json' \
	--body-template "$LOGIN_BODY" --connections 1 --duration 5s

# The flood is compared with an undisturbed phase measured just before it, so
# slow drift of the machine does not count as flood damage.
log "session check, undisturbed reference for the flood ($CONNS connections, $FLOOD_DURATION)"
load session-reference --url "$SESSION_URL" --header "Cookie: $COOKIE" --connections "$CONNS" --duration "$FLOOD_DURATION"
log "session check during a login flood (16 login clients, $FLOOD_DURATION)"
flood_secs="$(( ${FLOOD_DURATION%s} + 4 ))"
"$BIN/wtbench" load --url "$GATEWAY_URL/api/v1/auth/login" --method POST --header 'Content-Type: application/json' \
	--body-template "$LOGIN_BODY" --connections 16 --duration "${flood_secs}s" >"$RESULTS/login-flood.json" &
FLOOD_PID=$!
# Let the flood reach steady state before measuring.
sleep 2
load session-under-flood --url "$SESSION_URL" --header "Cookie: $COOKIE" --connections "$CONNS" --duration "$FLOOD_DURATION"
wait "$FLOOD_PID" || fail "login flood load failed"
fi # login

INGEST=0
if phase ingest && [[ -n "$API_KEY" ]]; then
	INGEST=1
	# The per-org ingestion rate limit (default 1000/s, burst 2000) would be
	# what this phase measures; lift it for the bench org only.
	ORG_ID="$(sed -n 's/^ORG_ID=//p' "$CREDS")"
	psql "$(db_url_for "$DB_NAME")" -qc "INSERT INTO ingestion.org_settings (org_id, rate_per_second, rate_burst)
		VALUES ('$ORG_ID', 1000000, 1000000)
		ON CONFLICT (org_id) DO UPDATE SET rate_per_second = 1000000, rate_burst = 1000000, updated_at = now()" >/dev/null
	sleep 6 # the ingestion service caches an org's settings for up to 5 s
	TXN_BODY='{"reference":"BENCH-{{run}}-{{n}}","amount":25000,"currency":"NGN","channel":"MOBILE","transactionType":"DEBIT","transactionCategory":"TRANSFER","timestamp":"2026-12-01T10:00:00.000Z","sender":{"id":"C-{{n}}","name":"Ada","accountNumber":"0123456789","bankCode":"058","partyType":"BANK_ACCOUNT"},"receiver":{"id":"C-2","name":"Bola","accountNumber":"9876543210","bankCode":"011","partyType":"BANK_ACCOUNT"},"narration":"bench"}'
	log "ingestion through the gateway ($CONNS connections, $DURATION)"
	PROFILE_PIDS=()
	if [[ "${WT_PPROF:-}" == true ]]; then
		for b in gateway ingestion; do
			curl -fsS -o "$RESULTS/$b-ingest.pprof" \
				"http://${ADMIN_ADDR[$b]}/debug/pprof/profile?seconds=$(( ${DURATION%s} - 2 ))" &
			PROFILE_PIDS+=($!)
		done
	fi
	load ingest --url "$GATEWAY_URL/api/v1/transactions" --method POST --header 'Content-Type: application/json' \
		--header "x-api-key: $API_KEY" --header 'idempotency-key: bench-{{run}}-{{n}}' \
		--body-template "$TXN_BODY" --connections "$CONNS" --duration "$DURATION"
	log "baseline: bare net/http + Redis SET NX + Postgres INSERT ($CONNS connections, $DURATION)"
	((${#PROFILE_PIDS[@]} == 0)) || wait "${PROFILE_PIDS[@]}" || printf 'notice: a CPU profile failed\n' >&2
	load baseline-ingest --url "http://$BASELINE_INGEST_ADDR/" --method POST --header 'Content-Type: application/json' \
		--header 'idempotency-key: bench-{{run}}-{{n}}' --body-template "$TXN_BODY" --connections "$CONNS" --duration "$DURATION"
elif phase ingest; then
	printf 'notice: no demo API key (wtctl api-key create not available): ingestion bench skipped\n' >&2
fi

stack_stop

log "Go benchmarks (go test -bench . -run '^\$' -benchtime 200ms)"
GOBENCH_STATUS=0
if phase go; then
(cd "$ROOT" && go test -run '^$' -bench . -benchtime 200ms -benchmem \
	./proto/... ./platform/... ./services/identity/... ./services/session/... ./services/ingestion/... \
	./services/authz/... ./gateway/... ./cli/...) >"$RESULTS/gobench.txt" 2>&1 || GOBENCH_STATUS=$?
grep -E '^(Benchmark|goos|cpu|FAIL|---)' "$RESULTS/gobench.txt" | grep -v '^goos' || echo "(no Go benchmarks found)"
fi # go

printf '\n==================== WatchTower bench (%s, %s CPUs, %s connections, %s per phase) ====================\n' \
	"$(date -u +%FT%TZ)" "$(nproc)" "$CONNS" "$DURATION"
if phase session; then
S_RPS="$(rps session)"; B_RPS="$(rps baseline-redis)"
cat <<EOF
$(summary session)
$(summary baseline-redis)
session / baseline ratio: $(ratio "$S_RPS" "$B_RPS")   (target >= 0.5)

$(if ((WRK)); then
	printf 'wrk: session %s req/s (p50 %s, p99 %s%s), baseline %s req/s (p50 %s, p99 %s): ratio %s\n\n' \
		"$(wrk_rps wrk-session)" "$(wrk_lat wrk-session 50%)" "$(wrk_lat wrk-session 99%)" \
		"$(n=$(wrk_non2xx wrk-session); [[ -n "$n" ]] && printf ', %s non-2xx <-- WARNING' "$n")" \
		"$(wrk_rps wrk-baseline)" "$(wrk_lat wrk-baseline 50%)" "$(wrk_lat wrk-baseline 99%)" \
		"$(ratio "$(wrk_rps wrk-session)" "$(wrk_rps wrk-baseline)")"
fi)
EOF
fi
if phase login; then
R_RPS="$(rps session-reference)"; F_RPS="$(rps session-under-flood)"
cat <<EOF
one login (sequential): p50 $(jq -r .p50Ms "$RESULTS/login-single.json") ms, p99 $(jq -r .p99Ms "$RESULTS/login-single.json") ms, $(jq -r .rps "$RESULTS/login-single.json") logins/s on one connection
$(summary session-reference)
$(summary session-under-flood)
$(summary login-flood)
session checks under a 16-client login flood: $(ratio "$F_RPS" "$R_RPS") of undisturbed   (target >= 0.6)
EOF
fi
if ((INGEST)); then
	cat <<EOF

$(summary ingest)
$(summary baseline-ingest)
ingest / baseline ratio: $(if all2xx ingest; then ratio "$(rps ingest)" "$(rps baseline-ingest)"; else echo "n/a (the gateway did not answer 2xx)"; fi)
EOF
fi
echo
if ! phase session; then
	:
elif [[ -n "$POOL_BEFORE" ]]; then
	echo "gateway Redis pool (before -> after the measured session phase):"
	join <(sort <<<"$POOL_BEFORE") <(sort <<<"$POOL_AFTER") | awk '{ printf "  %-45s %10s -> %-10s (%+d)\n", $1, $2, $3, $3 - $2 }'
	misses="$(join <(sort <<<"$POOL_BEFORE") <(sort <<<"$POOL_AFTER") | awk '$1 ~ /_misses$/ { print $3 - $2 }')"
	[[ -n "$misses" ]] && echo "  new Redis connections dialled after warm-up: $misses"
	hits="$(join <(sort <<<"$POOL_BEFORE") <(sort <<<"$POOL_AFTER") | awk '$1 ~ /_hits$/ { print $3 - $2 }')"
	[[ -n "$hits" ]] && printf '  pool checkouts per session request: %s (the measured phase answered %s requests; load-phase only, the pool also serves background work)\n' \
		"$(awk -v h="$hits" -v r="$(jq -r .requests "$RESULTS/session.json")" 'BEGIN { if (r > 0) printf "%.3f", h / r; else print "n/a" }')" \
		"$(jq -r .requests "$RESULTS/session.json")"
else
	echo "gateway Redis pool: no watchtower_gateway_redis_pool_* metrics on http://${ADMIN_ADDR[gateway]}/metrics"
fi
echo "raw results: $RESULTS/*.json, Go benchmarks: $RESULTS/gobench.txt"
exit "$GOBENCH_STATUS"
