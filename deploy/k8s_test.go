package deploy

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// manifests holds every object of deploy/k8s, decoded strictly (an unknown
// or misspelt field fails the test).
type manifests struct {
	deployments map[string]*appsv1.Deployment
	services    map[string]*corev1.Service
	jobs        map[string]*batchv1.Job
	files       []string
}

var docSeparator = regexp.MustCompile(`(?m)^---\s*$`)

func loadManifests(t *testing.T) manifests {
	t.Helper()
	m := manifests{deployments: map[string]*appsv1.Deployment{}, services: map[string]*corev1.Service{}, jobs: map[string]*batchv1.Job{}}
	paths, err := filepath.Glob(filepath.Join("k8s", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	for _, path := range paths {
		if filepath.Base(path) == "kustomization.yaml" {
			continue
		}
		m.files = append(m.files, filepath.Base(path))
		raw, err := os.ReadFile(path)
		require.NoError(t, err)
		for i, doc := range docSeparator.Split(string(raw), -1) {
			if len(bytes.TrimSpace([]byte(doc))) == 0 {
				continue
			}
			var tm metav1.TypeMeta
			require.NoError(t, yaml.Unmarshal([]byte(doc), &tm), "%s document %d", path, i)
			var obj any
			switch tm.Kind {
			case "Deployment":
				d := &appsv1.Deployment{}
				obj = d
				defer func() { m.deployments[d.Name] = d }()
			case "Service":
				s := &corev1.Service{}
				obj = s
				defer func() { m.services[s.Name] = s }()
			case "Job":
				j := &batchv1.Job{}
				obj = j
				defer func() { m.jobs[j.Name] = j }()
			case "ConfigMap":
				obj = &corev1.ConfigMap{}
			case "Namespace":
				obj = &corev1.Namespace{}
			default:
				t.Fatalf("%s document %d: unexpected kind %q", path, i, tm.Kind)
			}
			require.NoError(t, yaml.UnmarshalStrict([]byte(doc), obj), "%s document %d (%s)", path, i, tm.Kind)
		}
	}
	return m
}

func TestK8sDeployments(t *testing.T) {
	m := loadManifests(t)
	var names []string
	for name := range m.deployments {
		names = append(names, name)
	}
	slices.Sort(names)
	require.Equal(t, []string{"authz", "gateway", "identity", "ingestion", "session"}, names)
	for name, d := range m.deployments {
		t.Run(name, func(t *testing.T) {
			require.NotNil(t, d.Spec.Selector)
			for k, v := range d.Spec.Selector.MatchLabels {
				require.Equal(t, v, d.Spec.Template.Labels[k], "selector must match the pod labels")
			}
			require.Len(t, d.Spec.Template.Spec.Containers, 1)
			c := d.Spec.Template.Spec.Containers[0]
			require.Equal(t, "watchtower/"+name+":latest", c.Image)
			ports := map[string]int32{}
			for _, p := range c.Ports {
				ports[p.Name] = p.ContainerPort
			}
			for _, probe := range []struct {
				kind string
				p    *corev1.Probe
				path string
			}{{"readiness", c.ReadinessProbe, "/readyz"}, {"liveness", c.LivenessProbe, "/healthz"}} {
				require.NotNil(t, probe.p, "%s probe missing", probe.kind)
				require.NotNil(t, probe.p.HTTPGet, "%s probe must be an HTTP GET", probe.kind)
				require.Equal(t, probe.path, probe.p.HTTPGet.Path, "%s probe path", probe.kind)
				require.Contains(t, ports, probe.p.HTTPGet.Port.String(), "%s probe names a port the container does not declare", probe.kind)
			}
			require.False(t, c.Resources.Requests.Cpu().IsZero(), "cpu request")
			require.False(t, c.Resources.Requests.Memory().IsZero(), "memory request")
			require.False(t, c.Resources.Limits.Memory().IsZero(), "memory limit")
			var keyRef *corev1.SecretKeySelector
			for _, e := range c.Env {
				if e.Name == "WT_PRINCIPAL_KEYS" {
					require.Empty(t, e.Value, "the signing key must not be inline")
					require.NotNil(t, e.ValueFrom)
					keyRef = e.ValueFrom.SecretKeyRef
				}
			}
			require.NotNil(t, keyRef, "WT_PRINCIPAL_KEYS must come from a Secret")
			require.Equal(t, "watchtower-principal-keys", keyRef.Name)
			require.NotNil(t, c.SecurityContext)
			require.NotNil(t, c.SecurityContext.RunAsNonRoot)
			require.True(t, *c.SecurityContext.RunAsNonRoot)

			svc, ok := m.services[name]
			require.True(t, ok, "Deployment %s has no Service", name)
			require.Equal(t, d.Spec.Selector.MatchLabels, svc.Spec.Selector)
			for _, sp := range svc.Spec.Ports {
				require.Contains(t, ports, sp.TargetPort.String(), "Service port %s targets an undeclared container port", sp.Name)
			}
		})
	}
}

func TestK8sMigrateJob(t *testing.T) {
	m := loadManifests(t)
	j, ok := m.jobs["migrate"]
	require.True(t, ok)
	c := j.Spec.Template.Spec.Containers[0]
	require.Equal(t, []string{"migrate"}, c.Args)
	require.Equal(t, "watchtower/wtctl:latest", c.Image)
}

func TestK8sIngestionPepperFromSecret(t *testing.T) {
	m := loadManifests(t)
	var ref *corev1.SecretKeySelector
	for _, e := range m.deployments["ingestion"].Spec.Template.Spec.Containers[0].Env {
		if e.Name == "WT_API_KEY_PEPPER" && e.ValueFrom != nil {
			ref = e.ValueFrom.SecretKeyRef
		}
	}
	require.NotNil(t, ref, "ingestion must read WT_API_KEY_PEPPER from a Secret")
}

func TestK8sKustomizationListsEveryFile(t *testing.T) {
	m := loadManifests(t)
	raw, err := os.ReadFile(filepath.Join("k8s", "kustomization.yaml"))
	require.NoError(t, err)
	var k struct {
		APIVersion string   `json:"apiVersion"`
		Kind       string   `json:"kind"`
		Namespace  string   `json:"namespace"`
		Resources  []string `json:"resources"`
	}
	require.NoError(t, yaml.UnmarshalStrict(raw, &k))
	got := slices.Clone(k.Resources)
	slices.Sort(got)
	want := slices.Clone(m.files)
	slices.Sort(want)
	require.Equal(t, want, got)
}
