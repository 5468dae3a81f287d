package e2e_test

import (
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestFailClosedWhenRedisIsDown runs the stack on a private Redis, stops
// that Redis, and checks that the gateway reports not ready and refuses a
// signed-in request with 503 instead of guessing.
func TestFailClosedWhenRedisIsDown(t *testing.T) {
	server, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server is needed for this test (make deps-up installs it): %v", err)
	}
	addr := freeAddr(t)
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	redis := exec.Command(server, "--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	require.NoError(t, redis.Start())
	stopped := false
	stopRedis := func() {
		if !stopped {
			stopped = true
			_ = redis.Process.Kill()
			_ = redis.Wait()
		}
	}
	t.Cleanup(stopRedis)
	waitRedis(t, addr)

	s := StartStack(t, StackOptions{RedisURL: "redis://" + addr + "/0"})
	base := s.Gateways[0]
	bootstrap(t, s, "Acme Bank", "ada@acme.test", adminPassword)
	sess := login(t, base, "ada@acme.test", adminPassword)
	require.Equal(t, http.StatusOK, call(t, http.MethodGet, base+"/readyz", nil).StatusCode)

	stopRedis()
	r := call(t, http.MethodGet, base+"/api/v1/auth/session", nil, sess.headers()...)
	require.Equal(t, http.StatusServiceUnavailable, r.StatusCode, string(r.Body))
	require.Equal(t, "unavailable", r.ErrorCode(t))
	r = call(t, http.MethodGet, base+"/readyz", nil)
	require.Equal(t, http.StatusServiceUnavailable, r.StatusCode, string(r.Body))
	r = call(t, http.MethodPost, base+"/api/v1/auth/login", jsonBody(t, map[string]string{"email": "ada@acme.test", "password": adminPassword}))
	require.Equal(t, http.StatusServiceUnavailable, r.StatusCode, "sign-in fails closed without its throttle store: %s", r.Body)
}

func waitRedis(t *testing.T, addr string) {
	t.Helper()
	for i := 0; i < 200; i++ {
		out, err := exec.Command("redis-cli", "-u", fmt.Sprintf("redis://%s", addr), "ping").Output()
		if err == nil && strings.TrimSpace(string(out)) == "PONG" {
			return
		}
		waitABit(25 * time.Millisecond)
	}
	t.Fatalf("private redis at %s did not start", addr)
}
