package logging

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type lockedBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes++
	return l.b.Write(p)
}

func (l *lockedBuffer) snapshot() (string, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String(), l.writes
}

func TestBufferedWriterBatchesAndFlushes(t *testing.T) {
	out := &lockedBuffer{}
	w := NewBufferedWriter(out, time.Hour)
	log := New(w, "test", "info")
	for i := 0; i < 100; i++ {
		log.Info("line", "i", i)
	}
	got, writes := out.snapshot()
	require.Empty(t, got, "nothing written before a flush")
	require.NoError(t, w.Close())
	got, writes = out.snapshot()
	require.Equal(t, 100, strings.Count(got, "\n"))
	require.Equal(t, 1, writes, "one write for a hundred lines")
}

func TestBufferedWriterFlushesPeriodically(t *testing.T) {
	out := &lockedBuffer{}
	w := NewBufferedWriter(out, 5*time.Millisecond)
	defer w.Close()
	New(w, "test", "info").Info("line")
	require.Eventually(t, func() bool { s, _ := out.snapshot(); return strings.Contains(s, `"msg":"line"`) }, 5*time.Second, 5*time.Millisecond)
}
