package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"sort"
	"strconv"
	"strings"
)

// renderDocs renders GET /docs (CONTRACT §11) from the OpenAPI document
// bytes, so the page can never disagree with /openapi.json. The page is
// self-contained: inline CSS, no JavaScript, no external resources, and
// html/template escapes every value taken from the document. A document
// it cannot read is a programming error and panics at start-up.
func renderDocs(openapi []byte) []byte {
	page, err := docsPageOf(openapi)
	if err != nil {
		panic(err)
	}
	var buf bytes.Buffer
	if err := docsTemplate.Execute(&buf, page); err != nil {
		panic(fmt.Errorf("docs: render: %w", err))
	}
	return buf.Bytes()
}

// The subset of the OpenAPI document the page reads.

type docSchema struct {
	Ref                  string                `json:"$ref"`
	Type                 any                   `json:"type"` // string or []string
	Format               string                `json:"format"`
	Pattern              string                `json:"pattern"`
	Enum                 []any                 `json:"enum"`
	Default              any                   `json:"default"`
	Minimum              *json.Number          `json:"minimum"`
	Maximum              *json.Number          `json:"maximum"`
	MinLength            *int                  `json:"minLength"`
	MaxLength            *int                  `json:"maxLength"`
	Items                *docSchema            `json:"items"`
	Properties           map[string]*docSchema `json:"properties"`
	Required             []string              `json:"required"`
	AdditionalProperties any                   `json:"additionalProperties"`
	OneOf                []*docSchema          `json:"oneOf"`
	Description          string                `json:"description"`
}

type docParameter struct {
	Ref         string     `json:"$ref"`
	Name        string     `json:"name"`
	In          string     `json:"in"`
	Description string     `json:"description"`
	Required    bool       `json:"required"`
	Schema      *docSchema `json:"schema"`
}

type docMedia struct {
	Schema *docSchema `json:"schema"`
}

type docHeader struct {
	Ref string `json:"$ref"`
}

type docResponse struct {
	Ref         string               `json:"$ref"`
	Description string               `json:"description"`
	Headers     map[string]docHeader `json:"headers"`
	Content     map[string]docMedia  `json:"content"`
}

type docOperation struct {
	OperationID string                `json:"operationId"`
	Summary     string                `json:"summary"`
	Description string                `json:"description"`
	Tags        []string              `json:"tags"`
	Security    []map[string][]string `json:"security"`
	Parameters  []docParameter        `json:"parameters"`
	RequestBody *struct {
		Required bool                `json:"required"`
		Content  map[string]docMedia `json:"content"`
	} `json:"requestBody"`
	Responses map[string]docResponse `json:"responses"`
}

type docDocument struct {
	OpenAPI string `json:"openapi"`
	Info    struct {
		Title       string `json:"title"`
		Version     string `json:"version"`
		Description string `json:"description"`
	} `json:"info"`
	Tags []struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	} `json:"tags"`
	Paths      map[string]map[string]docOperation `json:"paths"`
	Components struct {
		Schemas         map[string]*docSchema   `json:"schemas"`
		Responses       map[string]docResponse  `json:"responses"`
		Parameters      map[string]docParameter `json:"parameters"`
		SecuritySchemes map[string]struct {
			Type         string `json:"type"`
			Scheme       string `json:"scheme"`
			In           string `json:"in"`
			Name         string `json:"name"`
			BearerFormat string `json:"bearerFormat"`
			Description  string `json:"description"`
		} `json:"securitySchemes"`
	} `json:"components"`
}

// The page model.

type docsPage struct {
	Title, Version, OpenAPI string
	Description             []string
	Sections                []docsSection
	Security                []docsScheme
	Schemas                 []docsSchemaView
}

type docsSection struct {
	Tag, Description string
	Ops              []docsOp
}

type docsOp struct {
	Anchor, Method, Path, OperationID, Summary, Description string
	Security                                                []string
	Params                                                  []docsParam
	Request                                                 *docsBody
	Responses                                               []docsResp
}

type docsParam struct {
	Name, In, Type, Description string
	Required                    bool
}

type docsBody struct {
	Media, Schema string
	Required      bool
	Shape         docsShape
}

type docsResp struct {
	Status, Description, Media, Schema string
	Headers                            []string
	Shape                              docsShape
}

