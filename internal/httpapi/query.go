package httpapi

import (
	"net/http"
	"strconv"
	"strings"

	sb "github.com/switchboard-voice/switchboard"
)

// page is a resolved list window.
type page struct {
	Page, Size, Offset, Limit int
}

// pageQuery reads page/size, or limit/offset when either is present and
// neither page nor size is (CONTRACT §4.6, §0.11). Sizes above max are
// clamped; values below 1 (or a negative offset) are validation errors.
func pageQuery(r *http.Request, sizeKey string, defSize, maxSize int) (page, error) {
	q := r.URL.Query()
	var v sb.Validation
	num := func(key string, def, min int) int {
		s := strings.TrimSpace(q.Get(key))
		if s == "" {
			return def
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			v.Add(key, sb.FieldInvalidType, "must be an integer")
			return def
		}
		if n < min {
			v.Add(key, sb.FieldOutOfRange, "must be at least "+strconv.Itoa(min))
			return def
		}
		return n
	}
	var p page
	if (q.Has("limit") || q.Has("offset")) && !q.Has("page") && !q.Has(sizeKey) {
		p.Limit = min(num("limit", defSize, 1), maxSize)
		p.Offset = num("offset", 0, 0)
		p.Size, p.Page = p.Limit, p.Offset/p.Limit+1
	} else {
		p.Page = num("page", 1, 1)
		p.Size = min(num(sizeKey, defSize, 1), maxSize)
		p.Limit, p.Offset = p.Size, (p.Page-1)*p.Size
		if p.Page > 1_000_000_000/p.Size {
			v.Add("page", sb.FieldOutOfRange, "is too large")
		}
	}
	return p, v.Err()
}

// boolQuery reads a boolean query parameter: true/false/1/0 (also yes/no,
// case-insensitive). ok is false when absent.
func boolQuery(r *http.Request, key string) (val, ok bool, err error) {
	q := r.URL.Query()
	if !q.Has(key) {
		return false, false, nil
	}
	b, valid := parseBool(q.Get(key))
	if !valid {
		return false, false, sb.Invalid(key, sb.FieldInvalidValue, "must be true or false")
	}
	return b, true, nil
}

func parseBool(s string) (val, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes":
		return true, true
	case "0", "false", "no":
		return false, true
	}
	return false, false
}
