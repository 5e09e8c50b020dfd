// Package httpapi serves the switchboard HTTP API: the Vobiz-compatible
// surface, the operator API and the operations endpoints. routes.go is the
// map of the whole surface; handlers return errors and one writer turns
// them into the §0.7 error body.
package httpapi

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	sb "github.com/switchboard-voice/switchboard"
	"github.com/switchboard-voice/switchboard/internal/app"
	"github.com/switchboard-voice/switchboard/internal/ratelimit"
)

// Role is who may call a route (CONTRACT §1.5).
type Role string

const (
	RolePublic   Role = "public"
	RoleAdmin    Role = "admin"
	RoleDev      Role = "admin-dev" // admin, and only in dev mode
	RoleMetrics  Role = "metrics"   // admin on the main listener (§11)
	RoleAny      Role = "any"
	RoleMainSelf Role = "main-self"
	RoleParent   Role = "parent"
	RoleRefresh  Role = "refresh-jwt"
)

// accountRole reports whether the role authenticates an account.
func (r Role) accountRole() bool {
	return r == RoleAny || r == RoleMainSelf || r == RoleParent
}

// Route is one method on one path of the API.
type Route struct {
	Method string
	// Path uses {name} for parameters; no trailing slash.
	Path    string
	Role    Role
	Name    string // operationId
	Summary string
	handle  handlerFunc
	// Action and TargetType name the audit records of refused requests
	// (§10.1); mutating routes set them.
	Action     string
	TargetType string
	// Secret marks responses that carry a secret (create, rotate): their
	// stored Idempotency-Key replay is encrypted.
	Secret bool
	// Doc describes the route in the OpenAPI document.
	Doc RouteDoc
}

// handlerFunc serves a matched route; a returned error becomes the §0.7 body.
type handlerFunc func(w http.ResponseWriter, r *http.Request, c *call) error

// call is what a handler gets besides the request.
type call struct {
	actor  sb.Actor
	params map[string]string
	route  *Route
}

func (c *call) param(name string) string { return c.params[name] }

// target is the most specific object the path names: its last parameter,
// as the caller sent it (audit records of refused requests, §10.1).
func (c *call) target() string {
	segs := splitPath(c.route.Path)
	for i := len(segs) - 1; i >= 0; i-- {
		if isParam(segs[i]) {
			return c.params[segs[i][1:len(segs[i])-1]]
		}
	}
	return ""
}

// Deps are the server's collaborators.
type Deps struct {
	Service *app.Service
	Log     *slog.Logger
	// AdminToken enables the operator API; "" answers 404 there.
	AdminToken string
	// MetricsElsewhere is true when /metrics is served on its own listener,
	// so the main listener answers 404 for it.
	MetricsElsewhere bool
	Metrics          *Metrics
	Version          string
	Commit           string
}

// Server is the HTTP handler of the API.
type Server struct {
	svc          *app.Service
	log          *slog.Logger
	adminToken   string
	metricsAway  bool
	metrics      *Metrics
	routes       []*Route
	router       *router
	shuttingDown atomic.Bool
	openapi      []byte
	docsHTML     []byte
	version      string
	commit       string
	buckets      *ratelimit.Accounts
	failedAuth   *ratelimit.FailedAuth
}

// NewServer builds the handler and its route table.
func NewServer(d Deps) *Server {
	s := &Server{svc: d.Service, log: d.Log, adminToken: d.AdminToken, metricsAway: d.MetricsElsewhere,
		metrics: d.Metrics, version: d.Version, commit: d.Commit,
		buckets: ratelimit.NewAccounts(), failedAuth: ratelimit.NewFailedAuth()}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.metrics == nil {
		s.metrics = NewMetrics(prometheus.NewRegistry(), d.Version, d.Commit)
	}
	s.routes = s.routeTable()
	s.router = newRouter(s.routes)
	s.openapi = buildOpenAPI(s.routes, d.Version)
	s.docsHTML = renderDocs(s.openapi)
	return s
}

// Routes returns the route table (for tests and the OpenAPI document).
func (s *Server) Routes() []*Route { return s.routes }

// OpenAPI returns the served OpenAPI document.
func (s *Server) OpenAPI() []byte { return s.openapi }

// SetShuttingDown turns /readyz to 503 (CONTRACT §11).
func (s *Server) SetShuttingDown() { s.shuttingDown.Store(true) }

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

