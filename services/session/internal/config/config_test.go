package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLoad(t *testing.T) {
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	for _, tt := range []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
		check   func(t *testing.T, c Config)
	}{
		{
			name: "defaults",
			env:  map[string]string{"WT_PRINCIPAL_KEYS": "k:c2VjcmV0"},
			check: func(t *testing.T, c Config) {
				require.Equal(t, "127.0.0.1:9102", c.GRPCAddr)
				require.Equal(t, "127.0.0.1:9202", c.AdminAddr)
				require.Equal(t, "wt:", c.RedisKeyPrefix)
				require.Equal(t, 30*time.Minute, c.IdleTimeout)
				require.Equal(t, 12*time.Hour, c.AbsoluteTimeout)
			},
		},
		{
			name: "flag wins over env",
			args: []string{"--session-idle-timeout", "10m"},
			env:  map[string]string{"WT_PRINCIPAL_KEYS": "k:c2VjcmV0", "WT_SESSION_IDLE_TIMEOUT": "20m"},
			check: func(t *testing.T, c Config) {
				require.Equal(t, 10*time.Minute, c.IdleTimeout)
			},
		},
		{name: "keys required", wantErr: "principal-keys"},
		{name: "absolute shorter than idle", args: []string{"--principal-keys", "k:x", "--session-absolute-timeout", "5m"}, wantErr: "absolute"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := Load(tt.args, env(tt.env))
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			tt.check(t, c)
		})
	}
}