// docsShape is how a schema is shown: a property table, alternatives, or
// a plain type.
type docsShape struct {
	Type   string
	OneOf  []docsAlt
	Props  []docsProp
	Closed bool
}

// docsAlt is one alternative of a oneOf; Link names a component schema.
type docsAlt struct{ Type, Link string }

type docsProp struct {
	Name, Type, Link, Description string
	Required, Nullable            bool
}

type docsScheme struct {
	Name, Kind, Description string
}

type docsSchemaView struct {
	Name, Description string
	Shape             docsShape
}

var docsMethodOrder = map[string]int{"get": 0, "post": 1, "put": 2, "patch": 3, "delete": 4}

func docsPageOf(openapi []byte) (*docsPage, error) {
	var d docDocument
	dec := json.NewDecoder(bytes.NewReader(openapi))
	dec.UseNumber()
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("docs: read OpenAPI document: %w", err)
	}
	pg := &docsPage{Title: d.Info.Title, Version: d.Info.Version, OpenAPI: d.OpenAPI}
	for _, para := range strings.Split(d.Info.Description, "\n\n") {
		if para = strings.TrimSpace(para); para != "" {
			pg.Description = append(pg.Description, para)
		}
	}

	sections := map[string]*docsSection{}
	var order []string
	for _, t := range d.Tags {
		sections[t.Name] = &docsSection{Tag: t.Name, Description: t.Description}
		order = append(order, t.Name)
	}
	paths := make([]string, 0, len(d.Paths))
	for path := range d.Paths {
		paths = append(paths, path)
	}
	sort.Strings(paths)
	for _, path := range paths {
		methods := make([]string, 0, len(d.Paths[path]))
		for m := range d.Paths[path] {
			methods = append(methods, m)
		}
		sort.Slice(methods, func(i, j int) bool { return docsMethodRank(methods[i]) < docsMethodRank(methods[j]) })
		for _, m := range methods {
			op := d.Paths[path][m]
			tag := "other"
			if len(op.Tags) > 0 {
				tag = op.Tags[0]
			}
			sec := sections[tag]
			if sec == nil {
				sec = &docsSection{Tag: tag}
				sections[tag] = sec
				order = append(order, tag)
			}
			sec.Ops = append(sec.Ops, d.operationView(path, m, op))
		}
	}
	for _, tag := range order {
		if s := sections[tag]; len(s.Ops) > 0 {
			pg.Sections = append(pg.Sections, *s)
		}
	}

	names := make([]string, 0, len(d.Components.SecuritySchemes))
	for n := range d.Components.SecuritySchemes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := d.Components.SecuritySchemes[n]
		kind := s.Type
		switch {
		case s.Type == "apiKey":
			kind = "API key in " + s.In + " " + s.Name
		case s.Type == "http":
			kind = "HTTP " + s.Scheme
			if s.BearerFormat != "" {
				kind += " (" + s.BearerFormat + ")"
			}
		}
		pg.Security = append(pg.Security, docsScheme{Name: n, Kind: kind, Description: s.Description})
	}

	names = names[:0]
	for n := range d.Components.Schemas {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := d.Components.Schemas[n]
		pg.Schemas = append(pg.Schemas, docsSchemaView{Name: n, Description: s.Description, Shape: d.shapeOf(s)})
	}
	return pg, nil
}

func docsMethodRank(m string) int {
	if r, ok := docsMethodOrder[m]; ok {
		return r
	}
	return len(docsMethodOrder)
}

