package ingest

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNormalizeCIDRs(t *testing.T) {
	cases := []struct {
		name string
		in   []string
		want []string
	}{
		{"none", nil, []string{}},
		{"bare addresses", []string{"192.0.2.7", "2001:db8::1"}, []string{"192.0.2.7/32", "2001:db8::1/128"}},
		{"host bits cleared", []string{"10.0.0.1/8"}, []string{"10.0.0.0/8"}},
		{"spaces trimmed", []string{" 10.0.0.0/8 "}, []string{"10.0.0.0/8"}},
		// Regression: an IPv4-mapped entry was stored as such and never
		// matched a client (addresses are compared unmapped).
		{"IPv4-mapped address", []string{"::ffff:127.0.0.1"}, []string{"127.0.0.1/32"}},
		{"IPv4-mapped prefix", []string{"::ffff:10.0.0.0/104"}, []string{"10.0.0.0/8"}},
		{"duplicates once, first position kept", []string{"10.0.0.0/8", "192.0.2.0/24", "10.0.0.0/8", "10.1.2.3/8"}, []string{"10.0.0.0/8", "192.0.2.0/24"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NormalizeCIDRs("allowedCidrs", tc.in)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
	for _, bad := range []string{"", "10.0.0.0/33", "nope", "10.0.0.0/8/8"} {
		_, err := NormalizeCIDRs("allowedCidrs", []string{bad})
		require.Error(t, err, "%q", bad)
	}
}
