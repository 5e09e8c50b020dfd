package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	sb "github.com/switchboard-voice/switchboard"
	"github.com/switchboard-voice/switchboard/internal/app"
)

// The OpenAPI document and the docs page are generated from the route
// table; these tests hold the document to the router (both directions),
// to the JSON the views really write, and to itself (every $ref resolves).

func openAPITestServer(t *testing.T) *Server {
	t.Helper()
	return NewServer(Deps{Version: "1.2.3-test"})
}

// decodeDoc decodes a JSON document keeping numbers exact.
func decodeDoc(t *testing.T, b []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("document is not a JSON object: %v", err)
	}
	return doc
}

func obj(t *testing.T, v any, what string) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s: want a JSON object, got %T", what, v)
	}
	return m
}

// docOperations returns every operation of the document keyed by
// "METHOD path".
func docOperations(t *testing.T, doc map[string]any) map[string]map[string]any {
	t.Helper()
	ops := map[string]map[string]any{}
	for path, item := range obj(t, doc["paths"], "paths") {
		for method, op := range obj(t, item, path) {
			ops[strings.ToUpper(method)+" "+path] = obj(t, op, method+" "+path)
		}
	}
	return ops
}

func TestOpenAPIDocumentIsOpenAPI31(t *testing.T) {
	s := openAPITestServer(t)
	doc := decodeDoc(t, s.OpenAPI())
	if doc["openapi"] != "3.1.0" {
		t.Errorf("openapi = %v, want 3.1.0", doc["openapi"])
	}
	info := obj(t, doc["info"], "info")
	if info["title"] != "switchboard" || info["version"] != "1.2.3-test" {
		t.Errorf("info = %v %v, want switchboard 1.2.3-test", info["title"], info["version"])
	}
	if d, _ := info["description"].(string); !strings.Contains(d, "Vobiz") || !strings.Contains(d, "PATCH") {
		t.Errorf("info.description does not state the Vobiz compatibility and the switchboard choices: %q", d)
	}
	if got := fmt.Sprint(doc["servers"]); got != "[map[url:/]]" {
		t.Errorf("servers = %s, want [{url: /}]", got)
	}
	schemes := obj(t, obj(t, doc["components"], "components")["securitySchemes"], "securitySchemes")
	for name, want := range map[string]string{
		"xAuthId": "apiKey header X-Auth-ID", "xAuthToken": "apiKey header X-Auth-Token",
		"basic": "http basic", "bearerJWT": "http bearer JWT", "adminToken": "http bearer",
	} {
		sc := obj(t, schemes[name], "securityScheme "+name)
		got := strings.TrimSpace(fmt.Sprint(sc["type"], " ", strOr(sc["in"], sc["scheme"]), " ", strOr(sc["name"], sc["bearerFormat"])))
		if got != want {
			t.Errorf("securityScheme %s = %q, want %q", name, got, want)
		}
	}

	ids := map[string]string{}
	for key, op := range docOperations(t, doc) {
		id, _ := op["operationId"].(string)
		if id == "" {
			t.Errorf("%s: no operationId", key)
		}
		if prev, dup := ids[id]; dup {
			t.Errorf("operationId %q on both %s and %s", id, prev, key)
		}
		ids[id] = key
		if s, _ := op["summary"].(string); s == "" {
			t.Errorf("%s: no summary", key)
		}
		if tags, _ := op["tags"].([]any); len(tags) != 1 {
			t.Errorf("%s: tags = %v, want one area tag", key, op["tags"])
		}
		if _, ok := op["security"].([]any); !ok {
			t.Errorf("%s: security must be present (an empty list for public routes)", key)
		}
		var success int
		for status := range obj(t, op["responses"], key+" responses") {
			if status[0] == '2' {
				success++
			}
		}
		if success != 1 {
			t.Errorf("%s: %d success responses, want 1", key, success)
		}
	}
}

func strOr(a, b any) string {
	if s, ok := a.(string); ok && s != "" {
		return s
	}
	s, _ := b.(string)
	return s
}

// samplePathValue is a value the router accepts for a path parameter.
func samplePathValue(name string) string {
	switch name {
	case "auth_id":
		return "MA_ABCDEFGH"
	case "sub_auth_id":
		return "SA_ABCDEFGH"
	}
	return "sample-" + name
}

