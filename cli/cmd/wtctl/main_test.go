package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/watchtower/authplane/platform/testenv"
)

// env returns a lookup over a fixed environment, so tests ignore the
// developer's WT_* variables.
func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

func runCLI(t *testing.T, args []string, stdin string, vars map[string]string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, streams{strings.NewReader(stdin), &stdout, &stderr}, env(vars))
	return code, stdout.String(), stderr.String()
}

func TestArgumentErrors(t *testing.T) {
	_, keys := testenv.Keyring(t)
	withKeys := map[string]string{"WT_PRINCIPAL_KEYS": keys}
	for _, tt := range []struct {
		name    string
		args    []string
		stdin   string
		vars    map[string]string
		wantErr string
	}{
		{name: "no command", args: nil, wantErr: "usage: wtctl"},
		{name: "unknown command", args: []string{"frobnicate"}, wantErr: `unknown command "frobnicate"`},
		{name: "migrate unknown flag", args: []string{"migrate", "--nope"}, wantErr: "flag provided but not defined"},
		{name: "migrate stray argument", args: []string{"migrate", "extra"}, wantErr: "unexpected arguments"},
		{name: "bootstrap without org", args: []string{"bootstrap", "--email", "a@b.example", "--password-stdin"}, vars: withKeys, wantErr: "--org is required"},
		{name: "bootstrap without email", args: []string{"bootstrap", "--org", "Acme", "--password-stdin"}, vars: withKeys, wantErr: "--email is required"},
		{name: "bootstrap without password-stdin", args: []string{"bootstrap", "--org", "Acme", "--email", "a@b.example"}, vars: withKeys, wantErr: "--password-stdin is required"},
		{name: "bootstrap without keys", args: []string{"bootstrap", "--org", "Acme", "--email", "a@b.example", "--password-stdin"}, stdin: "correct horse battery\n", wantErr: "WT_PRINCIPAL_KEYS"},
		{name: "bootstrap bad keys", args: []string{"bootstrap", "--org", "Acme", "--email", "a@b.example", "--password-stdin"}, stdin: "correct horse battery\n", vars: map[string]string{"WT_PRINCIPAL_KEYS": "dev:c2hvcnQ"}, wantErr: "dev"},
		{name: "bootstrap empty password", args: []string{"bootstrap", "--org", "Acme", "--email", "a@b.example", "--password-stdin"}, stdin: "\n", vars: withKeys, wantErr: "empty password"},
		{name: "bootstrap bad bool env", args: []string{"bootstrap", "--org", "Acme", "--email", "a@b.example"}, vars: map[string]string{"WT_PASSWORD_STDIN": "maybe"}, wantErr: "not a boolean"},
		{name: "api-key without sub-command", args: []string{"api-key"}, vars: withKeys, wantErr: `sub-command "create"`},
		{name: "api-key create without org", args: []string{"api-key", "create", "--name", "k", "--environment", "test"}, vars: withKeys, wantErr: "--org is required"},
		{name: "api-key create without name", args: []string{"api-key", "create", "--org", "o1", "--environment", "test"}, vars: withKeys, wantErr: "--name is required"},
		{name: "api-key create bad environment", args: []string{"api-key", "create", "--org", "o1", "--name", "k", "--environment", "prod"}, vars: withKeys, wantErr: "--environment must be"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.args, tt.stdin, tt.vars)
			require.Equal(t, exitUsage, code, "stderr: %s", stderr)
			require.Empty(t, stdout)
			require.Contains(t, stderr, tt.wantErr)
		})
	}
}

func TestHelpExitsZero(t *testing.T) {
	code, stdout, _ := runCLI(t, []string{"help"}, "", nil)
	require.Equal(t, 0, code)
	require.Contains(t, stdout, "migrate")
}

func TestBootstrapUnreachableIdentityFails(t *testing.T) {
	_, keys := testenv.Keyring(t)
	code, stdout, stderr := runCLI(t,
		[]string{"bootstrap", "--org", "Acme", "--email", "a@b.example", "--password-stdin", "--identity-addr", "127.0.0.1:1"},
		"correct horse battery staple\n", map[string]string{"WT_PRINCIPAL_KEYS": keys})
	require.Equal(t, exitFailure, code)
	require.Empty(t, stdout)
	require.Contains(t, stderr, "Unavailable")
	require.NotContains(t, stderr, "correct horse", "the password must never be echoed")
}

func TestMigrateIsIdempotent(t *testing.T) {
	url := testenv.Postgres(t)
	vars := map[string]string{"WT_POSTGRES_URL": url}
	var outputs []string
	for i := 0; i < 2; i++ {
		code, stdout, stderr := runCLI(t, []string{"migrate"}, "", vars)
		require.Equal(t, 0, code, "run %d stderr: %s", i+1, stderr)
		outputs = append(outputs, stdout)
	}
	require.Equal(t, outputs[0], outputs[1], "a second migrate must change nothing")
	var got struct {
		Migrated []migrateResult `json:"migrated"`
	}
	require.NoError(t, json.Unmarshal([]byte(outputs[0]), &got))
	require.Len(t, got.Migrated, len(serviceMigrations))
	for i, m := range serviceMigrations {
		require.Equal(t, m.schema, got.Migrated[i].Schema)
		require.NotEmpty(t, got.Migrated[i].Versions, "schema %s has no applied migration", m.schema)
	}
}

func TestMigrateUnreachablePostgresFails(t *testing.T) {
	code, stdout, stderr := runCLI(t, []string{"migrate", "--postgres-url", "postgres://postgres@127.0.0.1:1/watchtower?sslmode=disable&connect_timeout=2"}, "", nil)
	require.Equal(t, exitFailure, code)
	require.Empty(t, stdout)
	require.Contains(t, stderr, "migrate identity")
}

func TestAPIKeyCreateUnreachableIngestionFails(t *testing.T) {
	_, keys := testenv.Keyring(t)
	code, stdout, stderr := runCLI(t,
		[]string{"api-key", "create", "--org", "o1", "--name", "demo", "--environment", "test", "--ingestion-addr", "127.0.0.1:1"},
		"", map[string]string{"WT_PRINCIPAL_KEYS": keys})
	require.Equal(t, exitFailure, code)
	require.Empty(t, stdout)
	require.Contains(t, stderr, "Unavailable")
}