type requestIDKey struct{}

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// statusRecorder remembers the status for metrics and, when capture is
// set, keeps a copy of the body for the idempotency record.
type statusRecorder struct {
	http.ResponseWriter
	status  int
	capture *bytes.Buffer
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.capture != nil {
		w.capture.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// ServeHTTP routes one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rid := r.Header.Get("X-Request-Id")
	if !requestIDPattern.MatchString(rid) {
		rid = sb.NewUUID()
	}
	h := w.Header()
	h.Set("X-Request-Id", rid)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, rid))
	rec := &statusRecorder{ResponseWriter: w}
	routeName := "unmatched"
	var claim *app.Claim
	defer func() {
		if p := recover(); p != nil {
			if claim != nil && claim != replayed {
				s.svc.FinishIdempotency(r.Context(), claim, http.StatusInternalServerError, nil, false) // release the key
			}
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.ErrorContext(r.Context(), "panic serving request", "request_id", rid, "panic", p)
			if rec.status == 0 {
				s.writeError(rec, r, sb.Errorf(sb.EInternal, "internal error"))
			}
		}
		s.metrics.observe(routeName, r.Method, rec.status, time.Since(start))
	}()

	p, params := s.router.match(cleanPath(r.URL.Path))
	if p == nil {
		s.writeError(rec, r, sb.Errorf(sb.ENotFound, "no such path"))
		return
	}
	routeName = p.path
	method := r.Method
	if method == http.MethodOptions {
		if s.hidden(p) {
			s.writeError(rec, r, sb.Errorf(sb.ENotFound, "no such path"))
			return
		}
		rec.Header().Set("Allow", p.allow)
		rec.WriteHeader(http.StatusNoContent)
		return
	}
	if method == http.MethodHead {
		method = http.MethodGet
	}
	if method == http.MethodPatch {
		if _, ok := p.byMethod[http.MethodPatch]; !ok {
			method = http.MethodPut // PATCH = PUT wherever PUT exists (§0.1)
		}
	}
	route := p.byMethod[method]
	if route == nil {
		if s.hidden(p) {
			s.writeError(rec, r, sb.Errorf(sb.ENotFound, "no such path"))
			return
		}
		rec.Header().Set("Allow", p.allow)
		s.writeError(rec, r, sb.Errorf(sb.EMethodNotAllowed, "method %s is not allowed here", r.Method))
		return
	}
	c := &call{params: params, route: route}
	if err := s.authenticate(rec, r, route, c); err != nil {
		s.writeError(rec, r, err)
		return
	}
	r = r.WithContext(sb.WithActor(r.Context(), c.actor))
	var err error
	claim, err = s.idempotency(rec, r, c)
	if err != nil || claim == replayed {
		if err != nil {
			s.writeError(rec, r, err)
		}
		return
	}
	ww := http.ResponseWriter(rec)
	if claim != nil {
		rec.capture = &bytes.Buffer{}
		r = r.WithContext(app.WithClaim(r.Context(), claim))
	}
	if r.Method == http.MethodHead {
		ww = headWriter{ww}
	}
	err = s.checkRole(route, c)
	if err == nil {
		err = route.handle(ww, r, c)
	}
	if err != nil {
		s.writeError(ww, r, err)
	}
	if claim != nil {
		s.svc.FinishIdempotency(r.Context(), claim, rec.status, rec.capture.Bytes(), route.Secret)
	}
	if mutating(r.Method) && c.actor.Account != nil && (rec.status == http.StatusForbidden || rec.status == http.StatusNotFound) {
		s.svc.RecordDenied(r.Context(), c.actor, route.Action, route.TargetType, c.target(), rec.status, sb.ErrorCode(err))
	}
}

func mutating(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// hidden reports whether every route of a pattern is switched off, so the
// path answers 404 (operator API without an admin token, dev helpers
// outside dev mode, /metrics on its own listener).
func (s *Server) hidden(p *pattern) bool {
	for _, r := range p.byMethod {
		if !s.roleOff(r.Role) {
			return false
		}
	}
	return true
}

func (s *Server) roleOff(role Role) bool {
	switch role {
	case RoleAdmin:
		return s.adminToken == ""
	case RoleDev:
		return s.adminToken == "" || !s.svc.Dev()
	case RoleMetrics:
		return s.adminToken == "" || s.metricsAway
	}
	return false
}

// headWriter drops the body of HEAD responses.
type headWriter struct{ http.ResponseWriter }

func (headWriter) Write(b []byte) (int, error) { return len(b), nil }

// authenticate runs steps 1–2 of the §1.5 check order for the route's
// role and the rate limits of §0.8, and sets c.actor. Role and path scope
// (steps 3–4) come after an Idempotency-Key replay, in checkRole; the use
// cases check the scope of the objects they load.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, route *Route, c *call) error {
	c.actor = sb.Actor{Kind: sb.ActorSystem, RequestID: requestID(r.Context()), SourceIP: clientIP(r), Role: string(route.Role)}
	switch route.Role {
	case RolePublic:
		return nil
	case RoleRefresh:
		return s.checkFailedAuth(r, c) // the handler verifies the refresh JWT itself
	case RoleAdmin, RoleDev, RoleMetrics:
		if s.roleOff(route.Role) {
			return sb.Errorf(sb.ENotFound, "no such path")
		}
		if err := s.checkFailedAuth(r, c); err != nil {
			return err
		}
		scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(s.adminToken)) != 1 {
			return s.authFailed(r, c, sb.Errorf(sb.EUnauthorized, "operator token required"))
		}
		c.actor.Kind = sb.ActorAdmin
		return nil
	}
	if err := s.checkFailedAuth(r, c); err != nil {
		return err
	}
	creds, err := credentialsOf(r)
	if err != nil {
		return s.authFailed(r, c, err)
	}
	acct, err := s.svc.Authenticate(r.Context(), creds)
	if err != nil {
		return s.authFailed(r, c, err)
	}
	c.actor.Kind, c.actor.Account, c.actor.Scheme = sb.ActorAccount, acct, creds.Scheme
	d := s.buckets.Take(acct.AuthID, acct.RateLimit, s.svc.Clock().Now())
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(d.Limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(d.Remaining))
	h.Set("X-RateLimit-Reset", strconv.Itoa(d.Reset))
	if !d.Allowed {
		return &sb.Error{Code: sb.ERateLimited, Message: "rate limit exceeded", Extra: map[string]any{"retry_after": d.RetryAfter}}
	}
	return nil
}

