package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	sb "github.com/switchboard-voice/switchboard"
)

// MaxBodyBytes is the request body limit (CONTRACT §0.11).
const MaxBodyBytes = 1 << 20

// jsonMediaType reports whether a Content-Type is parsed as JSON (§0.1):
// absent, application/json or any */*+json.
func jsonMediaType(ct string) bool {
	if strings.TrimSpace(ct) == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// readBody reads and parses the request body as a JSON object. GET and HEAD
// bodies are ignored; an empty body is {}.
func readBody(r *http.Request) (*object, error) {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return newObject(nil), nil
	}
	if r.ContentLength > MaxBodyBytes {
		return nil, errTooLarge
	}
	raw, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errTooLarge
		}
		return nil, sb.Errorf(sb.EInvalidJSON, "could not read the request body")
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return newObject(nil), nil
	}
	if !jsonMediaType(r.Header.Get("Content-Type")) {
		return nil, sb.Errorf(sb.EUnsupportedMediaType, "request bodies must be JSON (Content-Type: application/json)")
	}
	return parseObject(raw)
}

var errTooLarge = sb.Errorf(sb.EPayloadTooLarge, "request body is larger than 1 MiB")

// parseObject decodes raw into an object; anything but one JSON object is
// invalid_json.
func parseObject(raw []byte) (*object, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, sb.Errorf(sb.EInvalidJSON, "request body is not valid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, sb.Errorf(sb.EInvalidJSON, "request body has data after the JSON value")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, sb.Errorf(sb.EInvalidJSON, "request body must be a JSON object")
	}
	return newObject(m), nil
}

// object reads typed fields from a decoded JSON object, collecting type
// errors as validation details. Keys it is never asked for (unknown and
// protected keys) are ignored.
type object struct {
	m      map[string]any
	prefix string
	v      *sb.Validation
	// update selects the null rule: on create null equals omission; on
	// update null clears a nullable field and is refused for the others.
	update bool
}

func newObject(m map[string]any) *object {
	if m == nil {
		m = map[string]any{}
	}
	return &object{m: m, v: &sb.Validation{}}
}

// forUpdate switches the object to update semantics for null.
func (o *object) forUpdate() *object { o.update = true; return o }

// Err returns the collected type errors.
func (o *object) Err() error { return o.v.Err() }

func (o *object) field(key string) string { return o.prefix + key }

func (o *object) typeErr(key, want string) {
	o.v.Add(o.field(key), sb.FieldInvalidType, "must be "+want)
}

// lookup returns the raw value; present is false when absent or, on
// create, null. null reports an explicit null on update.
func (o *object) lookup(key string, nullable bool) (v any, present, null bool) {
	v, ok := o.m[key]
	if !ok {
		return nil, false, false
	}
	if v == nil {
		if !o.update {
			return nil, false, false
		}
		if !nullable {
			o.v.Add(o.field(key), sb.FieldInvalidType, "must not be null")
			return nil, false, false
		}
		return nil, true, true
	}
	return v, true, false
}

// String reads a non-nullable string, trimmed.
func (o *object) String(key string) sb.Opt[string] {
	v, ok, _ := o.lookup(key, false)
	if !ok {
		return sb.Opt[string]{}
	}
	s, isStr := v.(string)
	if !isStr {
		o.typeErr(key, "a string")
		return sb.Opt[string]{}
	}
	return sb.Some(strings.TrimSpace(s))
}

// NullableString reads a string that may be null (V nil).
func (o *object) NullableString(key string) sb.Opt[*string] {
	v, ok, null := o.lookup(key, true)
	if !ok || null {
		return sb.Opt[*string]{Set: ok}
	}
	s, isStr := v.(string)
	if !isStr {
		o.typeErr(key, "a string or null")
		return sb.Opt[*string]{}
	}
	s = strings.TrimSpace(s)
	return sb.Some(&s)
}

// NullableEmail reads an email: trimmed and lower-cased.
func (o *object) NullableEmail(key string) sb.Opt[*string] {
	e := o.NullableString(key)
	if e.Set && e.V != nil {
		n := sb.NormalizeEmail(*e.V)
		e.V = &n
	}
	return e
}

// Bool reads a JSON boolean.
func (o *object) Bool(key string) sb.Opt[bool] {
	v, ok, _ := o.lookup(key, false)
	if !ok {
		return sb.Opt[bool]{}
	}
	b, isBool := v.(bool)
	if !isBool {
		o.typeErr(key, "a boolean")
		return sb.Opt[bool]{}
	}
	return sb.Some(b)
}

