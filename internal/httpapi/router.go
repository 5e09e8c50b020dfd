package httpapi

import (
	"net/http"
	"sort"
	"strings"
	"unicode/utf8"
)

// router matches cleaned paths against the route table (CONTRACT §0.5):
// trailing slashes are optional, repeated slashes collapse, the resource
// family segment after /api/v1/ ("Account") is case-insensitive, a literal
// segment wins over a {parameter}. It never redirects.
type router struct {
	patterns []*pattern
}

// pattern is one path with all the routes (methods) registered on it.
type pattern struct {
	path     string
	segs     []string
	byMethod map[string]*Route
	allow    string
}

func newRouter(routes []*Route) *router {
	rt := &router{}
	index := map[string]*pattern{}
	for _, r := range routes {
		p := index[r.Path]
		if p == nil {
			p = &pattern{path: r.Path, segs: splitPath(r.Path), byMethod: map[string]*Route{}}
			index[r.Path] = p
			rt.patterns = append(rt.patterns, p)
		}
		if _, dup := p.byMethod[r.Method]; dup {
			panic("httpapi: duplicate route " + r.Method + " " + r.Path)
		}
		p.byMethod[r.Method] = r
	}
	for _, p := range rt.patterns {
		methods := []string{http.MethodOptions}
		for m := range p.byMethod {
			methods = append(methods, m)
			switch m {
			case http.MethodGet:
				methods = append(methods, http.MethodHead)
			case http.MethodPut:
				methods = append(methods, http.MethodPatch)
			}
		}
		sort.Strings(methods)
		p.allow = strings.Join(methods, ", ")
	}
	// Literal segments win: order patterns so that, position by position, a
	// literal sorts before a parameter.
	sort.SliceStable(rt.patterns, func(i, j int) bool { return moreSpecific(rt.patterns[i].segs, rt.patterns[j].segs) })
	return rt
}

func moreSpecific(a, b []string) bool {
	for k := 0; k < len(a) && k < len(b); k++ {
		pa, pb := isParam(a[k]), isParam(b[k])
		if pa != pb {
			return !pa
		}
	}
	return len(a) < len(b)
}

func isParam(seg string) bool { return strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") }

// cleanPath collapses repeated slashes and drops a trailing slash.
func cleanPath(p string) string {
	if !strings.Contains(p, "//") && (len(p) <= 1 || !strings.HasSuffix(p, "/")) {
		return p
	}
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(p); i++ {
		if p[i] == '/' && b.Len() > 0 && strings.HasSuffix(b.String(), "/") {
			continue
		}
		b.WriteByte(p[i])
	}
	s := b.String()
	if len(s) > 1 {
		s = strings.TrimSuffix(s, "/")
	}
	if s == "" {
		s = "/"
	}
	return s
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// familySegment is the index of the resource family segment, matched
// case-insensitively when the pattern's literal there is "Account".
const familySegment = 2

// match finds the pattern for a cleaned path and fills params.
func (rt *router) match(path string) (*pattern, map[string]string) {
	segs := splitPath(path)
	for _, p := range rt.patterns {
		if len(p.segs) != len(segs) {
			continue
		}
		ok := true
		for k, s := range p.segs {
			switch {
			case isParam(s):
				if segs[k] == "" {
					ok = false
				}
			case k == familySegment && s == "Account" && segs[0] == "api" && segs[1] == "v1":
				ok = strings.EqualFold(s, segs[k])
			default:
				ok = s == segs[k]
			}
			if !ok {
				break
			}
		}
		if !ok {
			continue
		}
		params := map[string]string{}
		for k, s := range p.segs {
			if isParam(s) {
				if !cleanSegment(segs[k]) {
					return nil, nil // no identifier contains control bytes or invalid UTF-8
				}
				params[s[1:len(s)-1]] = segs[k]
			}
		}
		return p, params
	}
	return nil, nil
}

// cleanSegment reports whether a path parameter is valid UTF-8 without
// control characters, so that no such byte ever reaches a query.
func cleanSegment(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}
