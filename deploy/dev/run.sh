#!/usr/bin/env bash
# run.sh (`make run`) starts the whole WatchTower stack locally: Postgres and
# Redis (reused or started by deps.sh), migrations, every service and the
# gateway, a demo organization with its admin, and prints how to sign in.
# Ctrl-C stops every process it started.
set -euo pipefail

# shellcheck source=deploy/dev/stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/stack.sh"

CREDS="$RUN_DIR/demo-credentials"
DEMO_ORG="Demo Bank"
DEMO_EMAIL="admin@demo.watchtower.local"

"$ROOT/deploy/dev/deps.sh"
stack_env
stack_start

# seed_demo bootstraps the demo org and admin once, keeping the credentials
# in a 0600 file that later runs reprint.
seed_demo() {
	if [[ -s "$CREDS" ]]; then
		return 0
	fi
	local password out
	password="$(head -c 18 /dev/urandom | base64 -w0 | tr '+/' '-_')"
	if ! out="$(printf '%s\n' "$password" | "$BIN/wtctl" bootstrap --org "$DEMO_ORG" --email "$DEMO_EMAIL" --name "Demo Admin" --password-stdin 2>&1)"; then
		printf '%s\n' "$out" >&2
		if [[ "$out" == *email_taken* || "$out" == *AlreadyExists* ]]; then
			printf '\nThe demo org already exists in database %s but %s (its password) is lost.\nReset the dev state with: make clean-dev   (drops the dev database and .run), then make run again.\n' "$DB_NAME" "$CREDS" >&2
		fi
		return 1
	fi
	local org_id user_id
	org_id="$(sed -n 's/.*"orgId":"\([^"]*\)".*/\1/p' <<<"$out")"
	user_id="$(sed -n 's/.*"userId":"\([^"]*\)".*/\1/p' <<<"$out")"
	(umask 077 && cat >"$CREDS" <<EOF
ORG_ID=$org_id
USER_ID=$user_id
EMAIL=$DEMO_EMAIL
PASSWORD=$password
EOF
)
	log "seeded org \"$DEMO_ORG\" ($org_id) and its admin $DEMO_EMAIL"
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

seed_demo || exit 1
seed_api_key
chmod 0600 "$CREDS"

EMAIL="$(sed -n 's/^EMAIL=//p' "$CREDS")"
PASSWORD="$(sed -n 's/^PASSWORD=//p' "$CREDS")"
API_KEY="$(sed -n 's/^API_KEY=//p' "$CREDS")"

cat <<EOF

  WatchTower is running.

  Console   $GATEWAY_URL
  Email     $EMAIL
  Password  $PASSWORD
EOF
[[ -n "$API_KEY" ]] && printf '  API key   %s  (test environment)\n' "$API_KEY"
cat <<EOF
  (kept in $CREDS; logs in $LOG_DIR)

  Sign in with curl (the cookie jar keeps wt_session):
    curl -i -c /tmp/wt.jar -H 'content-type: application/json' \\
      -d '{"email":"$EMAIL","password":"$PASSWORD"}' $GATEWAY_URL/api/v1/auth/login
    curl -i -b /tmp/wt.jar $GATEWAY_URL/api/v1/auth/session
EOF
if [[ -n "$API_KEY" ]]; then
	cat <<EOF
  Send a transaction:
    curl -i -H "x-api-key: $API_KEY" -H "idempotency-key: \$(date +%s%N)" -H 'content-type: application/json' \\
      -d '{"reference":"TXN-'\$RANDOM'","amount":25000,"currency":"NGN","channel":"MOBILE","transactionType":"DEBIT","transactionCategory":"TRANSFER","timestamp":"2026-12-01T10:00:00.000Z","sender":{"id":"C-1"},"receiver":{"id":"C-2"}}' \\
      $GATEWAY_URL/api/v1/transactions
EOF
fi
printf '\n  Press Ctrl-C to stop.\n\n'

stack_watch || exit 1
