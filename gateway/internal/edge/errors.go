package edge

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/watchtower/authplane/platform/apperr"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// defaults names the error code of a status that carries no WatchTower
// ErrorInfo (grpc-gateway's own failures, or a service that returned a bare
// status). InvalidArgument without a reason comes from grpc-gateway failing
// to decode the JSON body.
var defaults = map[codes.Code]struct {
	status int
	code   string
}{
	codes.InvalidArgument:    {http.StatusBadRequest, "invalid_json"},
	codes.Unauthenticated:    {http.StatusUnauthorized, "unauthenticated"},
	codes.PermissionDenied:   {http.StatusForbidden, "forbidden"},
	codes.NotFound:           {http.StatusNotFound, "not_found"},
	codes.AlreadyExists:      {http.StatusConflict, "conflict"},
	codes.Aborted:            {http.StatusConflict, "conflict"},
	codes.FailedPrecondition: {http.StatusConflict, "failed_precondition"},
	codes.OutOfRange:         {http.StatusBadRequest, "out_of_range"},
	codes.ResourceExhausted:  {http.StatusTooManyRequests, "rate_limited"},
	codes.Unavailable:        {http.StatusServiceUnavailable, "unavailable"},
	codes.DeadlineExceeded:   {http.StatusGatewayTimeout, "timeout"},
	codes.Unimplemented:      {http.StatusNotImplemented, "not_implemented"},
	codes.Canceled:           {499, "canceled"},
}

// HTTPStatus maps a gRPC code to the HTTP status API.md uses.
func HTTPStatus(c codes.Code) int {
	if d, ok := defaults[c]; ok {
		return d.status
	}
	return http.StatusInternalServerError
}

// ErrorHandler is grpc-gateway's one error handler: it renders every gRPC
// error as the API.md envelope. Internal errors are masked and logged under
// the request id.
func ErrorHandler(log *slog.Logger) runtime.ErrorHandlerFunc {
	return func(ctx context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
		WriteStatusError(w, r, log, err)
	}
}

// WriteStatusError renders a gRPC (or apperr) error as the envelope.
func WriteStatusError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	st, _ := status.FromError(err)
	if ae, ok := apperr.As(err); ok {
		st = ae.GRPCStatus()
	}
	httpStatus := HTTPStatus(st.Code())
	// Without a WatchTower reason the status message may describe internals
	// (addresses, decoder state): the client gets a fixed sentence.
	code, msg := "internal", "internal error"
	if d, ok := defaults[st.Code()]; ok {
		code, msg = d.code, genericMessage(st.Code())
	}
	if st.Code() == codes.InvalidArgument && r.ContentLength == 0 {
		// No body: grpc-gateway failed on a path or query parameter.
		code, msg = "invalid_request", "a path or query parameter is invalid"
	}
	var details map[string]any
	retry := 0
	if e, ok := apperr.FromStatus(st); ok {
		code, msg = e.Reason, st.Message()
		if len(e.Fields) > 0 {
			fields := make([]FieldError, 0, len(e.Fields))
			for _, f := range e.Fields {
				fields = append(fields, FieldError{Field: f.Field, Reason: f.Reason})
			}
			details = map[string]any{"fields": fields}
		}
		retry = int(e.RetryAfter.Seconds())
	}
	if httpStatus == http.StatusInternalServerError {
		log.Error("request failed", "request_id", RequestID(r.Context()), "grpc_code", st.Code().String(), "error", st.Message())
		code, msg = "internal", "internal error"
	}
	WriteError(w, r, httpStatus, code, msg, details, retry)
}

// RoutingErrorHandler renders grpc-gateway's routing failures: an unknown
// path is 404 not_found, a known path with another method 405
// method_not_allowed.
func RoutingErrorHandler(_ context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
	switch httpStatus {
	case http.StatusMethodNotAllowed:
		WriteError(w, r, http.StatusMethodNotAllowed, "method_not_allowed", "this path does not accept "+r.Method, nil, 0)
	case http.StatusNotFound:
		WriteError(w, r, http.StatusNotFound, "not_found", "no such route", nil, 0)
	default:
		WriteError(w, r, http.StatusBadRequest, "bad_request", http.StatusText(httpStatus), nil, 0)
	}
}

func genericMessage(c codes.Code) string {
	switch c {
	case codes.InvalidArgument:
		return "the request body is not valid JSON for this endpoint"
	case codes.Unauthenticated:
		return "authentication is required"
	case codes.PermissionDenied:
		return "not allowed"
	case codes.NotFound:
		return "not found"
	case codes.ResourceExhausted:
		return "too many requests; retry later"
	case codes.Unavailable:
		return "a dependency is unavailable; retry later"
	case codes.DeadlineExceeded:
		return "the request timed out"
	}
	return "the request could not be completed"
}
