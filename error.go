// Package switchboard is the domain of the switchboard sub-account platform:
// accounts, credentials, KYC rules and the error vocabulary shared by every
// layer. It imports only the standard library; storage, HTTP and delivery
// live in the internal packages that wrap those dependencies.
package switchboard

import (
	"errors"
	"fmt"
)

// Error codes. They are the stable `error` values of the API error body
// (CONTRACT §0.7); the HTTP layer maps each to exactly one status.
const (
	EInvalidJSON           = "invalid_json"
	EValidation            = "validation_error"
	EUnauthorized          = "unauthorized"
	ETokenExpired          = "token_expired"
	EForbidden             = "forbidden"
	EAccountInactive       = "account_inactive"
	EQuotaExceeded         = "quota_exceeded"
	ENotFound              = "not_found"
	EMethodNotAllowed      = "method_not_allowed"
	EAlreadyExists         = "already_exists"
	EInvalidState          = "invalid_state"
	EPreconditionFailed    = "precondition_failed"
	EPayloadTooLarge       = "payload_too_large"
	EUnsupportedMediaType  = "unsupported_media_type"
	EIdempotencyInProgress = "idempotency_in_progress"
	EIdempotencyKeyReused  = "idempotency_key_reused"
	ERateLimited           = "rate_limit_exceeded"
	EInternal              = "internal_error"
	EUnavailable           = "service_unavailable"
)

// Field error codes used in validation details (CONTRACT §0.7).
const (
	FieldRequired        = "required"
	FieldInvalidType     = "invalid_type"
	FieldInvalidFormat   = "invalid_format"
	FieldInvalidValue    = "invalid_value"
	FieldInvalidChecksum = "invalid_checksum"
	FieldOutOfRange      = "out_of_range"
	FieldTooLong         = "too_long"
	FieldMismatch        = "mismatch"
)

// FieldError describes one invalid input field. Field is a dotted path such
// as "permissions.calls".
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error is the one error type that crosses layers. Code and Message are what
// a client sees; Err is the cause, which is only logged.
type Error struct {
	Code    string
	Message string
	// Details lists field errors for EValidation.
	Details []FieldError
	// Extra holds the additional body keys some codes carry (CONTRACT §0.7).
	Extra map[string]any
	// Err is the underlying cause; never shown to clients.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Internal wraps an unexpected failure: the client sees a generic
// internal_error while err is kept for the log.
func Internal(err error) *Error {
	return &Error{Code: EInternal, Message: "internal error", Err: err}
}

// ErrorCode returns the code of err, EInternal for any error that is not an
// *Error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// AsError returns err as an *Error, wrapping unknown errors as internal.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Internal(err)
}

// Validation collects field errors; its Err is nil while nothing was added.
type Validation struct {
	Details []FieldError
}

// Add records a field error.
func (v *Validation) Add(field, code, message string) {
	v.Details = append(v.Details, FieldError{Field: field, Code: code, Message: message})
}

// Has reports whether a field already has an error.
func (v *Validation) Has(field string) bool {
	for _, d := range v.Details {
		if d.Field == field {
			return true
		}
	}
	return false
}

// Err returns a validation_error carrying every recorded detail, or nil.
func (v *Validation) Err() error {
	if len(v.Details) == 0 {
		return nil
	}
	return &Error{Code: EValidation, Message: v.Details[0].Field + ": " + v.Details[0].Message, Details: v.Details}
}

// Invalid returns a validation_error with a single field detail.
func Invalid(field, code, message string) *Error {
	return &Error{Code: EValidation, Message: field + ": " + message, Details: []FieldError{{Field: field, Code: code, Message: message}}}
}
