package switchboard_test

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	sb "github.com/switchboard-voice/switchboard"
)

// TestErrorCode checks how any error maps to the stable API code (§0.7).
func TestErrorCode(t *testing.T) {
	notFound := sb.Errorf(sb.ENotFound, "sub-account %s not found", "SA_X")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"plain error", errors.New("disk full"), sb.EInternal},
		{"io.EOF", io.EOF, sb.EInternal},
		{"*Error", notFound, sb.ENotFound},
		{"wrapped once", fmt.Errorf("load: %w", notFound), sb.ENotFound},
		{"wrapped twice", fmt.Errorf("tx: %w", fmt.Errorf("load: %w", notFound)), sb.ENotFound},
		{"joined", errors.Join(errors.New("other"), sb.Errorf(sb.EForbidden, "no")), sb.EForbidden},
		{"Internal", sb.Internal(errors.New("boom")), sb.EInternal},
		{"Invalid", sb.Invalid("email", sb.FieldRequired, "is required"), sb.EValidation},
		{"*Error wrapping another *Error", &sb.Error{Code: sb.EUnavailable, Message: "db", Err: notFound}, sb.EUnavailable},
		{"%v does not wrap", fmt.Errorf("load: %v", notFound), sb.EInternal},
	}
	for _, tt := range tests {
		if got := sb.ErrorCode(tt.err); got != tt.want {
			t.Errorf("%s: ErrorCode = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestAsError checks that every error becomes an *Error a handler can write
// without leaking the cause.
func TestAsError(t *testing.T) {
	notFound := sb.Errorf(sb.ENotFound, "sub-account not found")
	if got := sb.AsError(fmt.Errorf("ctx: %w", notFound)); got != notFound {
		t.Errorf("AsError(wrapped) = %v, want the wrapped *Error itself", got)
	}
	cause := errors.New("pq: relation \"accounts\" does not exist")
	got := sb.AsError(cause)
	if got.Code != sb.EInternal || got.Message != "internal error" {
		t.Errorf("AsError(plain) = {%q, %q}, want {internal_error, internal error}", got.Code, got.Message)
	}
	if strings.Contains(got.Message, "pq") {
		t.Errorf("client message %q leaks the cause", got.Message)
	}
	if !errors.Is(got, cause) {
		t.Error("AsError(plain) lost the cause for the log")
	}
}

// TestErrorText checks Error() and Unwrap().
func TestErrorText(t *testing.T) {
	cause := errors.New("timeout")
	tests := []struct {
		err  *sb.Error
		want string
	}{
		{sb.Errorf(sb.ENotFound, "trunk %d not found", 7), "not_found: trunk 7 not found"},
		{&sb.Error{Code: sb.EUnavailable, Message: "database unreachable", Err: cause}, "service_unavailable: database unreachable: timeout"},
		{sb.Internal(cause), "internal_error: internal error: timeout"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	if !errors.Is(sb.Internal(cause), cause) || errors.Unwrap(sb.Errorf(sb.ENotFound, "x")) != nil {
		t.Error("Unwrap does not expose exactly the cause")
	}
}

// TestValidation checks the collector of field errors.
func TestValidation(t *testing.T) {
	var v sb.Validation
	if err := v.Err(); err != nil {
		t.Fatalf("empty Validation.Err() = %v, want nil", err)
	}
	if v.Has("name") {
		t.Error("empty Validation has name")
	}
	v.Add("name", sb.FieldRequired, "is required")
	v.Add("permissions.calls", sb.FieldInvalidType, "must be a boolean")
	v.Add("numbers[3].e164", sb.FieldInvalidFormat, "must be E.164")
	if !v.Has("permissions.calls") || v.Has("permissions") || v.Has("email") {
		t.Error("Has does not match dotted fields exactly")
	}
	err := v.Err()
	if err == nil {
		t.Fatal("Validation.Err() = nil after Add")
	}
	if sb.ErrorCode(err) != sb.EValidation {
		t.Errorf("code = %q, want validation_error", sb.ErrorCode(err))
	}
	e := sb.AsError(err)
	want := []sb.FieldError{
		{Field: "name", Code: "required", Message: "is required"},
		{Field: "permissions.calls", Code: "invalid_type", Message: "must be a boolean"},
		{Field: "numbers[3].e164", Code: "invalid_format", Message: "must be E.164"},
	}
	if diff := cmp.Diff(want, e.Details); diff != "" {
		t.Errorf("details (-want +got):\n%s", diff)
	}
	if e.Message != "name: is required" {
		t.Errorf("message = %q, want the first detail", e.Message)
	}
}

// TestInvalid checks the single-field validation error.
func TestInvalid(t *testing.T) {
	err := sb.Invalid("grace_seconds", sb.FieldOutOfRange, "must be between 0 and 604800")
	if err.Code != sb.EValidation || err.Message != "grace_seconds: must be between 0 and 604800" {
		t.Errorf("Invalid = {%q, %q}", err.Code, err.Message)
	}
	want := []sb.FieldError{{Field: "grace_seconds", Code: "out_of_range", Message: "must be between 0 and 604800"}}
	if diff := cmp.Diff(want, err.Details); diff != "" {
		t.Errorf("details (-want +got):\n%s", diff)
	}
	if sb.ErrorCode(fmt.Errorf("rotate: %w", err)) != sb.EValidation {
		t.Error("wrapped Invalid lost its code")
	}
}

// TestErrorCodesAreSnakeCase checks the stable codes clients match on.
func TestErrorCodesAreSnakeCase(t *testing.T) {
	codes := []string{sb.EInvalidJSON, sb.EValidation, sb.EUnauthorized, sb.ETokenExpired, sb.EForbidden, sb.EAccountInactive,
		sb.EQuotaExceeded, sb.ENotFound, sb.EMethodNotAllowed, sb.EAlreadyExists, sb.EInvalidState, sb.EPreconditionFailed,
		sb.EPayloadTooLarge, sb.EUnsupportedMediaType, sb.EIdempotencyInProgress, sb.EIdempotencyKeyReused, sb.ERateLimited,
		sb.EInternal, sb.EUnavailable,
		sb.FieldRequired, sb.FieldInvalidType, sb.FieldInvalidFormat, sb.FieldInvalidValue, sb.FieldInvalidChecksum,
		sb.FieldOutOfRange, sb.FieldTooLong, sb.FieldMismatch}
	seen := map[string]bool{}
	for _, c := range codes {
		if c == "" || strings.Trim(c, "abcdefghijklmnopqrstuvwxyz_") != "" {
			t.Errorf("code %q is not snake_case", c)
		}
		if seen[c] {
			t.Errorf("code %q defined twice", c)
		}
		seen[c] = true
	}
	if sb.ERateLimited != "rate_limit_exceeded" || sb.EUnavailable != "service_unavailable" || sb.ETokenExpired != "token_expired" {
		t.Error("codes differ from CONTRACT §0.7")
	}
}
