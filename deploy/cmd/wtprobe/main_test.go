package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestProbe(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/readyz" {
			_, _ = w.Write([]byte(`{"status":"ready"}`))
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := "http://" + lis.Addr().String() + "/readyz"
	require.NoError(t, lis.Close())
	for _, tt := range []struct {
		name string
		url  string
		want int
	}{
		{name: "ready", url: srv.URL + "/readyz", want: 0},
		{name: "not ready", url: srv.URL + "/other", want: 1},
		{name: "nothing listening", url: closed, want: 1},
		{name: "bad url", url: "://", want: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, probe(tt.url, 2*time.Second))
		})
	}
}
