package e2e_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/watchtower/authplane/platform/testenv"
)

var (
	portsMu    sync.Mutex
	portsTaken = map[int]bool{}
)

// binDir holds the binaries built once for this test run.
var binDir string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(0)
	}
	code, err := buildAndRun(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func buildAndRun(m *testing.M) (int, error) {
	dir, err := os.MkdirTemp("", "wt-e2e-bin-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	root, err := repoRoot()
	if err != nil {
		return 0, err
	}
	cmd := exec.Command("go", "build", "-o", dir+"/",
		"./gateway/cmd/gateway", "./services/identity/cmd/identity", "./services/session/cmd/session",
		"./services/ingestion/cmd/ingestion", "./services/authz/cmd/authz", "./cli/cmd/wtctl")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("go build: %v\n%s", err, out)
	}
	binDir = dir
	return m.Run(), nil
}

func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOWORK").Output()
	if err != nil {
		return "", err
	}
	w := strings.TrimSpace(string(out))
	if w == "" || w == "off" {
		return "", fmt.Errorf("e2e tests run inside the go.work workspace")
	}
	return filepath.Dir(w), nil
}

// freeAddr picks a free loopback port below the kernel's ephemeral range
// (32768-60999 on Linux), so that no outgoing connection of this machine
// (to Redis, Postgres, a service) can take it between this check and the
// binary's bind — the race ":0, close, reuse" loses under load.
//
// A port is handed out once per test process: a checked port is closed again
// at once, so without the record a later pick could return it a second time.
func freeAddr(t *testing.T) string {
	t.Helper()
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 100 {
		port := 20000 + mrand.IntN(12000)
		if portsTaken[port] {
			continue
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		l, err := net.Listen("tcp", addr)
		if err == nil {
			l.Close()
			portsTaken[port] = true
			return addr
		}
	}
	t.Fatal("no free loopback port in 20000-31999")
	return ""
}

// proc is one running binary with its captured log.
type proc struct {
	name string
	cmd  *exec.Cmd
	mu   sync.Mutex
	log  bytes.Buffer
	done chan struct{}
}

func (p *proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.Write(b)
}

func (p *proc) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// Stack is the whole auth plane started from the real binaries on free
// loopback ports, over a fresh Postgres database and Redis key prefix.
type Stack struct {
	t            *testing.T
	PostgresURL  string
	RedisURL     string
	RedisPrefix  string
	PrincipalKey string
	Addr         map[string]string // service -> gRPC address
	Admin        map[string]string
	Gateways     []string // base URLs
	procs        []*proc
}

// StackOptions tunes StartStack.
type StackOptions struct {
	Gateways int
	RedisURL string
	// Env adds WT_* settings to every process.
	Env []string
}

// StartStack starts identity, authz, session, ingestion and the gateways and
// waits until each answers /readyz.
func StartStack(t *testing.T, o StackOptions) *Stack {
	t.Helper()
	if o.Gateways == 0 {
		o.Gateways = 1
	}
	s := &Stack{t: t, Addr: map[string]string{}, Admin: map[string]string{}}
	s.PostgresURL = testenv.Postgres(t)
	_, s.RedisPrefix = testenv.Redis(t)
	s.RedisURL = testenv.RedisURL()
	if o.RedisURL != "" {
		s.RedisURL = o.RedisURL
	}
	_, s.PrincipalKey = testenv.Keyring(t)
	for _, name := range []string{"identity", "authz", "session", "ingestion"} {
		s.Addr[name], s.Admin[name] = freeAddr(t), freeAddr(t)
	}
	common := append([]string{
		"WT_POSTGRES_URL=" + s.PostgresURL,
		"WT_REDIS_URL=" + s.RedisURL,
		"WT_REDIS_KEY_PREFIX=" + s.RedisPrefix,
		"WT_PRINCIPAL_KEYS=" + s.PrincipalKey,
		"WT_IDENTITY_ADDR=" + s.Addr["identity"],
		"WT_SESSION_ADDR=" + s.Addr["session"],
		"WT_INGESTION_ADDR=" + s.Addr["ingestion"],
		"WT_AUTHZ_ADDR=" + s.Addr["authz"],
		"WT_LOG_LEVEL=debug",
		"WT_API_KEY_PEPPER=" + s.PrincipalKey + "-pepper",
	}, o.Env...)
	for _, name := range []string{"identity", "authz", "session", "ingestion"} {
		s.start(name, name, append(common, "WT_GRPC_ADDR="+s.Addr[name], "WT_ADMIN_ADDR="+s.Admin[name]))
	}
	for _, name := range []string{"identity", "authz", "session", "ingestion"} {
		s.waitReady(name, "http://"+s.Admin[name]+"/readyz")
	}
	for i := 0; i < o.Gateways; i++ {
		httpAddr, adminAddr := freeAddr(t), freeAddr(t)
		name := fmt.Sprintf("gateway%d", i)
		base := "http://" + httpAddr
		s.start(name, "gateway", append(common, "WT_HTTP_ADDR="+httpAddr, "WT_ADMIN_ADDR="+adminAddr, "WT_PUBLIC_BASE_URL="+base))
		s.Admin[name] = adminAddr
		s.Gateways = append(s.Gateways, base)
	}
	for i, base := range s.Gateways {
		s.waitReady(fmt.Sprintf("gateway%d", i), base+"/readyz")
	}
	return s
}

func (s *Stack) start(name, bin string, env []string) *proc {
	s.t.Helper()
	p := &proc{name: name, done: make(chan struct{})}
	p.cmd = exec.Command(filepath.Join(binDir, bin))
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p, p
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(s.t, p.cmd.Start(), name)
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	s.procs = append(s.procs, p)
	s.t.Cleanup(func() { s.stop(p) })
	return p
}

func (s *Stack) stop(p *proc) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	if s.t.Failed() {
		s.t.Logf("--- %s log ---\n%s", p.name, p.Log())
	}
}

// StopAll stops every process (gracefully), so their logs are complete.
func (s *Stack) StopAll() {
	for i := len(s.procs) - 1; i >= 0; i-- {
		s.stop(s.procs[i])
	}
}

// Logs returns every process's log so far.
func (s *Stack) Logs() string {
	var b strings.Builder
	for _, p := range s.procs {
		b.WriteString(p.Log())
	}
	return b.String()
}

// waitReady polls url until 200, with a deadline.
func (s *Stack) waitReady(name, url string) {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		for _, p := range s.procs {
			select {
			case <-p.done:
				s.t.Fatalf("%s exited while waiting for %s:\n%s", p.name, name, p.Log())
			default:
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s not ready at %s within 30s (last error %v)\n%s", name, url, err, s.Logs())
		}
		waitABit(50 * time.Millisecond)
	}
}

// waitABit paces a polling loop (never used to wait for an outcome).
func waitABit(d time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	<-ctx.Done()
}

// Wtctl runs the admin CLI against the stack with stdin.
func (s *Stack) Wtctl(stdin string, args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(binDir, "wtctl"), args...)
	cmd.Env = append(os.Environ(),
		"WT_POSTGRES_URL="+s.PostgresURL,
		"WT_PRINCIPAL_KEYS="+s.PrincipalKey,
		"WT_IDENTITY_ADDR="+s.Addr["identity"],
		"WT_INGESTION_ADDR="+s.Addr["ingestion"],
	)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("wtctl %v: %w: %s", args, err, errb.String())
	}
	return out.String(), nil
}
