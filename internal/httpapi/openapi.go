package httpapi

import "encoding/json"

// buildOpenAPI is a placeholder replaced by the full generator.
func buildOpenAPI(routes []*Route, version string) []byte {
	paths := map[string]any{}
	for _, r := range routes {
		m, _ := paths[r.Path].(map[string]any)
		if m == nil {
			m = map[string]any{}
			paths[r.Path] = m
		}
		m[lower(r.Method)] = map[string]any{"operationId": r.Name, "summary": r.Summary}
	}
	b, _ := json.Marshal(map[string]any{"openapi": "3.1.0", "info": map[string]any{"title": "switchboard", "version": version}, "paths": paths})
	return b
}

func lower(s string) string {
	b := []byte(s)
	for i := range b {
		if b[i] >= 'A' && b[i] <= 'Z' {
			b[i] += 32
		}
	}
	return string(b)
}

func renderDocs(openapi []byte) []byte { return []byte("<!doctype html><title>switchboard</title>") }

// OpenAPIDocument returns the document that GET /openapi.json serves.
func OpenAPIDocument(version string) []byte {
	return buildOpenAPI((&Server{}).routeTable(), version)
}
