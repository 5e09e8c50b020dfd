package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"

	sb "github.com/switchboard-voice/switchboard"
)

// statusOf maps each error code to its one HTTP status (CONTRACT §0.7).
var statusOf = map[string]int{
	sb.EInvalidJSON:           http.StatusBadRequest,
	sb.EValidation:            http.StatusBadRequest,
	sb.EUnauthorized:          http.StatusUnauthorized,
	sb.ETokenExpired:          http.StatusUnauthorized,
	sb.EForbidden:             http.StatusForbidden,
	sb.EAccountInactive:       http.StatusForbidden,
	sb.EQuotaExceeded:         http.StatusForbidden,
	sb.ENotFound:              http.StatusNotFound,
	sb.EMethodNotAllowed:      http.StatusMethodNotAllowed,
	sb.EAlreadyExists:         http.StatusConflict,
	sb.EInvalidState:          http.StatusConflict,
	sb.EIdempotencyInProgress: http.StatusConflict,
	sb.EPreconditionFailed:    http.StatusPreconditionFailed,
	sb.EPayloadTooLarge:       http.StatusRequestEntityTooLarge,
	sb.EUnsupportedMediaType:  http.StatusUnsupportedMediaType,
	sb.EIdempotencyKeyReused:  http.StatusUnprocessableEntity,
	sb.ERateLimited:           http.StatusTooManyRequests,
	sb.EInternal:              http.StatusInternalServerError,
	sb.EUnavailable:           http.StatusServiceUnavailable,
}

// HTTPStatus returns the status for an error code (500 for unknown codes).
func HTTPStatus(code string) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// writeError writes the §0.7 error body for err. Internal causes are
// logged with the request id and never sent.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		err = &sb.Error{Code: sb.EUnavailable, Message: "request cancelled", Err: err}
	}
	e := sb.AsError(err)
	status := HTTPStatus(e.Code)
	msg := e.Message
	if status >= 500 {
		level := slog.LevelError
		if e.Code == sb.EUnavailable {
			level = slog.LevelWarn
		}
		s.log.Log(r.Context(), level, "request failed", "request_id", requestID(r.Context()),
			"method", r.Method, "path", r.URL.Path, "code", e.Code, "err", e.Error())
		if e.Code == sb.EInternal {
			msg = "internal error"
		}
	}
	body := kv("api_id", sb.NewUUID(), "error", e.Code, "message", msg)
	if e.Code == sb.EValidation {
		details := e.Details
		if details == nil {
			details = []sb.FieldError{}
		}
		body = append(body, "details", details)
	}
	switch e.Code {
	case sb.ERateLimited:
		retry := 1
		if v, ok := e.Extra["retry_after"].(int); ok {
			retry = v
		}
		w.Header().Set("Retry-After", strconv.Itoa(retry))
	case sb.EUnavailable, sb.EIdempotencyInProgress:
		w.Header().Set("Retry-After", "1")
	default:
		for _, k := range slices.Sorted(maps.Keys(e.Extra)) {
			body = append(body, k, e.Extra[k])
		}
	}
	writeJSON(w, status, body)
}

// writeJSON writes v as the JSON response body with status.
// HTML characters are not escaped: "<redacted>" stays readable.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"api_id":"` + sb.NewUUID() + `","error":"internal_error","message":"internal error"}` + "\n")
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}