func (d *docDocument) operationView(path, method string, op docOperation) docsOp {
	v := docsOp{Anchor: "op-" + op.OperationID, Method: strings.ToUpper(method), Path: path,
		OperationID: op.OperationID, Summary: op.Summary, Description: op.Description}
	if len(op.Security) == 0 {
		v.Security = []string{"none (public)"}
	}
	for _, req := range op.Security {
		schemes := make([]string, 0, len(req))
		for n := range req {
			schemes = append(schemes, n)
		}
		sort.Strings(schemes)
		v.Security = append(v.Security, strings.Join(schemes, " + "))
	}
	for _, prm := range op.Parameters {
		if prm.Ref != "" {
			prm = d.Components.Parameters[docsRefName(prm.Ref)]
		}
		v.Params = append(v.Params, docsParam{Name: prm.Name, In: prm.In, Required: prm.Required,
			Type: docsTypeOf(prm.Schema), Description: docsJoin(prm.Description, docsConstraints(prm.Schema))})
	}
	if rb := op.RequestBody; rb != nil {
		for _, media := range docsSortedKeys(rb.Content) {
			s := rb.Content[media].Schema
			v.Request = &docsBody{Media: media, Required: rb.Required, Schema: docsRefName(docsRefOf(s)), Shape: d.shapeOf(s)}
			break
		}
	}
	statuses := make([]string, 0, len(op.Responses))
	for st := range op.Responses {
		statuses = append(statuses, st)
	}
	sort.Strings(statuses)
	for _, st := range statuses {
		resp := op.Responses[st]
		if resp.Ref != "" {
			resp = d.Components.Responses[docsRefName(resp.Ref)]
		}
		rv := docsResp{Status: st, Description: resp.Description, Headers: docsSortedKeys(resp.Headers)}
		for _, media := range docsSortedKeys(resp.Content) {
			s := resp.Content[media].Schema
			rv.Media, rv.Schema = media, docsRefName(docsRefOf(s))
			if code, _ := strconv.Atoi(st); code < 400 {
				rv.Shape = d.shapeOf(s) // errors share the Error schema, listed once below
			}
			break
		}
		v.Responses = append(v.Responses, rv)
	}
	return v
}

// shapeOf resolves a schema reference and describes its shape.
func (d *docDocument) shapeOf(s *docSchema) docsShape {
	if s == nil {
		return docsShape{}
	}
	if s.Ref != "" {
		if t := d.Components.Schemas[docsRefName(s.Ref)]; t != nil {
			s = t
		}
	}
	if len(s.OneOf) > 0 {
		var alts []docsAlt
		for _, a := range s.OneOf {
			alts = append(alts, docsAlt{Type: docsTypeOf(a), Link: docsLinkOf(a)})
		}
		return docsShape{OneOf: alts}
	}
	if len(s.Properties) == 0 {
		return docsShape{Type: docsTypeOf(s)}
	}
	required := map[string]bool{}
	for _, r := range s.Required {
		required[r] = true
	}
	// Required keys in the document's order, then the optional ones sorted.
	var names []string
	names = append(names, s.Required...)
	for _, n := range docsSortedKeys(s.Properties) {
		if !required[n] {
			names = append(names, n)
		}
	}
	sh := docsShape{Type: docsTypeOf(s), Closed: s.AdditionalProperties == false}
	for _, n := range names {
		ps := s.Properties[n]
		if ps == nil {
			continue
		}
		sh.Props = append(sh.Props, docsProp{Name: n, Type: docsTypeOf(ps), Link: docsLinkOf(ps), Required: required[n],
			Nullable: docsNullable(ps), Description: docsJoin(ps.Description, docsConstraints(ps))})
	}
	return sh
}

func docsRefOf(s *docSchema) string {
	if s == nil {
		return ""
	}
	return s.Ref
}

// refName is the last segment of a "#/components/…/Name" reference.
func docsRefName(ref string) string {
	if i := strings.LastIndexByte(ref, '/'); i >= 0 {
		return ref[i+1:]
	}
	return ref
}

// linkOf names the component schema a property points to, if any.
func docsLinkOf(s *docSchema) string {
	switch {
	case s == nil:
		return ""
	case s.Ref != "":
		return docsRefName(s.Ref)
	case s.Items != nil && s.Items.Ref != "":
		return docsRefName(s.Items.Ref)
	}
	return ""
}

// types lists a schema's JSON types without "null".
func docsTypes(s *docSchema) (ts []string, null bool) {
	switch t := s.Type.(type) {
	case string:
		ts = []string{t}
	case []any:
		for _, x := range t {
			if x, ok := x.(string); ok {
				ts = append(ts, x)
			}
		}
	}
	out := ts[:0:0]
	for _, t := range ts {
		if t == "null" {
			null = true
			continue
		}
		out = append(out, t)
	}
	return out, null
}

func docsNullable(s *docSchema) bool {
	if s == nil {
		return false
	}
	_, null := docsTypes(s)
	for _, e := range s.Enum {
		if e == nil {
			null = true
		}
	}
	return null
}