func TestOpenAPIMatchesRouter(t *testing.T) {
	s := openAPITestServer(t)
	routes := s.Routes()
	doc := decodeDoc(t, s.OpenAPI())
	ops := docOperations(t, doc)

	// Router → document: every route is exactly that operation, and every
	// PUT has its PATCH twin, because the router serves PATCH there.
	want := map[string]string{}
	for _, r := range routes {
		want[r.Method+" "+r.Path] = r.Name
		if r.Method == http.MethodPut {
			want[http.MethodPatch+" "+r.Path] = r.Name + "Patch"
		}
	}
	got := map[string]string{}
	for key, op := range ops {
		got[key], _ = op["operationId"].(string)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("operations (-router +document):\n%s", diff)
	}
	if len(want) != len(got) {
		t.Errorf("router serves %d operations, document has %d", len(want), len(got))
	}

	// Document → router: each documented operation, with sample values
	// for its parameters, reaches a route with that method.
	rt := newRouter(routes)
	served := 0
	for key, op := range ops {
		method, path, _ := strings.Cut(key, " ")
		switch method {
		case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		default:
			t.Errorf("%s: the document must not list %s operations", key, method)
			continue
		}
		concrete := path
		for _, name := range pathParams(path) {
			concrete = strings.Replace(concrete, "{"+name+"}", samplePathValue(name), 1)
		}
		for _, variant := range []string{concrete, concrete + "/"} {
			p, params := rt.match(cleanPath(variant))
			if p == nil {
				t.Errorf("%s: router does not match %s", key, variant)
				continue
			}
			if p.path != path {
				t.Errorf("%s: %s matches route path %s", key, variant, p.path)
			}
			routeMethod := method
			if method == http.MethodPatch {
				routeMethod = http.MethodPut
			}
			r := p.byMethod[routeMethod]
			if r == nil {
				t.Errorf("%s: router has no %s on %s (Allow: %s)", key, routeMethod, p.path, p.allow)
				continue
			}
			if id := op["operationId"]; id != r.Name && id != r.Name+"Patch" {
				t.Errorf("%s: operationId %v, router's route is %s", key, id, r.Name)
			}
			for _, name := range pathParams(path) {
				if params[name] != samplePathValue(name) {
					t.Errorf("%s: param %s = %q, want %q", key, name, params[name], samplePathValue(name))
				}
			}
		}
		served++
	}
	// The router's own count: every registered method plus PATCH for PUT.
	var routerOps int
	for _, p := range rt.patterns {
		for m := range p.byMethod {
			routerOps++
			if m == http.MethodPut {
				routerOps++
			}
		}
	}
	if routerOps != served {
		t.Errorf("router serves %d operations, the document %d", routerOps, served)
	}

	// Parameters: every {x} of the path as a required string path
	// parameter, and exactly the query parameters the route reads.
	for _, r := range routes {
		op := ops[r.Method+" "+r.Path]
		if op == nil {
			continue
		}
		var pathNames, queryNames []string
		headerNames := map[string]bool{}
		params, _ := op["parameters"].([]any)
		for _, raw := range params {
			prm := obj(t, raw, r.Name+" parameter")
			if ref, ok := prm["$ref"].(string); ok {
				prm = obj(t, resolveRef(doc, ref), ref)
			}
			switch prm["in"] {
			case "path":
				pathNames = append(pathNames, prm["name"].(string))
				if prm["required"] != true {
					t.Errorf("%s: path parameter %v is not required", r.Name, prm["name"])
				}
				if typ := obj(t, prm["schema"], "schema")["type"]; typ != "string" {
					t.Errorf("%s: path parameter %v has type %v", r.Name, prm["name"], typ)
				}
			case "query":
				queryNames = append(queryNames, prm["name"].(string))
			case "header":
				headerNames[prm["name"].(string)] = true
			}
		}
		if diff := cmp.Diff(pathParams(r.Path), pathNames); diff != "" {
			t.Errorf("%s: path parameters (-path +document):\n%s", r.Name, diff)
		}
		if diff := cmp.Diff(r.Doc.Query, queryNames); diff != "" {
			t.Errorf("%s: query parameters (-RouteDoc +document):\n%s", r.Name, diff)
		}
		mutating := r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodDelete
		if wantKey := mutating && r.Role != RolePublic && r.Role != RoleRefresh; headerNames["Idempotency-Key"] != wantKey {
			t.Errorf("%s: Idempotency-Key documented = %v, want %v", r.Name, headerNames["Idempotency-Key"], wantKey)
		}
		wantIfMatch := (r.Method == http.MethodPut || r.Method == http.MethodDelete) &&
			strings.HasSuffix(r.Path, "/sub-accounts/{sub_auth_id}")
		if headerNames["If-Match"] != wantIfMatch {
			t.Errorf("%s: If-Match documented = %v, want %v", r.Name, headerNames["If-Match"], wantIfMatch)
		}
	}
}

