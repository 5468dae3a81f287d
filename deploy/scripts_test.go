package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestScriptsParse runs bash -n over the dev and CI scripts, so a syntax
// error fails `make test` rather than the next `make run`.
func TestScriptsParse(t *testing.T) {
	scripts, err := filepath.Glob(filepath.Join("dev", "*.sh"))
	require.NoError(t, err)
	require.NotEmpty(t, scripts)
	scripts = append(scripts, filepath.Join(repoRoot, ".ci", "run"))
	for _, s := range scripts {
		t.Run(filepath.Base(s), func(t *testing.T) {
			out, err := exec.Command("bash", "-n", s).CombinedOutput()
			require.NoError(t, err, "%s", out)
			if filepath.Base(s) == "stack.sh" {
				return // sourced, not run
			}
			info, err := os.Stat(s)
			require.NoError(t, err)
			require.NotZero(t, info.Mode()&0o111, "%s must be executable", s)
		})
	}
}