// typeOf writes a short type: "string (date-time)", "array of SubAccount".
func docsTypeOf(s *docSchema) string {
	if s == nil {
		return "any"
	}
	if s.Ref != "" {
		return docsRefName(s.Ref)
	}
	if len(s.OneOf) > 0 {
		alts := make([]string, len(s.OneOf))
		for i, a := range s.OneOf {
			alts[i] = docsTypeOf(a)
		}
		return strings.Join(alts, " | ")
	}
	ts, _ := docsTypes(s)
	if len(ts) == 0 {
		return "any"
	}
	t := strings.Join(ts, " | ")
	if t == "array" {
		return "array of " + docsTypeOf(s.Items)
	}
	if t == "object" && len(s.Properties) > 0 {
		return "object {" + strings.Join(docsSortedKeys(s.Properties), ", ") + "}"
	}
	if s.Format != "" {
		t += " (" + s.Format + ")"
	}
	return t
}

// constraintsOf lists enum values, bounds, patterns and defaults.
func docsConstraints(s *docSchema) string {
	if s == nil {
		return ""
	}
	var parts []string
	if len(s.Enum) > 0 {
		vals := make([]string, 0, len(s.Enum))
		for _, e := range s.Enum {
			b, _ := json.Marshal(e)
			vals = append(vals, string(b))
		}
		parts = append(parts, "one of "+strings.Join(vals, ", "))
	}
	if s.Minimum != nil {
		parts = append(parts, "minimum "+s.Minimum.String())
	}
	if s.Maximum != nil {
		parts = append(parts, "maximum "+s.Maximum.String())
	}
	if s.MinLength != nil {
		parts = append(parts, "min length "+strconv.Itoa(*s.MinLength))
	}
	if s.MaxLength != nil {
		parts = append(parts, "max length "+strconv.Itoa(*s.MaxLength))
	}
	if s.Pattern != "" {
		parts = append(parts, "pattern "+s.Pattern)
	}
	if s.Default != nil {
		b, _ := json.Marshal(s.Default)
		parts = append(parts, "default "+string(b))
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, "; ") + "."
}

func docsJoin(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	if !strings.HasSuffix(a, ".") {
		a += "."
	}
	return a + " " + b
}

func docsSortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var docsTemplate = template.Must(template.New("docs").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} {{.Version}} — API reference</title>
<style>
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2330;background:#fff}
main{max-width:64rem;margin:0 auto;padding:1rem 1.25rem 4rem}
h1{margin:.5rem 0 0}h2{margin-top:2.5rem;border-bottom:2px solid #dfe3ea;padding-bottom:.25rem}
h3{margin:0;font-size:1.05rem}h4{margin:1rem 0 .25rem;font-size:.95rem}
code,.path{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}
.op{border:1px solid #dfe3ea;border-radius:6px;padding:.75rem 1rem;margin:1rem 0;overflow-x:auto}
.method{display:inline-block;min-width:4.5rem;text-align:center;font-weight:700;border-radius:4px;padding:0 .4rem;margin-right:.5rem;color:#fff;background:#5b6576}
.GET{background:#2f6fbe}.POST{background:#2c8a4b}.PUT{background:#b06d00}.PATCH{background:#8a5a00}.DELETE{background:#b3262e}
table{border-collapse:collapse;width:100%;margin:.25rem 0;font-size:.9rem}
th,td{border:1px solid #e4e7ee;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f6f9}.muted{color:#5b6576}nav ul{columns:2 18rem;padding-left:1.25rem}
@media (max-width:600px){nav ul{columns:1}.method{min-width:0}}
</style>
</head>
<body>
<main>
<header>
<h1>{{.Title}}</h1>
<p class="muted">Version {{.Version}} · OpenAPI {{.OpenAPI}} · the machine-readable document is at <a href="/openapi.json"><code>/openapi.json</code></a></p>
{{range .Description}}<p>{{.}}</p>
{{end}}</header>
<nav aria-label="Contents">
<h2>Contents</h2>
<ul>
{{range .Sections}}<li><a href="#tag-{{.Tag}}">{{.Tag}}</a>
<ul>{{range .Ops}}<li><a href="#{{.Anchor}}"><code>{{.Method}} {{.Path}}</code></a></li>{{end}}</ul></li>
{{end}}<li><a href="#security">Security schemes</a></li>
<li><a href="#schemas">Schemas</a></li>
</ul>
</nav>
{{range .Sections}}
<section id="tag-{{.Tag}}">
<h2>{{.Tag}}</h2>
{{if .Description}}<p>{{.Description}}</p>{{end}}
{{range .Ops}}
<article class="op" id="{{.Anchor}}">
<h3><span class="method {{.Method}}">{{.Method}}</span><span class="path">{{.Path}}</span></h3>
<p>{{.Summary}} <span class="muted">(operationId <code>{{.OperationID}}</code>)</span></p>
{{if .Description}}<p class="muted">{{.Description}}</p>{{end}}
<p><strong>Security:</strong> {{range $i, $s := .Security}}{{if $i}} or {{end}}<code>{{$s}}</code>{{end}}</p>
{{if .Params}}<h4>Parameters</h4>
<table><thead><tr><th>Name</th><th>In</th><th>Type</th><th>Required</th><th>Description</th></tr></thead><tbody>
{{range .Params}}<tr><td><code>{{.Name}}</code></td><td>{{.In}}</td><td>{{.Type}}</td><td>{{if .Required}}yes{{else}}no{{end}}</td><td>{{.Description}}</td></tr>
{{end}}</tbody></table>{{end}}
{{with .Request}}<h4>Request body</h4>
<p><code>{{.Media}}</code>{{if .Schema}}, schema <a href="#schema-{{.Schema}}">{{.Schema}}</a>{{end}}{{if .Required}} (required){{else}} (optional){{end}}</p>
{{template "shape" .Shape}}{{end}}
<h4>Responses</h4>
<table><thead><tr><th>Status</th><th>Description</th><th>Body</th><th>Headers</th></tr></thead><tbody>
{{range .Responses}}<tr><td>{{.Status}}</td><td>{{.Description}}</td><td>{{if .Media}}<code>{{.Media}}</code>{{if .Schema}} <a href="#schema-{{.Schema}}">{{.Schema}}</a>{{end}}{{else}}—{{end}}</td><td>{{range $i, $h := .Headers}}{{if $i}}, {{end}}<code>{{$h}}</code>{{end}}</td></tr>
{{end}}</tbody></table>
{{range .Responses}}{{if or .Shape.Props .Shape.OneOf}}<h4>{{.Status}} body{{if .Schema}}: {{.Schema}}{{end}}</h4>
{{template "shape" .Shape}}{{end}}{{end}}
</article>
{{end}}
</section>
{{end}}
<section id="security">
<h2>Security schemes</h2>
<table><thead><tr><th>Name</th><th>Kind</th><th>Description</th></tr></thead><tbody>
{{range .Security}}<tr><td><code>{{.Name}}</code></td><td>{{.Kind}}</td><td>{{.Description}}</td></tr>
{{end}}</tbody></table>
<p>Where an operation lists <code>xAuthId + xAuthToken</code>, both headers are sent together.</p>
</section>
<section id="schemas">
<h2>Schemas</h2>
{{range .Schemas}}<article class="op" id="schema-{{.Name}}">
<h3>{{.Name}}</h3>
{{if .Description}}<p>{{.Description}}</p>{{end}}
{{template "shape" .Shape}}
</article>
{{end}}
</section>
</main>
</body>
</html>
{{define "shape"}}{{if .OneOf}}<p>One of: {{range $i, $a := .OneOf}}{{if $i}} | {{end}}{{if $a.Link}}<a href="#schema-{{$a.Link}}">{{$a.Type}}</a>{{else}}{{$a.Type}}{{end}}{{end}}</p>
{{else if .Props}}<table><thead><tr><th>Name</th><th>Type</th><th>Required</th><th>Nullable</th><th>Description</th></tr></thead><tbody>
{{range .Props}}<tr><td><code>{{.Name}}</code></td><td>{{if .Link}}<a href="#schema-{{.Link}}">{{.Type}}</a>{{else}}{{.Type}}{{end}}</td><td>{{if .Required}}yes{{else}}no{{end}}</td><td>{{if .Nullable}}yes{{else}}no{{end}}</td><td>{{.Description}}</td></tr>
{{end}}</tbody></table>{{if .Closed}}<p class="muted">No other keys.</p>{{end}}
{{else if .Type}}<p>Type: {{.Type}}</p>
{{end}}{{end}}`))
