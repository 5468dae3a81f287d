package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/watchtower/authplane/platform/testenv"
)

// TestAgainstRealServices builds the identity and ingestion binaries, starts
// them on free ports against a fresh database, and drives wtctl migrate,
// bootstrap and api-key create through them.
func TestAgainstRealServices(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the identity and ingestion binaries")
	}
	root := workspaceRoot(t)
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+"/", "./services/identity/cmd/identity", "./services/ingestion/cmd/ingestion")
	build.Dir = root
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	_, keys := testenv.Keyring(t)
	_, prefix := testenv.Redis(t)
	vars := map[string]string{
		"WT_POSTGRES_URL":     testenv.Postgres(t),
		"WT_REDIS_URL":        testenv.RedisURL(),
		"WT_REDIS_KEY_PREFIX": prefix,
		"WT_PRINCIPAL_KEYS":   keys,
		"WT_API_KEY_PEPPER":   "wtctl-test-pepper-0123456789abcdef0123456789",
		"WT_IDENTITY_ADDR":    freeAddr(t),
		"WT_INGESTION_ADDR":   freeAddr(t),
	}
	code, stdout, stderr := runCLI(t, []string{"migrate"}, "", vars)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, `"schema":"identity"`)

	startService(t, filepath.Join(bin, "identity"), vars, vars["WT_IDENTITY_ADDR"])
	startService(t, filepath.Join(bin, "ingestion"), vars, vars["WT_INGESTION_ADDR"])

	bootstrap := []string{"bootstrap", "--org", "Acme Bank", "--email", "Admin@Acme.example", "--name", "Ada", "--password-stdin"}
	code, stdout, stderr = runCLI(t, bootstrap, "correct horse battery staple\n", vars)
	require.Equal(t, 0, code, stderr)
	var created struct {
		OrgID  string `json:"orgId"`
		UserID string `json:"userId"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &created))
	require.NotEmpty(t, created.OrgID)
	require.NotEmpty(t, created.UserID)

	code, stdout, stderr = runCLI(t, bootstrap, "correct horse battery staple\n", vars)
	require.Equal(t, exitFailure, code, "a second bootstrap with the same email must fail")
	require.Empty(t, stdout)
	require.Contains(t, stderr, "email_taken")

	code, stdout, stderr = runCLI(t, []string{"api-key", "create", "--org", created.OrgID, "--name", "ci", "--environment", "test"}, "", vars)
	require.Equal(t, 0, code, stderr)
	var key struct {
		APIKey struct {
			ID          string `json:"id"`
			Name        string `json:"name"`
			Environment string `json:"environment"`
		} `json:"apiKey"`
		Secret string `json:"secret"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &key))
	require.NotEmpty(t, key.APIKey.ID)
	require.Equal(t, "ci", key.APIKey.Name)
	require.Equal(t, "test", key.APIKey.Environment)
	require.True(t, strings.HasPrefix(key.Secret, "wt_test_"), "secret %q", key.Secret)
}

func workspaceRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOWORK").Output()
	require.NoError(t, err)
	w := strings.TrimSpace(string(out))
	if w == "" || w == "off" {
		t.Fatal("run inside the go.work workspace")
	}
	return filepath.Dir(w)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// startService runs a service binary with the test's WT_* settings, its gRPC
// port at grpcAddr and a free admin port, and waits for /readyz.
func startService(t *testing.T, path string, vars map[string]string, grpcAddr string) {
	t.Helper()
	admin := freeAddr(t)
	cmd := exec.Command(path, "--grpc-addr", grpcAddr, "--admin-addr", admin, "--log-level", "warn")
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	logFile, err := os.Create(filepath.Join(t.TempDir(), filepath.Base(path)+".log"))
	require.NoError(t, err)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		logFile.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	url := fmt.Sprintf("http://%s/readyz", admin)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case err := <-exited:
			logs, _ := os.ReadFile(logFile.Name())
			t.Fatalf("%s exited during start-up: %v\n%s", path, err, logs)
		case <-ctx.Done():
			logs, _ := os.ReadFile(logFile.Name())
			t.Fatalf("%s not ready at %s: %v\n%s", path, url, ctx.Err(), logs)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
