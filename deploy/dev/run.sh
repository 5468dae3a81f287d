#!/usr/bin/env bash
# run.sh (`make run`) starts the whole WatchTower stack locally: Postgres and
# Redis (reused or started by deps.sh), migrations, every service and the
# gateway, a demo organization with its admin, and prints how to sign in.
# Ctrl-C stops every process it started.
set -euo pipefail

# shellcheck source=deploy/dev/stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/stack.sh"

"$ROOT/deploy/dev/deps.sh"
stack_env
stack_start

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
  Sign out (unsafe methods need the session's csrfToken):
    curl -i -b /tmp/wt.jar -X POST -H "x-csrf-token: \$(curl -s -b /tmp/wt.jar $GATEWAY_URL/api/v1/auth/session | jq -r .csrfToken)" \\
      $GATEWAY_URL/api/v1/auth/logout
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