// Int reads a JSON integer (no fraction, no exponent).
func (o *object) Int(key string) sb.Opt[int] {
	v, ok, _ := o.lookup(key, false)
	if !ok {
		return sb.Opt[int]{}
	}
	n, isNum := v.(json.Number)
	if !isNum {
		o.typeErr(key, "an integer")
		return sb.Opt[int]{}
	}
	i, err := strconv.ParseInt(string(n), 10, 32)
	if err != nil {
		if _, ferr := strconv.ParseFloat(string(n), 64); ferr == nil && !strings.ContainsAny(string(n), ".eE") {
			o.v.Add(o.field(key), sb.FieldOutOfRange, "is out of range")
		} else {
			o.typeErr(key, "an integer")
		}
		return sb.Opt[int]{}
	}
	return sb.Some(int(i))
}

// Money reads a JSON number with at most six fraction digits (§0.4).
func (o *object) Money(key string) sb.Opt[sb.Money] {
	v, ok, _ := o.lookup(key, false)
	if !ok {
		return sb.Opt[sb.Money]{}
	}
	n, isNum := v.(json.Number)
	if !isNum {
		o.typeErr(key, "a number")
		return sb.Opt[sb.Money]{}
	}
	m, err := sb.ParseMoney(string(n))
	if err != nil {
		o.v.Add(o.field(key), sb.FieldInvalidFormat, err.Error())
		return sb.Opt[sb.Money]{}
	}
	return sb.Some(m)
}

// Object reads a nested object; nil when absent (or null on create).
// Its field errors are reported with the dotted prefix.
func (o *object) Object(key string, nullable bool) (sub *object, set bool) {
	v, ok, null := o.lookup(key, nullable)
	if !ok || null {
		return nil, ok
	}
	m, isObj := v.(map[string]any)
	if !isObj {
		o.typeErr(key, "an object")
		return nil, false
	}
	return &object{m: m, prefix: o.field(key) + ".", v: o.v, update: o.update}, true
}

// Permissions reads {"calls", "cdr"}; a key omitted is true, null is nil.
func (o *object) Permissions(key string) sb.Opt[*sb.Permissions] {
	sub, set := o.Object(key, true)
	if !set {
		return sb.Opt[*sb.Permissions]{}
	}
	if sub == nil {
		return sb.Some[*sb.Permissions](nil)
	}
	p := &sb.Permissions{Calls: true, CDR: true}
	if c := sub.Bool("calls"); c.Set {
		p.Calls = c.V
	}
	if c := sub.Bool("cdr"); c.Set {
		p.CDR = c.V
	}
	return sb.Some(p)
}

// PricingUpdate reads the pricing object key by key.
func (o *object) PricingUpdate(key string) sb.PricingUpdate {
	sub, _ := o.Object(key, false)
	if sub == nil {
		return sb.PricingUpdate{}
	}
	return sb.PricingUpdate{
		OutboundRatePerMinute:   sub.Money("outbound_rate_per_minute"),
		InboundRatePerMinute:    sub.Money("inbound_rate_per_minute"),
		BillingIncrementSeconds: sub.Int("billing_increment_seconds"),
		MinimumDurationSeconds:  sub.Int("minimum_duration_seconds"),
	}
}

// Strings reads an array of strings.
func (o *object) Strings(key string) sb.Opt[[]string] {
	v, ok, _ := o.lookup(key, false)
	if !ok {
		return sb.Opt[[]string]{}
	}
	arr, isArr := v.([]any)
	if !isArr {
		o.typeErr(key, "an array of strings")
		return sb.Opt[[]string]{}
	}
	out := make([]string, 0, len(arr))
	for i, e := range arr {
		str, isStr := e.(string)
		if !isStr {
			o.v.Add(o.field(key)+"["+strconv.Itoa(i)+"]", sb.FieldInvalidType, "must be a string")
			return sb.Opt[[]string]{}
		}
		out = append(out, strings.TrimSpace(str))
	}
	return sb.Some(out)
}

// ptr turns an Opt[*T] read on create into a plain pointer.
func ptr[T any](o sb.Opt[*T]) *T {
	if !o.Set {
		return nil
	}
	return o.V
}
