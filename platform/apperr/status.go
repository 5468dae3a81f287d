package apperr

import (
	"strconv"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrorDomain is the google.rpc.ErrorInfo domain of every WatchTower error.
const ErrorDomain = "watchtower"

// MetaRetryAfter is the ErrorInfo metadata key carrying Retry-After seconds.
const MetaRetryAfter = "retryAfterSeconds"

var kindCodes = map[Kind]codes.Code{
	KindInternal:        codes.Internal,
	KindInvalid:         codes.InvalidArgument,
	KindUnauthenticated: codes.Unauthenticated,
	KindForbidden:       codes.PermissionDenied,
	KindNotFound:        codes.NotFound,
	KindConflict:        codes.AlreadyExists,
	KindPrecondition:    codes.FailedPrecondition,
	KindRateLimited:     codes.ResourceExhausted,
	KindUnavailable:     codes.Unavailable,
}

// Code returns the gRPC code of the error's kind.
func (e *Error) Code() codes.Code { return kindCodes[e.Kind] }

// GRPCStatus renders e as a gRPC status carrying google.rpc.ErrorInfo (the
// reason and, when set, the retry hint) and google.rpc.BadRequest (the
// fields). The cause (Err) never leaves the process, and an internal error's
// message is masked. grpc-go and grpc-gateway recognise this method.
func (e *Error) GRPCStatus() *status.Status {
	code := e.Code()
	msg := e.Message
	if code == codes.Internal {
		msg = "internal error"
	}
	st := status.New(code, msg)
	info := &errdetails.ErrorInfo{Reason: e.Reason, Domain: ErrorDomain}
	if e.RetryAfter > 0 {
		secs := int64((e.RetryAfter + time.Second - 1) / time.Second)
		info.Metadata = map[string]string{MetaRetryAfter: strconv.FormatInt(secs, 10)}
	}
	if withInfo, err := st.WithDetails(info); err == nil {
		st = withInfo
	}
	if len(e.Fields) > 0 {
		br := &errdetails.BadRequest{}
		for _, f := range e.Fields {
			br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: f.Field, Description: f.Reason})
		}
		if withFields, err := st.WithDetails(br); err == nil {
			st = withFields
		}
	}
	return st
}

// FromStatus recovers the reason, fields and retry hint of a status
// produced by GRPCStatus. ok is false when st carries no WatchTower ErrorInfo.
func FromStatus(st *status.Status) (e *Error, ok bool) {
	e = &Error{Message: st.Message()}
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			if d.GetDomain() != ErrorDomain {
				continue
			}
			ok = true
			e.Reason = d.GetReason()
			if s := d.GetMetadata()[MetaRetryAfter]; s != "" {
				if n, err := strconv.Atoi(s); err == nil && n > 0 {
					e.RetryAfter = time.Duration(n) * time.Second
				}
			}
		case *errdetails.BadRequest:
			for _, f := range d.GetFieldViolations() {
				e.Fields = append(e.Fields, FieldViolation{Field: f.GetField(), Reason: f.GetDescription()})
			}
		}
	}
	for k, c := range kindCodes {
		if c == st.Code() {
			e.Kind = k
		}
	}
	return e, ok
}