func TestOpenAPISecurityFollowsRoles(t *testing.T) {
	s := openAPITestServer(t)
	doc := decodeDoc(t, s.OpenAPI())
	ops := docOperations(t, doc)
	want := map[Role]string{
		RolePublic:   `[]`,
		RoleAdmin:    `[{"adminToken":[]}]`,
		RoleDev:      `[{"adminToken":[]}]`,
		RoleMetrics:  `[{"adminToken":[]}]`,
		RoleAny:      `[{"xAuthId":[],"xAuthToken":[]},{"basic":[]},{"bearerJWT":[]}]`,
		RoleMainSelf: `[{"xAuthId":[],"xAuthToken":[]},{"basic":[]},{"bearerJWT":[]}]`,
		RoleParent:   `[{"xAuthId":[],"xAuthToken":[]},{"basic":[]},{"bearerJWT":[]}]`,
		RoleRefresh:  `[{"bearerJWT":[]}]`,
	}
	for _, r := range s.Routes() {
		w, ok := want[r.Role]
		if !ok {
			t.Errorf("%s: role %q has no expected security in this test", r.Name, r.Role)
			continue
		}
		got, _ := json.Marshal(ops[r.Method+" "+r.Path]["security"])
		if string(got) != w {
			t.Errorf("%s (%s): security = %s, want %s", r.Name, r.Role, got, w)
		}
	}
}

func TestOpenAPIResponses(t *testing.T) {
	s := openAPITestServer(t)
	doc := decodeDoc(t, s.OpenAPI())
	ops := docOperations(t, doc)
	for _, r := range s.Routes() {
		for _, method := range []string{r.Method, http.MethodPatch} {
			if method == http.MethodPatch && r.Method != http.MethodPut {
				continue
			}
			key := method + " " + r.Path
			responses := obj(t, ops[key]["responses"], key)
			success := obj(t, responses[fmt.Sprint(r.Doc.Status)], key+" success")
			content := obj(t, success["content"], key+" content")
			switch {
			case r.Doc.Text && r.Path == "/metrics":
				if content["text/plain"] == nil {
					t.Errorf("%s: want text/plain, got %v", key, content)
				}
			case r.Doc.Text && r.Path == "/docs":
				if content["text/html"] == nil {
					t.Errorf("%s: want text/html, got %v", key, content)
				}
			case r.Doc.Response != "":
				sch := obj(t, obj(t, content["application/json"], key)["schema"], key)
				if sch["$ref"] != "#/components/schemas/"+r.Doc.Response {
					t.Errorf("%s: success schema %v, want %s", key, sch, r.Doc.Response)
				}
			}
			if r.Doc.Request != "" {
				rb := obj(t, ops[key]["requestBody"], key+" requestBody")
				sch := obj(t, obj(t, obj(t, rb["content"], key)["application/json"], key)["schema"], key)
				if sch["$ref"] != "#/components/schemas/"+r.Doc.Request {
					t.Errorf("%s: request schema %v, want %s", key, sch, r.Doc.Request)
				}
			} else if ops[key]["requestBody"] != nil {
				t.Errorf("%s: documents a request body the route does not read", key)
			}
			headers, _ := success["headers"].(map[string]any)
			for _, h := range successHeaders[r.Name] {
				if headers[h] == nil {
					t.Errorf("%s: success response lacks header %s", key, h)
				}
			}
			// Every error response is the one Error body.
			for status, raw := range responses {
				if status[0] != '4' && status[0] != '5' {
					continue
				}
				resp := obj(t, raw, key+" "+status)
				if ref, ok := resp["$ref"].(string); ok {
					resp = obj(t, resolveRef(doc, ref), ref)
				}
				sch := obj(t, obj(t, obj(t, resp["content"], key)["application/json"], key)["schema"], key)
				wantSchema := "#/components/schemas/Error"
				if r.Name == "readyz" && status == "503" {
					wantSchema = "#/components/schemas/NotReady"
				}
				if sch["$ref"] != wantSchema {
					t.Errorf("%s %s: schema %v, want %s", key, status, sch["$ref"], wantSchema)
				}
			}
			// Spot checks of which errors a route documents.
			has := func(status string) bool { return responses[status] != nil }
			if r.Role != RolePublic && !has("401") {
				t.Errorf("%s: authenticated route without 401", key)
			}
			if r.Role.accountRole() && (!has("403") || !has("429")) {
				t.Errorf("%s: account route without 403 and 429", key)
			}
			if strings.Contains(r.Path, "{") && !has("404") {
				t.Errorf("%s: route with path parameters without 404", key)
			}
			if r.Doc.Request != "" && (!has("400") || !has("413") || !has("415")) {
				t.Errorf("%s: route with a body without 400, 413 and 415", key)
			}
			if has("412") != (strings.HasSuffix(r.Path, "/sub-accounts/{sub_auth_id}") && method != http.MethodGet) {
				t.Errorf("%s: 412 documented = %v", key, has("412"))
			}
		}
	}

	// The Error schema lists every code the server writes, and every
	// field error code.
	schemas := obj(t, obj(t, doc["components"], "components")["schemas"], "schemas")
	errSchema := obj(t, schemas["Error"], "Error")
	var codes []string
	for _, c := range obj(t, obj(t, errSchema["properties"], "Error.properties")["error"], "error")["enum"].([]any) {
		codes = append(codes, c.(string))
	}
	var wantCodes []string
	for c := range statusOf {
		wantCodes = append(wantCodes, c)
	}
	sort.Strings(wantCodes)
	if diff := cmp.Diff(wantCodes, codes); diff != "" {
		t.Errorf("Error.error enum (-statusOf +document):\n%s", diff)
	}
	if got := fmt.Sprint(errSchema["required"]); got != "[api_id error message]" {
		t.Errorf("Error.required = %s", got)
	}
}

