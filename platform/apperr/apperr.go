// Package apperr is the error vocabulary shared by the services: a kind
// (what went wrong, for the transport), a reason (the machine code API.md
// names, e.g. "invalid_credentials") and a message safe to show a client.
//
// Domain packages return *Error; the gRPC interceptor in grpcserver turns it
// into a status with google.rpc.ErrorInfo, and the gateway's error handler
// turns that into the REST envelope. Any other error is internal: it is
// logged in full and masked at the edge.
package apperr

import (
	"errors"
	"fmt"
	"time"
)

// Kind classifies an error for the transport.
type Kind int

// The kinds, each mapped to one gRPC code.
const (
	KindInternal Kind = iota
	KindInvalid
	KindUnauthenticated
	KindForbidden
	KindNotFound
	KindConflict
	KindPrecondition
	KindRateLimited
	KindUnavailable
)

func (k Kind) String() string {
	switch k {
	case KindInvalid:
		return "invalid"
	case KindUnauthenticated:
		return "unauthenticated"
	case KindForbidden:
		return "forbidden"
	case KindNotFound:
		return "not_found"
	case KindConflict:
		return "conflict"
	case KindPrecondition:
		return "precondition"
	case KindRateLimited:
		return "rate_limited"
	case KindUnavailable:
		return "unavailable"
	default:
		return "internal"
	}
}

// FieldViolation names one invalid input field.
type FieldViolation struct {
	Field  string
	Reason string
}

// Error is a classified error.
type Error struct {
	Kind    Kind
	Reason  string
	Message string
	Fields  []FieldViolation
	// RetryAfter, when positive, is sent as Retry-After.
	RetryAfter time.Duration
	// Err is the cause, for logs only; it never reaches a client.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Reason, e.Message, e.Err)
	}
	return e.Reason + ": " + e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// New returns an error of kind with reason and message.
func New(kind Kind, reason, message string) *Error {
	return &Error{Kind: kind, Reason: reason, Message: message}
}

// Invalid is a 400-class error.
func Invalid(reason, message string) *Error { return New(KindInvalid, reason, message) }

// Unauthenticated is a 401-class error.
func Unauthenticated(reason, message string) *Error {
	return New(KindUnauthenticated, reason, message)
}

// Forbidden is a 403-class error.
func Forbidden(reason, message string) *Error { return New(KindForbidden, reason, message) }

// NotFound is a 404-class error.
func NotFound(message string) *Error { return New(KindNotFound, "not_found", message) }

// Conflict is a 409-class error.
func Conflict(reason, message string) *Error { return New(KindConflict, reason, message) }

// RateLimited is a 429-class error with a retry hint.
func RateLimited(retryAfter time.Duration) *Error {
	e := New(KindRateLimited, "rate_limited", "too many requests; retry later")
	e.RetryAfter = retryAfter
	return e
}

// Unavailable is a 503-class error wrapping the dependency failure.
func Unavailable(err error) *Error {
	return &Error{Kind: KindUnavailable, Reason: "unavailable", Message: "a dependency is unavailable; retry later", Err: err}
}

// MaxFieldViolations is the most violations an error lists: a body that
// repeats one mistake thousands of times (a duplicated key, say) must not
// make an answer larger than itself.
const MaxFieldViolations = 100

// Validation returns a validation_failed error naming the fields: each
// distinct (field, reason) once, in order, at most MaxFieldViolations.
func Validation(fields ...FieldViolation) *Error {
	e := Invalid("validation_failed", "the request has invalid fields")
	seen := make(map[FieldViolation]bool, len(fields))
	for _, f := range fields {
		if seen[f] {
			continue
		}
		if len(e.Fields) == MaxFieldViolations {
			break
		}
		seen[f] = true
		e.Fields = append(e.Fields, f)
	}
	return e
}

// As returns the *Error in err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Is reports whether err carries reason.
func Is(err error, reason string) bool {
	e, ok := As(err)
	return ok && e.Reason == reason
}
