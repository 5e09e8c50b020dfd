package httpapi

import (
	"bytes"
	"encoding/json"
)

// ordered is a JSON object whose keys are written in the order given — the
// order the contract shows — where a map would sort them. Build it with kv.
type ordered []any

// kv makes an ordered object from key/value pairs: kv("a", 1, "b", 2).
func kv(pairs ...any) ordered {
	if len(pairs)%2 != 0 {
		panic("httpapi: kv needs key/value pairs")
	}
	return ordered(pairs)
}

// MarshalJSON writes the pairs in order; HTML characters are not escaped.
func (o ordered) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	buf.WriteByte('{')
	for i := 0; i < len(o); i += 2 {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := enc.Encode(o[i].(string)); err != nil {
			return nil, err
		}
		buf.Truncate(buf.Len() - 1) // Encode ends with a newline
		buf.WriteByte(':')
		if err := enc.Encode(o[i+1]); err != nil {
			return nil, err
		}
		buf.Truncate(buf.Len() - 1)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}
