package grpcapi

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/watchtower/authplane/platform/apperr"
)

func TestAmountFromDouble(t *testing.T) {
	cases := []struct {
		in     float64
		want   string // the decimal, or the violation's reason
		reason bool
	}{
		{5000, "5000", false},
		{0.5, "0.5", false},
		{1e15, "1000000000000000", false},
		{0, "must_be_positive", true},
		{-1, "must_be_positive", true},
		{math.NaN(), "must_be_positive", true},
		// Regression: these were refused as must_be_positive.
		{1e308, "out_of_range", true},
		{math.Inf(1), "out_of_range", true},
		{1e-300, "out_of_range", true},
	}
	for _, tc := range cases {
		d, err := amountFromDouble("reviewAmount", tc.in)
		if !tc.reason {
			require.NoError(t, err, "%v", tc.in)
			require.Equal(t, tc.want, string(*d), "%v", tc.in)
			continue
		}
		e, ok := apperr.As(err)
		require.True(t, ok, "%v: %v", tc.in, err)
		require.Equal(t, []apperr.FieldViolation{{Field: "reviewAmount", Reason: tc.want}}, e.Fields, "%v", tc.in)
	}
}

func FuzzParsePageToken(f *testing.F) {
	for _, seed := range []string{"", "dHR4bl9hYmM", "czEyMw", "garbage", "%%%", pageToken("txn_0123456789abcdef0123456789abcdef")} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		id, err := parsePageToken(tok)
		if err != nil {
			e, ok := apperr.As(err)
			if !ok || e.Reason != "invalid_page_token" {
				t.Fatalf("%q: unexpected error %v", tok, err)
			}
			return
		}
		if tok == "" {
			if id != "" {
				t.Fatalf("empty token gave %q", id)
			}
			return
		}
		if !validTxnID(id) {
			t.Fatalf("%q: accepted a malformed id %q", tok, id)
		}
		if again, err := parsePageToken(pageToken(id)); err != nil || again != id {
			t.Fatalf("%q: round trip of %q gave %q, %v", tok, id, again, err)
		}
	})
}
