package apperr

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestValidationListsEachDistinctViolationOnce(t *testing.T) {
	many := func(n int, f func(i int) FieldViolation) []FieldViolation {
		out := make([]FieldViolation, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	cases := []struct {
		name   string
		in     []FieldViolation
		want   int
		first  FieldViolation
		second *FieldViolation
	}{
		{"one", []FieldViolation{{"a", "required"}}, 1, FieldViolation{"a", "required"}, nil},
		{"the same twice", []FieldViolation{{"a", "required"}, {"a", "required"}}, 1, FieldViolation{"a", "required"}, nil},
		{"one field, two reasons", []FieldViolation{{"a", "required"}, {"a", "too_long"}}, 2, FieldViolation{"a", "required"}, &FieldViolation{"a", "too_long"}},
		// Regression: 40000 duplicated keys answered 40000 entries (1.76 MB).
		{"a duplicated key 40000 times", many(40000, func(int) FieldViolation { return FieldViolation{"sender", "duplicate_key"} }), 1,
			FieldViolation{"sender", "duplicate_key"}, nil},
		{"40000 distinct unknown fields", many(40000, func(i int) FieldViolation { return FieldViolation{fmt.Sprintf("f%d", i), "unknown_field"} }),
			MaxFieldViolations, FieldViolation{"f0", "unknown_field"}, &FieldViolation{"f1", "unknown_field"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := Validation(tc.in...)
			require.Equal(t, "validation_failed", e.Reason)
			require.Len(t, e.Fields, tc.want)
			require.Equal(t, tc.first, e.Fields[0])
			if tc.second != nil {
				require.Equal(t, *tc.second, e.Fields[1])
			}
		})
	}
}