// resolveRef follows a local reference in the decoded document.
func resolveRef(doc map[string]any, ref string) any {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil
	}
	var cur any = doc
	for _, tok := range strings.Split(rest, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[tok]
	}
	return cur
}

func TestOpenAPIRefsResolve(t *testing.T) {
	s := openAPITestServer(t)
	doc := decodeDoc(t, s.OpenAPI())
	var refs int
	var walk func(at string, v any)
	walk = func(at string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok {
				refs++
				if !strings.HasPrefix(ref, "#/components/") || resolveRef(doc, ref) == nil {
					t.Errorf("%s: $ref %q does not resolve", at, ref)
				}
			}
			for k, c := range x {
				walk(at+"/"+k, c)
			}
		case []any:
			for i, c := range x {
				walk(fmt.Sprintf("%s/%d", at, i), c)
			}
		}
	}
	walk("#", doc)
	if refs == 0 {
		t.Fatal("no $ref found; the walk is broken")
	}
	// Every schema a RouteDoc names is defined.
	schemas := obj(t, obj(t, doc["components"], "components")["schemas"], "schemas")
	for _, r := range s.Routes() {
		for _, name := range []string{r.Doc.Request, r.Doc.Response} {
			if name != "" && schemas[name] == nil {
				t.Errorf("%s names undefined schema %s", r.Name, name)
			}
		}
	}
}

func TestOpenAPIHandlerFactsNameRoutes(t *testing.T) {
	names := map[string]bool{}
	for _, r := range (&Server{}).routeTable() {
		names[r.Name] = true
	}
	for name := range successHeaders {
		if !names[name] {
			t.Errorf("successHeaders names %q, which is no route", name)
		}
	}
	for name := range textMedia {
		if !names[name] {
			t.Errorf("textMedia names %q, which is no route", name)
		}
	}
}

func TestOpenAPIRejectsUndefinedSchema(t *testing.T) {
	routes := (&Server{}).routeTable()
	routes = append(routes, &Route{Method: http.MethodGet, Path: "/api/v1/nowhere", Role: RoleAny, Name: "nowhere",
		Summary: "x", Doc: doc("", "NoSuchSchema", 200)})
	if _, err := generateOpenAPI(routes, "v"); err == nil || !strings.Contains(err.Error(), "NoSuchSchema") {
		t.Errorf("generateOpenAPI error = %v, want one naming NoSuchSchema", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("buildOpenAPI did not panic on an undefined schema")
		}
	}()
	buildOpenAPI(routes, "v")
}

func TestOpenAPIDeterministic(t *testing.T) {
	a := OpenAPIDocument("v9")
	b := OpenAPIDocument("v9")
	c := NewServer(Deps{Version: "v9"}).OpenAPI()
	if !bytes.Equal(a, b) || !bytes.Equal(a, c) {
		t.Fatal("two builds of the document differ")
	}
	if !bytes.Equal(renderDocs(a), renderDocs(c)) {
		t.Fatal("two renders of the docs page differ")
	}
}

// schemaChecker validates JSON values against the document's schemas: the
// subset of JSON Schema the generator uses (type, enum, required,
// properties, additionalProperties false, items, oneOf, $ref, pattern,
// date-time and uuid formats, minimum/maximum).
type schemaChecker struct{ doc map[string]any }

