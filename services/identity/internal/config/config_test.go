package config_test

import (
	"bytes"
	"encoding/base64"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/watchtower/authplane/services/identity/internal/argon2id"
	"github.com/watchtower/authplane/services/identity/internal/config"
)

var secret = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))

func env(kv map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := kv[k]; return v, ok }
}

func TestLoad(t *testing.T) {
	for _, tt := range []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
		check   func(t *testing.T, c config.Config)
	}{
		{name: "defaults", env: map[string]string{"WT_PRINCIPAL_KEYS": "k1:" + secret}, check: func(t *testing.T, c config.Config) {
			require.Equal(t, "127.0.0.1:9101", c.GRPCAddr)
			require.Equal(t, "127.0.0.1:9201", c.AdminAddr)
			require.Equal(t, "postgres://postgres@127.0.0.1:5432/watchtower?sslmode=disable", c.PostgresURL)
			require.Equal(t, argon2id.DefaultParams, c.Argon2)
			require.GreaterOrEqual(t, c.MaxConcurrentHashes, 1)
			require.Equal(t, 50, c.HashDutyPercent)
			require.Len(t, c.PrincipalKeys, 1)
			require.Equal(t, "k1", c.PrincipalKeys[0].ID)
		}},
		{name: "flag wins over env", args: []string{"--grpc-addr", "127.0.0.1:7000", "--max-concurrent-hashes", "3"},
			env: map[string]string{"WT_PRINCIPAL_KEYS": "k1:" + secret, "WT_GRPC_ADDR": "127.0.0.1:6000", "WT_ARGON2_TIME": "3"},
			check: func(t *testing.T, c config.Config) {
				require.Equal(t, "127.0.0.1:7000", c.GRPCAddr)
				require.Equal(t, 3, c.MaxConcurrentHashes)
				require.Equal(t, uint32(3), c.Argon2.Time)
			}},
		{name: "keys required", wantErr: "--principal-keys"},
		{name: "short key", args: []string{"--principal-keys", "k1:c2hvcnQ"}, wantErr: "--principal-keys"},
		{name: "weak memory", args: []string{"--principal-keys", "k1:" + secret, "--argon2-memory-kib", "4096"}, wantErr: "memory"},
		{name: "one pass", args: []string{"--principal-keys", "k1:" + secret, "--argon2-time", "1"}, wantErr: "time"},
		{name: "threads out of range", args: []string{"--principal-keys", "k1:" + secret, "--argon2-threads", "300"}, wantErr: "out of range"},
		{name: "no hash slots", args: []string{"--principal-keys", "k1:" + secret, "--max-concurrent-hashes", "0"}, wantErr: "--max-concurrent-hashes"},
		{name: "hash duty zero", args: []string{"--principal-keys", "k1:" + secret, "--hash-duty-percent", "0"}, wantErr: "--hash-duty-percent"},
		{name: "hash duty over 100", env: map[string]string{"WT_PRINCIPAL_KEYS": "k1:" + secret, "WT_HASH_DUTY_PERCENT": "150"}, wantErr: "--hash-duty-percent"},
		{name: "bad log level", args: []string{"--principal-keys", "k1:" + secret, "--log-level", "loud"}, wantErr: "--log-level"},
		{name: "bad env integer", env: map[string]string{"WT_PRINCIPAL_KEYS": "k1:" + secret, "WT_ARGON2_TIME": "two"}, wantErr: "WT_ARGON2_TIME"},
		{name: "stray argument", args: []string{"--principal-keys", "k1:" + secret, "extra"}, wantErr: "unexpected arguments"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := config.Load(tt.args, env(tt.env))
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			tt.check(t, c)
		})
	}
}

func TestEffectiveConfigMasksSecrets(t *testing.T) {
	_, set, err := config.Load([]string{"--principal-keys", "k1:" + secret,
		"--postgres-url", "postgres://app:hunter2-pw@db:5432/wt"}, env(nil))
	require.NoError(t, err)
	var buf bytes.Buffer
	set.Log(slog.New(slog.NewJSONHandler(&buf, nil)))
	out := buf.String()
	require.Contains(t, out, "argon2-memory-kib")
	require.NotContains(t, out, secret)
	require.False(t, strings.Contains(out, "hunter2-pw"), out)
}