// checkRole is step 3 of §1.5 (sub-account credentials on parent and
// main-self routes) and step 4 for the path's own {auth_id}.
func (s *Server) checkRole(route *Route, c *call) error {
	acct := c.actor.Account
	if acct == nil {
		return nil
	}
	if (route.Role == RoleParent || route.Role == RoleMainSelf) && !acct.IsMain() {
		return sb.Errorf(sb.EForbidden, "sub-account credentials cannot use this route")
	}
	if path, ok := c.params["auth_id"]; ok && route.Role == RoleParent && path != acct.AuthID {
		return sb.Errorf(sb.ENotFound, "account not found")
	}
	return nil
}

// checkFailedAuth refuses requests from a client IP that is blocked for
// too many failed authentications (§0.8).
func (s *Server) checkFailedAuth(r *http.Request, c *call) error {
	if d := s.failedAuth.Blocked(c.actor.SourceIP, s.svc.Clock().Now()); d > 0 {
		return tooManyFailures(d)
	}
	return nil
}

// authFailed counts a failed authentication of the client IP; the failure
// that crosses the limit is answered 429 instead of err.
func (s *Server) authFailed(r *http.Request, c *call, err error) error {
	if code := sb.ErrorCode(err); code != sb.EUnauthorized && code != sb.ETokenExpired {
		return err // account_inactive, an unreachable database: not a bad credential
	}
	if d := s.failedAuth.Fail(c.actor.SourceIP, s.svc.Clock().Now()); d > 0 {
		return tooManyFailures(d)
	}
	return err
}

func tooManyFailures(d time.Duration) error {
	secs := int((d + time.Second - 1) / time.Second)
	return &sb.Error{Code: sb.ERateLimited, Message: "too many failed authentications from this address",
		Extra: map[string]any{"retry_after": max(secs, 1)}}
}

// inputErr returns a body field error only after the path's sub-account is
// known to be the caller's, so that a foreign id answers 404 whatever the
// body holds (CONTRACT §1.5: scope comes before body validation).
func (s *Server) inputErr(r *http.Request, c *call, err error) error {
	if err == nil {
		return nil
	}
	if sub, ok := c.params["sub_auth_id"]; ok {
		if _, serr := s.svc.GetSubAccount(r.Context(), c.actor, c.param("auth_id"), sub); serr != nil {
			return serr
		}
	}
	return err
}

// credentialsOf reads the credential of highest precedence (§1.1). A
// failing scheme never falls back to a lower one.
func credentialsOf(r *http.Request) (app.Credentials, error) {
	bad := sb.Errorf(sb.EUnauthorized, "missing or invalid credentials")
	id, tok := r.Header.Get("X-Auth-ID"), r.Header.Get("X-Auth-Token")
	if id != "" || tok != "" {
		if id == "" || tok == "" {
			return app.Credentials{}, sb.Errorf(sb.EUnauthorized, "X-Auth-ID and X-Auth-Token must be sent together")
		}
		return app.Credentials{Scheme: sb.SchemeAuthPair, AuthID: strings.TrimSpace(id), Token: strings.TrimSpace(tok)}, nil
	}
	authz := r.Header.Get("Authorization")
	scheme, value, _ := strings.Cut(authz, " ")
	value = strings.TrimSpace(value)
	switch {
	case authz == "":
		return app.Credentials{}, bad
	case strings.EqualFold(scheme, "Basic"):
		raw, err := base64.StdEncoding.DecodeString(value)
		if err != nil {
			return app.Credentials{}, bad
		}
		user, pass, ok := strings.Cut(string(raw), ":")
		if !ok {
			return app.Credentials{}, bad
		}
		return app.Credentials{Scheme: sb.SchemeBasic, AuthID: user, Token: pass}, nil
	case strings.EqualFold(scheme, "Bearer") && value != "":
		return app.Credentials{Scheme: sb.SchemeJWT, Token: value}, nil
	}
	return app.Credentials{}, bad
}

// clientIP is the peer address without port (proxies are not trusted).
func clientIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
