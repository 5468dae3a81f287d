package edge

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/watchtower/authplane/platform/apperr"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestWriteStatusError(t *testing.T) {
	limited := apperr.RateLimited(90 * time.Second)
	for _, tt := range []struct {
		name   string
		err    error
		body   string
		status int
		code   string
		msg    string
		retry  string
		field  string
	}{
		{name: "reasoned error keeps its code and message", err: apperr.Unauthenticated("invalid_credentials", "the email or password is incorrect"), status: 401, code: "invalid_credentials", msg: "the email or password is incorrect"},
		{name: "validation fields", err: apperr.Validation(apperr.FieldViolation{Field: "email", Reason: "required"}), status: 400, code: "validation_failed", field: "email"},
		{name: "retry hint", err: limited, status: 429, code: "rate_limited", retry: "90"},
		{name: "decoder failure on a body", err: status.Error(codes.InvalidArgument, "proto: syntax error (line 1:2)"), body: "{", status: 400, code: "invalid_json"},
		{name: "parameter failure without a body", err: status.Error(codes.InvalidArgument, `strconv.ParseInt: parsing "abc"`), status: 400, code: "invalid_request"},
		{name: "transport error is masked", err: status.Error(codes.Unavailable, "dial tcp 10.0.0.7:9102: connection refused"), status: 503, code: "unavailable"},
		{name: "internal is masked", err: status.Error(codes.Internal, "pq: secret detail"), status: 500, code: "internal", msg: "internal error"},
		{name: "unknown code is internal", err: status.Error(codes.DataLoss, "disk"), status: 500, code: "internal", msg: "internal error"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/api/v1/x", strings.NewReader(tt.body))
			w := httptest.NewRecorder()
			WriteStatusError(w, r, slog.New(slog.DiscardHandler), tt.err)
			require.Equal(t, tt.status, w.Code)
			var body ErrorBody
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
			require.Equal(t, tt.code, body.Error)
			if tt.msg != "" {
				require.Equal(t, tt.msg, body.Message)
			}
			require.NotContains(t, w.Body.String(), "10.0.0.7")
			require.NotContains(t, w.Body.String(), "secret detail")
			require.Equal(t, tt.retry, w.Header().Get("Retry-After"))
			if tt.field != "" {
				require.Contains(t, w.Body.String(), `"field":"`+tt.field+`"`)
			}
		})
	}
}