var (
	wireTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$`)
	wireUUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		if strings.ContainsAny(string(x), ".eE") {
			return "number"
		}
		return "integer"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func (c schemaChecker) check(s map[string]any, v any, at string) []string {
	if ref, ok := s["$ref"].(string); ok {
		target, _ := resolveRef(c.doc, ref).(map[string]any)
		if target == nil {
			return []string{at + ": unresolved " + ref}
		}
		return c.check(target, v, at)
	}
	if alts, ok := s["oneOf"].([]any); ok {
		var matched int
		var why []string
		for i, a := range alts {
			errs := c.check(a.(map[string]any), v, fmt.Sprintf("%s(oneOf %d)", at, i))
			if len(errs) == 0 {
				matched++
			}
			why = append(why, errs...)
		}
		if matched != 1 {
			return append([]string{fmt.Sprintf("%s: matches %d of the oneOf alternatives", at, matched)}, why...)
		}
		return nil
	}
	var errs []string
	vt := jsonType(v)
	if t, ok := s["type"]; ok {
		var allowed []string
		switch x := t.(type) {
		case string:
			allowed = []string{x}
		case []any:
			for _, y := range x {
				allowed = append(allowed, y.(string))
			}
		}
		ok := false
		for _, a := range allowed {
			if a == vt || (a == "number" && vt == "integer") {
				ok = true
			}
		}
		if !ok {
			return []string{fmt.Sprintf("%s: %s, want %v", at, vt, allowed)}
		}
	}
	if enum, ok := s["enum"].([]any); ok {
		got, _ := json.Marshal(v)
		found := false
		for _, e := range enum {
			w, _ := json.Marshal(e)
			found = found || bytes.Equal(got, w)
		}
		if !found {
			errs = append(errs, fmt.Sprintf("%s: %s not in enum %v", at, got, enum))
		}
	}
	switch x := v.(type) {
	case string:
		if pat, ok := s["pattern"].(string); ok && !regexp.MustCompile(pat).MatchString(x) {
			errs = append(errs, fmt.Sprintf("%s: %q does not match %s", at, x, pat))
		}
		switch s["format"] {
		case "date-time":
			if !wireTime.MatchString(x) {
				errs = append(errs, fmt.Sprintf("%s: %q is not a §0.2 time", at, x))
			}
		case "uuid":
			if !wireUUID.MatchString(x) {
				errs = append(errs, fmt.Sprintf("%s: %q is not a UUID", at, x))
			}
		}
	case json.Number:
		f, _ := x.Float64()
		if m, ok := s["minimum"].(json.Number); ok {
			if lo, _ := m.Float64(); f < lo {
				errs = append(errs, fmt.Sprintf("%s: %s below minimum %s", at, x, m))
			}
		}
		if m, ok := s["maximum"].(json.Number); ok {
			if hi, _ := m.Float64(); f > hi {
				errs = append(errs, fmt.Sprintf("%s: %s above maximum %s", at, x, m))
			}
		}
	case []any:
		if items, ok := s["items"].(map[string]any); ok {
			for i, e := range x {
				errs = append(errs, c.check(items, e, fmt.Sprintf("%s[%d]", at, i))...)
			}
		}
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		if req, ok := s["required"].([]any); ok {
			for _, k := range req {
				if _, present := x[k.(string)]; !present {
					errs = append(errs, fmt.Sprintf("%s: missing required key %s", at, k))
				}
			}
		}
		for k, val := range x {
			ps, known := props[k].(map[string]any)
			if !known {
				if s["additionalProperties"] == false {
					errs = append(errs, fmt.Sprintf("%s: unexpected key %s", at, k))
				}
				continue
			}
			errs = append(errs, c.check(ps, val, at+"."+k)...)
		}
	}
	return errs
}

// checkAgainst marshals v as the server would and validates it against
// the named component schema.
func (c schemaChecker) checkAgainst(t *testing.T, name string, v any) map[string]any {
	t.Helper()
	var body []byte
	switch b := v.(type) {
	case []byte:
		body = b
	default:
		var err error
		if body, err = json.Marshal(v); err != nil {
			t.Fatalf("%s: marshal: %v", name, err)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var val any
	if err := dec.Decode(&val); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for _, e := range c.check(map[string]any{"$ref": "#/components/schemas/" + name}, val, name) {
		t.Error(e)
	}
	m, _ := val.(map[string]any)
	return m
}

// schemaKeys returns the required keys and the property names of an
// object schema, each sorted.
func schemaKeys(t *testing.T, doc map[string]any, name string) (required, properties []string) {
	t.Helper()
	sch := obj(t, resolveRef(doc, "#/components/schemas/"+name), name)
	for _, k := range sch["required"].([]any) {
		required = append(required, k.(string))
	}
	for k := range obj(t, sch["properties"], name+".properties") {
		properties = append(properties, k)
	}
	sort.Strings(required)
	sort.Strings(properties)
	return required, properties
}

func keysOf(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func strp(s string) *string { return &s }

func sampleAccounts() (mainAcct, subFull, subBare *sb.Account) {
	now := time.Date(2026, 11, 27, 10, 15, 30, 123456000, time.UTC)
	later := now.Add(90 * time.Minute)
	mainAcct = &sb.Account{ID: 100001, APIID: "0193a7c4-5d2e-7f10-9b1c-3e4f5a6b7c8d", AuthID: "MA_7QK2M9ZD",
		Name: "Acme Voice", Email: strp("ops@acme.test"), Currency: "INR", Enabled: true, ParentEnabled: true,
		RateLimit: 6000, MaxSubAccounts: 1000, LowBalanceThreshold: 2_500_000, Pricing: sb.DefaultPricing(),
		SubAccountCount: 3, Version: 1, CreatedAt: now, UpdatedAt: now}
	subFull = &sb.Account{ID: 100002, APIID: "0193a7c4-5d2e-7f10-9b1c-3e4f5a6b7c8e", AuthID: "SA_K3P9X2LQ",
		ParentID: 100001, ParentAuthID: "MA_7QK2M9ZD", Name: "Support Team", Email: strp("support@example.com"),
		Phone: strp("+14155550100"), Description: strp("Support line"), Permissions: &sb.Permissions{Calls: true, CDR: false},
		RateLimit: 1000, Enabled: true, ParentEnabled: true, EmailVerified: true, KYCMode: sb.KYCCustomerUse,
		BusinessType: strp("llp"), KYCCallsBlocked: true, Currency: "INR", Version: 3, CreatedAt: now, UpdatedAt: later,
		LastUsed: &later}
	subBare = &sb.Account{ID: 100003, APIID: "0193a7c4-5d2e-7f10-9b1c-3e4f5a6b7c8f", AuthID: "SA_00000001",
		ParentID: 100001, ParentAuthID: "MA_7QK2M9ZD", Name: "Bare", RateLimit: 1, Enabled: false, ParentEnabled: true,
		KYCMode: sb.KYCPersonalUse, Currency: "INR", Version: 1, CreatedAt: now, UpdatedAt: now}
	return mainAcct, subFull, subBare
}

// TestOpenAPIViewsMatchSchemas holds the response schemas to the JSON the
// views write: the same key set, and values of the documented types.
func TestOpenAPIViewsMatchSchemas(t *testing.T) {
	s := openAPITestServer(t)
	doc := decodeDoc(t, s.OpenAPI())
	c := schemaChecker{doc}
	mainAcct, subFull, subBare := sampleAccounts()
	token := strings.Repeat("k8Zt", 10)

	exactKeys := func(name string, sample map[string]any) {
		t.Helper()
		required, properties := schemaKeys(t, doc, name)
		if diff := cmp.Diff(keysOf(sample), required); diff != "" {
			t.Errorf("%s.required (-view +schema):\n%s", name, diff)
		}
		if diff := cmp.Diff(keysOf(sample), properties); diff != "" {
			t.Errorf("%s.properties (-view +schema):\n%s", name, diff)
		}
		if sch := obj(t, resolveRef(doc, "#/components/schemas/"+name), name); sch["additionalProperties"] != false {
			t.Errorf("%s: additionalProperties must be false for an exact key set", name)
		}
	}

	sub := c.checkAgainst(t, "SubAccount", subAccountJSON(subFull, ""))
	exactKeys("SubAccount", sub)
	if len(sub) != 25 {
		t.Errorf("SubAccount view has %d keys, CONTRACT §4.1 says 25", len(sub))
	}
	exactKeys("SubAccount", c.checkAgainst(t, "SubAccount", subAccountJSON(subBare, token)))
	exactKeys("MainAccount", c.checkAgainst(t, "MainAccount", mainAccountJSON(mainAcct)))
	exactKeys("Me", c.checkAgainst(t, "Me", meJSON(mainAcct)))
	exactKeys("Me", c.checkAgainst(t, "Me", meJSON(subFull)))
	exactKeys("Pricing", c.checkAgainst(t, "Pricing", sb.DefaultPricing()))

	expires := time.Date(2026, 11, 28, 10, 15, 30, 123456000, time.UTC)
	exactKeys("Rotation", c.checkAgainst(t, "Rotation", rotationJSON(&app.RotationResult{AuthID: "MA_7QK2M9ZD", AuthToken: token, PreviousExpiresAt: &expires})))
	c.checkAgainst(t, "Rotation", rotationJSON(&app.RotationResult{AuthID: "SA_K3P9X2LQ", AuthToken: token}))
	login := &app.LoginResult{TokenPair: sb.TokenPair{AccessToken: "eyJ.a.b", RefreshToken: "eyJ.c.d", TokenType: "bearer", ExpiresIn: 1800}, AuthID: "SA_K3P9X2LQ"}
	exactKeys("LoginResponse", c.checkAgainst(t, "LoginResponse", tokenPairJSON(login)))
	exactKeys("TokenPair", c.checkAgainst(t, "TokenPair", login.TokenPair))

	settled := sb.Money(12_500_000)
	plan := &app.DeletePlan{SubAuthID: "SA_K3P9X2LQ", Cascade: false, NumbersRehomed: []string{"+918000000001"},
		NumbersReleased: []string{}, TrunksRehomed: []string{"6f1c2b1e-0d3a-4c55-9a4e-2f6c0b7d8e90"}, TrunksDeleted: []string{},
		KYCSessionsRevoked: []string{}, BalanceSettlement: &settled, Currency: "INR", ActiveCalls: 0}
	exactKeys("SubAccountDeletePlan", c.checkAgainst(t, "SubAccountDeleted", deletePlanJSON(plan)))
	plan.BalanceSettlement = nil
	c.checkAgainst(t, "SubAccountDeleted", deletePlanJSON(plan))
	c.checkAgainst(t, "SubAccountDeleted", map[string]string{"message": "Sub-account deleted successfully"})

	// Audit log and webhooks (§10).
	now := mainAcct.CreatedAt
	hash := strings.Repeat("ab", 32)
	full := &sb.AuditRecord{ID: 1024, OccurredAt: now, RequestID: "req-1", ActorType: "account", ActorID: "MA_7QK2M9ZD",
		ActorRole: "parent", TenantID: "MA_7QK2M9ZD", Action: "subaccount.update", TargetType: "sub_account",
		TargetID: "SA_K3P9X2LQ", Outcome: sb.OutcomeSuccess, StatusCode: 200, SourceIP: "203.0.113.7",
		Changes: map[string]sb.Change{"enabled": {Before: true, After: false}}, Reason: strp("because"),
		PrevHash: sb.GenesisHash, Hash: hash}
	bare := &sb.AuditRecord{ID: 1, OccurredAt: now, ActorType: "admin", ActorID: "admin", Action: "admin.account.create",
		Outcome: sb.OutcomeSuccess, StatusCode: 201, PrevHash: hash, Hash: hash}
	exactKeys("AuditRecord", c.checkAgainst(t, "AuditRecord", full.Object(true)))
	cursor := "YTox"
	exactKeys("AuditPage", c.checkAgainst(t, "AuditPage", auditJSON(&app.AuditPage{Records: []*sb.AuditRecord{full, bare}, NextCursor: &cursor})))
	c.checkAgainst(t, "AuditPage", auditJSON(&app.AuditPage{}))
	exactKeys("Webhook", c.checkAgainst(t, "Webhook", webhookJSON(&app.WebhookView{URL: strp("https://hooks.example.com/x"), Events: []string{"*"}, SecretHint: "whsec_…Ab12"})))
	c.checkAgainst(t, "Webhook", webhookJSON(&app.WebhookView{Events: []string{"subaccount.created"}, SecretHint: "whsec_…Ab12"}))
	code := 200
	later := now.Add(time.Minute)
	delivery := &sb.Delivery{ID: "dlv_0193a7c4-5d2e-7f10-9b1c-3e4f5a6b7c8d", EventID: "evt_0193a7c4-5d2e-7f10-9b1c-3e4f5a6b7c8d",
		Event: "subaccount.created", URL: "https://hooks.example.com/x", Status: sb.DeliveryPending,
		Attempts:      []sb.DeliveryAttempt{{At: now, StatusCode: &code, DurationMS: 12}, {At: later, Error: strp("timeout"), DurationMS: 10000}},
		NextAttemptAt: &later, CreatedAt: now, UpdatedAt: later}
	exactKeys("Delivery", c.checkAgainst(t, "Delivery", deliveryJSON(delivery)))
	delivery.Attempts, delivery.NextAttemptAt, delivery.Status = nil, nil, sb.DeliverySucceeded
	c.checkAgainst(t, "Delivery", deliveryJSON(delivery))
}

// TestOpenAPIServedBodiesMatchSchemas sends requests through the real
// handler for the routes that need no store, and validates the bodies.
func TestOpenAPIServedBodiesMatchSchemas(t *testing.T) {
	s := openAPITestServer(t)
	doc := decodeDoc(t, s.OpenAPI())
	c := schemaChecker{doc}
	serve := func(method, path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		return rec
	}

	if rec := serve(http.MethodGet, "/healthz"); rec.Code != 200 {
		t.Errorf("GET /healthz = %d", rec.Code)
	} else {
		c.checkAgainst(t, "Health", rec.Body.Bytes())
	}
	if rec := serve(http.MethodGet, "/openapi.json"); !bytes.Equal(rec.Body.Bytes(), s.OpenAPI()) {
		t.Error("GET /openapi.json does not serve the built document")
	}
	rec := serve(http.MethodGet, "/docs")
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("GET /docs Content-Type = %q", ct)
	}
	if !bytes.Equal(rec.Body.Bytes(), renderDocs(s.OpenAPI())) {
		t.Error("GET /docs does not serve the page rendered from the document")
	}
	rec = serve(http.MethodPost, "/healthz")
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") == "" {
		t.Errorf("POST /healthz = %d Allow %q, want 405 with Allow", rec.Code, rec.Header().Get("Allow"))
	}
	c.checkAgainst(t, "Error", rec.Body.Bytes())
	c.checkAgainst(t, "Error", serve(http.MethodGet, "/api/v1/no-such-thing").Body.Bytes())

	// Error bodies as writeError writes them, validation details included.
	for _, err := range []error{
		&sb.Error{Code: sb.EValidation, Message: "invalid", Details: []sb.FieldError{{Field: "email", Code: sb.FieldRequired, Message: "is required"}}},
		sb.Errorf(sb.EValidation, "no details"),
		sb.Errorf(sb.ENotFound, "sub-account not found"),
		sb.Errorf(sb.ERateLimited, "slow down"),
		fmt.Errorf("boom"),
	} {
		rec := httptest.NewRecorder()
		s.writeError(rec, httptest.NewRequest(http.MethodGet, "/", nil), err)
		body := c.checkAgainst(t, "Error", rec.Body.Bytes())
		if code, _ := body["error"].(string); HTTPStatus(code) != rec.Code {
			t.Errorf("%v: status %d for code %s", err, rec.Code, code)
		}
	}
}

var externalResource = regexp.MustCompile(`(?i)<\s*(script|link|img|iframe|object|embed|source|video|audio)\b|(src|href|action|srcset|poster|data)\s*=\s*["']?\s*(https?:)?//|url\s*\(|@import`)

func TestDocsPage(t *testing.T) {
	s := openAPITestServer(t)
	page := renderDocs(s.OpenAPI())
	html := string(page)
	for _, want := range []string{"<!doctype html>", `name="viewport"`, "<style>", "switchboard", "Vobiz"} {
		if !strings.Contains(html, want) {
			t.Errorf("docs page lacks %q", want)
		}
	}
	if strings.Contains(strings.ToLower(html), "<script") {
		t.Error("docs page contains a script element")
	}
	if m := externalResource.FindString(html); m != "" {
		t.Errorf("docs page loads an external resource or script: %q", m)
	}
	doc := decodeDoc(t, s.OpenAPI())
	for key, op := range docOperations(t, doc) {
		method, path, _ := strings.Cut(key, " ")
		anchor := `id="op-` + op["operationId"].(string) + `"`
		i := strings.Index(html, anchor)
		if i < 0 {
			t.Errorf("docs page has no section for %s", key)
			continue
		}
		section := html[i:]
		if end := strings.Index(section, "</article>"); end >= 0 {
			section = section[:end]
		}
		for _, want := range []string{method, path, op["summary"].(string)} {
			if !strings.Contains(section, htmlEscaped(want)) {
				t.Errorf("docs section of %s lacks %q", key, want)
			}
		}
	}
	for _, r := range s.Routes() {
		if r.Doc.Response != "" && !strings.Contains(html, `id="schema-`+r.Doc.Response+`"`) {
			t.Errorf("docs page does not describe schema %s", r.Doc.Response)
		}
	}
	// The SubAccount table shows every key with its nullability.
	i := strings.Index(html, `id="schema-SubAccount"`)
	table := html[i : i+strings.Index(html[i:], "</article>")]
	if n := strings.Count(table, "<tr><td><code>"); n != 25 {
		t.Errorf("SubAccount table has %d rows, want 25", n)
	}
	if !strings.Contains(table, "<td><code>last_used</code></td><td>string (date-time)</td><td>yes</td><td>yes</td>") {
		t.Error("SubAccount table does not show last_used as a required, nullable date-time")
	}
}

// htmlEscaped is what html/template makes of plain text.
func htmlEscaped(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '"':
			b.WriteString("&#34;")
		case '\'':
			b.WriteString("&#39;")
		case '+':
			b.WriteString("&#43;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func TestDocsEscapesDocumentText(t *testing.T) {
	routes := []*Route{{Method: http.MethodGet, Path: "/healthz", Role: RolePublic, Name: "healthz",
		Summary: `<script>alert("x")</script> & <img src=https://evil.example/x.png>`, Doc: docOps("Health")}}
	b, err := generateOpenAPI(routes, `"><script>v</script>`)
	if err != nil {
		t.Fatal(err)
	}
	html := string(renderDocs(b))
	if strings.Contains(html, "<script") || strings.Contains(html, "<img") {
		t.Errorf("document text reached the page unescaped:\n%s", html)
	}
	if !strings.Contains(html, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
		t.Error("summary is not shown escaped")
	}
}
