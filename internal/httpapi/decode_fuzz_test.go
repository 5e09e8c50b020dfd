package httpapi

import (
	"bytes"
	"net/http/httptest"
	"testing"

	sb "github.com/switchboard-voice/switchboard"
)

// FuzzReadBody feeds arbitrary bodies through the JSON request decoder and
// every typed accessor. It must never panic, must answer anything that is
// not one JSON object with invalid_json, and must report only the §0.7
// field codes.
func FuzzReadBody(f *testing.F) {
	seeds := []string{
		`{}`, `[]`, `"x"`, `{`, `{"name":"a","rate_limit":10,"permissions":{"calls":false}}`,
		`{"name":5,"email":null,"rate_limit":"x","permissions":[]}`, `{"rate_limit":1e400}`,
		`{"pricing":{"outbound_rate_per_minute":0.0000001}}`, `{"events":["*",3]}`, `{"a":1} {"b":2}`,
		"\xff\xfe", `{"name":"\u0000"}`, `{"rate_limit":99999999999999999999}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	allowed := map[string]bool{sb.FieldRequired: true, sb.FieldInvalidType: true, sb.FieldInvalidFormat: true,
		sb.FieldInvalidValue: true, sb.FieldOutOfRange: true, sb.FieldTooLong: true}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest("POST", "/x", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		o, err := readBody(r)
		if err != nil {
			if code := sb.ErrorCode(err); code != sb.EInvalidJSON && code != sb.EPayloadTooLarge {
				t.Fatalf("readBody error code %q", code)
			}
			return
		}
		for _, upd := range []bool{false, true} {
			o.update = upd
			o.String("name")
			o.NullableString("description")
			o.NullableEmail("email")
			o.Bool("enabled")
			o.Int("rate_limit")
			o.Money("amount")
			o.Permissions("permissions")
			o.PricingUpdate("pricing")
			o.Strings("events")
		}
		if err := o.Err(); err != nil {
			e := sb.AsError(err)
			if e.Code != sb.EValidation || len(e.Details) == 0 {
				t.Fatalf("accessor error %v", err)
			}
			for _, d := range e.Details {
				if !allowed[d.Code] || d.Field == "" {
					t.Fatalf("bad detail %+v", d)
				}
			}
		}
	})
}
