package deploy

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/stretchr/testify/require"
)

// repoRoot is the repository root (this module lives in deploy/).
const repoRoot = ".."

// insecureDefaultKey is the documented development signing key the compose
// file falls back to when WT_PRINCIPAL_KEYS is unset.
const insecureDefaultKey = "dev-insecure:ZGV2LWluc2VjdXJlLWtleS1kby1ub3QtdXNlLWluLXByb2Q="

// watchtowerServices are the long-running WatchTower processes and the
// admin-port address their health check must probe.
var watchtowerServices = map[string]string{
	"identity":  "http://127.0.0.1:9201/readyz",
	"session":   "http://127.0.0.1:9202/readyz",
	"ingestion": "http://127.0.0.1:9203/readyz",
	"authz":     "http://127.0.0.1:9204/readyz",
	"gateway":   "http://127.0.0.1:8080/readyz",
}

func loadCompose(t *testing.T, env []string) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions(
		[]string{filepath.Join(repoRoot, "docker-compose.yml")},
		cli.WithWorkingDirectory(repoRoot),
		cli.WithEnv(env),
		cli.WithProfiles([]string{"tools"}),
	)
	require.NoError(t, err)
	p, err := opts.LoadProject(context.Background())
	require.NoError(t, err, "docker-compose.yml does not load")
	return p
}

func TestComposeServices(t *testing.T) {
	p := loadCompose(t, nil)
	want := []string{"authz", "gateway", "identity", "ingestion", "migrate", "postgres", "redis", "session", "wtctl"}
	got := p.ServiceNames()
	slices.Sort(got)
	require.Equal(t, want, got)
}

func TestComposeHealthChecks(t *testing.T) {
	p := loadCompose(t, nil)
	for name, svc := range p.Services {
		t.Run(name, func(t *testing.T) {
			if name == "migrate" || name == "wtctl" {
				require.Nil(t, svc.HealthCheck, "one-shot jobs have no health check")
				return
			}
			require.NotNil(t, svc.HealthCheck, "long-running service without a health check")
			require.False(t, svc.HealthCheck.Disable)
			require.NotEmpty(t, svc.HealthCheck.Test)
			require.NotNil(t, svc.HealthCheck.Interval)
			require.NotNil(t, svc.HealthCheck.Retries)
			probe, ok := watchtowerServices[name]
			if !ok {
				return
			}
			require.Equal(t, types.HealthCheckTest{"CMD", "/wtprobe", probe}, svc.HealthCheck.Test)
			// The probed port is the one the process is told to listen on.
			u, err := url.Parse(probe)
			require.NoError(t, err)
			listen := "WT_ADMIN_ADDR"
			if name == "gateway" {
				listen = "WT_HTTP_ADDR"
			}
			addr := svc.Environment[listen]
			require.NotNil(t, addr, "%s must set %s", name, listen)
			require.Equal(t, "0.0.0.0:"+u.Port(), *addr)
		})
	}
}

func TestComposeDependsOn(t *testing.T) {
	p := loadCompose(t, nil)
	for name, svc := range p.Services {
		for dep, cond := range svc.DependsOn {
			t.Run(name+"->"+dep, func(t *testing.T) {
				target, ok := p.Services[dep]
				require.True(t, ok, "depends on unknown service %q", dep)
				switch dep {
				case "migrate":
					require.Equal(t, types.ServiceConditionCompletedSuccessfully, cond.Condition)
				default:
					require.Equal(t, types.ServiceConditionHealthy, cond.Condition)
					require.NotNil(t, target.HealthCheck, "%s waits for %s to be healthy, which has no health check", name, dep)
				}
			})
		}
	}
	for _, name := range []string{"identity", "ingestion"} {
		require.Contains(t, p.Services[name].DependsOn, "migrate", "%s must start after the migrations", name)
	}
	for dep := range watchtowerServices {
		if dep != "gateway" {
			require.Contains(t, p.Services["gateway"].DependsOn, dep, "the gateway must wait for %s", dep)
		}
	}
}

func TestComposeBuilds(t *testing.T) {
	p := loadCompose(t, nil)
	for name, svc := range p.Services {
		if svc.Build == nil {
			require.NotEmpty(t, svc.Image, "%s has neither build nor image", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			dockerfile := svc.Build.Dockerfile
			if !filepath.IsAbs(dockerfile) {
				dockerfile = filepath.Join(svc.Build.Context, dockerfile)
			}
			_, err := os.Stat(dockerfile)
			require.NoError(t, err, "Dockerfile named by %s", name)
			cmd := svc.Build.Args["CMD"]
			require.NotNil(t, cmd, "%s must pass the CMD build arg", name)
			_, err = os.Stat(filepath.Join(svc.Build.Context, *cmd, "main.go"))
			require.NoError(t, err, "build arg CMD=%s of %s names no main package", *cmd, name)
		})
	}
}

func TestComposePrincipalKeys(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  []string
		want string
	}{
		{name: "insecure default", env: nil, want: insecureDefaultKey},
		{name: "from the environment", env: []string{"WT_PRINCIPAL_KEYS=prod:c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA=="}, want: "prod:c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA=="},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := loadCompose(t, tt.env)
			for name := range watchtowerServices {
				v := p.Services[name].Environment["WT_PRINCIPAL_KEYS"]
				require.NotNil(t, v, name)
				require.Equal(t, tt.want, *v, name)
			}
		})
	}
	p := loadCompose(t, nil)
	pepper := p.Services["ingestion"].Environment["WT_API_KEY_PEPPER"]
	require.NotNil(t, pepper, "ingestion needs WT_API_KEY_PEPPER")
	require.GreaterOrEqual(t, len(*pepper), 32)
	raw, err := os.ReadFile(filepath.Join(repoRoot, "docker-compose.yml"))
	require.NoError(t, err)
	require.Contains(t, string(raw), "INSECURE", "the default key must be documented as insecure")
}

func TestComposeOnlyGatewayPublished(t *testing.T) {
	p := loadCompose(t, nil)
	for name, svc := range p.Services {
		if name == "gateway" {
			require.Len(t, svc.Ports, 1)
			require.Equal(t, "127.0.0.1", svc.Ports[0].HostIP)
			require.Equal(t, "8080", svc.Ports[0].Published)
			require.EqualValues(t, 8080, svc.Ports[0].Target)
			continue
		}
		require.Empty(t, svc.Ports, "%s must not publish ports", name)
	}
}

var workUse = regexp.MustCompile(`(?m)^\s+\./(\S+)\s*$`)

// TestDockerfileCopiesEveryModule keeps the Dockerfile's module-download
// layer in step with go.work.
func TestDockerfileCopiesEveryModule(t *testing.T) {
	work, err := os.ReadFile(filepath.Join(repoRoot, "go.work"))
	require.NoError(t, err)
	dockerfile, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "docker", "Dockerfile"))
	require.NoError(t, err)
	mods := workUse.FindAllStringSubmatch(string(work), -1)
	require.NotEmpty(t, mods)
	for _, m := range mods {
		want := "COPY " + m[1] + "/go.mod " + m[1] + "/go.sum* " + m[1] + "/"
		require.True(t, strings.Contains(string(dockerfile), want), "Dockerfile lacks %q", want)
	}
}

// TestDockerignoreKeepsSecretsOut checks that the build context never
// carries the dev state (.run holds the dev signing key and demo password).
func TestDockerignoreKeepsSecretsOut(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "docker", "Dockerfile.dockerignore"))
	require.NoError(t, err)
	lines := strings.Split(string(raw), "\n")
	for _, want := range []string{".run", "bin", ".git"} {
		require.Contains(t, lines, want)
	}
}
