package main

// End-to-end tests of the program: run() in-process with its real
// arguments, environment and standard streams, `serve` on port 0 against a
// real database, and the real binary built with CGO_ENABLED=0.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/storetest"
)

// cliResult is the outcome of one in-process run.
type cliResult struct {
	code           int
	stdout, stderr string
}

// runCLI calls run() with args, an environment made of env only (the
// process environment is never consulted) and stdin.
func runCLI(t *testing.T, env map[string]string, stdin string, args ...string) cliResult {
	t.Helper()
	var out, errb bytes.Buffer
	getenv := func(k string) string { return env[k] }
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code := run(ctx, args, getenv, strings.NewReader(stdin), &out, &errb)
	return cliResult{code: code, stdout: out.String(), stderr: errb.String()}
}

// wantCode reports an unexpected exit code with the streams.
func (r cliResult) wantCode(t *testing.T, code int, what string) bool {
	t.Helper()
	if r.code != code {
		t.Errorf("%s: exit %d, want %d\nstdout: %.300s\nstderr: %.300s", what, r.code, code, r.stdout, r.stderr)
		return false
	}
	return true
}

// jsonKeys decodes one JSON object and fails unless its keys are exactly keys.
func jsonKeys(t *testing.T, what, line string, keys ...string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Errorf("%s: not a JSON object: %v: %q", what, err, line)
		return nil
	}
	var got []string
	for k := range m {
		got = append(got, k)
	}
	sort.Strings(got)
	want := append([]string(nil), keys...)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("%s: keys %v, want %v", what, got, want)
	}
	return m
}

var (
	mainIDRe = regexp.MustCompile(`^MA_[A-Z0-9]{8}$`)
	tokenRe  = regexp.MustCompile(`^[A-Za-z0-9]{40}$`)
	whsecRe  = regexp.MustCompile(`^whsec_[A-Za-z0-9]{40}$`)
	timeRe   = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$`)
	uuidRe   = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// httpResult is a plain HTTP answer.
type httpResult struct {
	status int
	header http.Header
	body   []byte
	obj    map[string]any
}

// httpDo sends one request; hdrs are header pairs.
func httpDo(t *testing.T, method, url, body string, hdrs ...string) httpResult {
	t.Helper()
	var rdr io.Reader
	if body != "" {
		rdr = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rdr)
	if err != nil {
		t.Fatalf("NewRequest: %v", err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdrs); i += 2 {
		req.Header.Set(hdrs[i], hdrs[i+1])
	}
	client := &http.Client{Timeout: 20 * time.Second}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	r := httpResult{status: res.StatusCode, header: res.Header, body: b}
	json.Unmarshal(b, &r.obj)
	return r
}

func authPair(id, tok string) []string { return []string{"X-Auth-ID", id, "X-Auth-Token", tok} }

// serveProc is `switchboard serve` running in-process.
type serveProc struct {
	cancel context.CancelFunc
	done   chan int
	lines  chan string
}

// startServe runs serve on 127.0.0.1:0 against dsn with env; its stderr
// is read line by line through a pipe, so nothing is lost or blocked.
func startServe(t *testing.T, dsn string, env map[string]string, extra ...string) *serveProc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	p := &serveProc{cancel: cancel, done: make(chan int, 1), lines: make(chan string, 10000)}
	getenv := func(k string) string { return env[k] }
	go func() {
		args := append([]string{"serve", "--addr", "127.0.0.1:0", "--db", dsn}, extra...)
		code := run(ctx, args, getenv, strings.NewReader(""), io.Discard, pw)
		pw.Close()
		p.done <- code
	}()
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			select {
			case p.lines <- sc.Text():
			default: // never block the server's logger
			}
		}
		io.Copy(io.Discard, pr)
		close(p.lines)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-p.done:
		case <-time.After(30 * time.Second):
			t.Errorf("serve did not stop within 30 s")
		}
	})
	return p
}

// untilListening returns the stderr lines up to and including the
// `listening` record, and the bound address.
func (p *serveProc) untilListening(t *testing.T) (lines []string, addr string) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatalf("serve ended before listening; stderr:\n%s", strings.Join(lines, "\n"))
			}
			lines = append(lines, l)
			var rec map[string]any
			if json.Unmarshal([]byte(l), &rec) == nil && rec["msg"] == "listening" {
				a, _ := rec["addr"].(string)
				return lines, a
			}
		case code := <-p.done:
			p.done <- code
			t.Fatalf("serve exited %d before listening; stderr:\n%s", code, strings.Join(lines, "\n"))
		case <-deadline:
			t.Fatalf("no listening record within 30 s; stderr:\n%s", strings.Join(lines, "\n"))
		}
	}
}

// stop cancels the context and returns the exit code.
func (p *serveProc) stop(t *testing.T) int {
	t.Helper()
	p.cancel()
	select {
	case code := <-p.done:
		p.done <- code
		return code
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not stop within 30 s of the cancel")
	}
	return -1
}

const serveAdminToken = "serve-test-admin-token-0123456789abcdefghij"

func TestServeEndToEnd(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		env := map[string]string{"SWITCHBOARD_ADMIN_TOKEN": serveAdminToken, "SWITCHBOARD_LOG_FORMAT": "json"}
		p := startServe(t, dsn, env)
		lines, addr := p.untilListening(t)

		// §2.3: the human line, then the JSON line, before `listening`.
		human, js := -1, -1
		for i, l := range lines {
			if strings.HasPrefix(l, "switchboard: created first main account ") {
				human = i
			}
			if strings.Contains(l, `"event":"bootstrap"`) {
				js = i
			}
		}
		if human < 0 || js != human+1 || js >= len(lines)-1 {
			t.Fatalf("bootstrap lines at %d/%d (listening at %d), want the human line then the JSON line before listening:\n%s",
				human, js, len(lines)-1, strings.Join(lines, "\n"))
		}
		boot := jsonKeys(t, "bootstrap JSON line", lines[js], "event", "auth_id", "auth_token", "webhook_secret", "id", "name", "currency")
		authID, _ := boot["auth_id"].(string)
		token, _ := boot["auth_token"].(string)
		bootToken := token
		secret, _ := boot["webhook_secret"].(string)
		if !mainIDRe.MatchString(authID) || !tokenRe.MatchString(token) || !whsecRe.MatchString(secret) ||
			boot["name"] != "Main account" || boot["currency"] != "INR" || boot["id"] != "100001" {
			t.Errorf("bootstrap record %v", boot)
		}
		if _, hasMsg := boot["msg"]; hasMsg {
			t.Errorf("bootstrap JSON line has a msg key")
		}
		wantHuman := "switchboard: created first main account " + authID + "; auth token " + token + "; webhook secret " + secret +
			"; shown once, store them now"
		if lines[human] != wantHuman {
			t.Errorf("human bootstrap line\n got %q\nwant %q", lines[human], wantHuman)
		}
		if !regexp.MustCompile(`^127\.0\.0\.1:[1-9][0-9]*$`).MatchString(addr) {
			t.Fatalf("listening addr %q is not the bound address", addr)
		}
		base := "http://" + addr
		mainCreds := authPair(authID, token)

		// Real HTTP against the running server.
		if r := httpDo(t, "GET", base+"/healthz", ""); r.status != 200 {
			t.Errorf("healthz %d", r.status)
		}
		if r := httpDo(t, "GET", base+"/readyz", ""); r.status != 200 || r.obj["status"] != "ready" {
			t.Errorf("readyz %d %s", r.status, r.body)
		}
		if r := httpDo(t, "GET", base+"/api/v1/auth/me", "", mainCreds...); r.status != 200 || r.obj["auth_id"] != authID || r.obj["role"] != "main" {
			t.Fatalf("bootstrap credentials on /auth/me: %d %s", r.status, r.body)
		}
		subs := base + "/api/v1/accounts/" + authID + "/sub-accounts/"
		c := httpDo(t, "POST", subs, `{"name":"Support Team","email":"support@example.com"}`, mainCreds...)
		if c.status != 201 {
			t.Fatalf("create sub-account: %d %s", c.status, c.body)
		}
		sub, _ := c.obj["sub_account"].(map[string]any)
		subID, _ := sub["auth_id"].(string)
		subTok, _ := sub["auth_token"].(string)
		if r := httpDo(t, "GET", base+"/api/v1/auth/me", "", authPair(subID, subTok)...); r.status != 200 || r.obj["role"] != "sub_account" {
			t.Errorf("sub-account token: %d %s", r.status, r.body)
		}
		if r := httpDo(t, "GET", subs, "", mainCreds...); r.status != 200 || r.obj["total"] != 1.0 {
			t.Errorf("list: %d %s", r.status, r.body)
		}
		if r := httpDo(t, "DELETE", subs+subID, "", mainCreds...); r.status != 200 {
			t.Errorf("delete: %d %s", r.status, r.body)
		}
		if r := httpDo(t, "GET", subs, "", mainCreds...); r.status != 200 || r.obj["total"] != 0.0 {
			t.Errorf("list after delete: %d %s", r.status, r.body)
		}
		if r := httpDo(t, "GET", base+"/api/v1/auth/me", "", authPair(subID, subTok)...); r.status != 401 {
			t.Errorf("deleted sub-account token: %d", r.status)
		}
		if r := httpDo(t, "GET", base+"/api/v1/admin/dev/clock", "", "Authorization", "Bearer "+serveAdminToken); r.status != 404 {
			t.Errorf("dev clock without dev mode: %d, want 404", r.status)
		}
		if r := httpDo(t, "GET", base+"/metrics", "", "Authorization", "Bearer "+serveAdminToken); r.status != 200 ||
			!strings.Contains(string(r.body), "switchboard_http_requests_total") {
			t.Errorf("metrics: %d", r.status)
		}
		// `switchboard openapi` prints the bytes GET /openapi.json serves.
		doc := httpDo(t, "GET", base+"/openapi.json", "")
		cli := runCLI(t, nil, "", "openapi")
		if doc.status != 200 || !json.Valid(doc.body) {
			t.Errorf("GET /openapi.json: %d, valid JSON %v", doc.status, json.Valid(doc.body))
		}
		if cli.stdout != string(doc.body) {
			t.Errorf("`switchboard openapi` (%d bytes) differs from GET /openapi.json (%d bytes)", len(cli.stdout), len(doc.body))
		}

		// The CLI works on the same database while the server runs, and its
		// changes apply to the server at the next request.
		cr := runCLI(t, nil, "", "accounts", "create", "--db", dsn, "--name", "CLI Co", "--email", "cli@example.com", "--json")
		if cr.wantCode(t, 0, "accounts create while serving") {
			m := jsonKeys(t, "accounts create", strings.TrimSpace(cr.stdout), "auth_id", "auth_token", "webhook_secret", "id", "api_id", "name", "email", "currency", "created_at")
			id, _ := m["auth_id"].(string)
			tok, _ := m["auth_token"].(string)
			if r := httpDo(t, "GET", base+"/api/v1/auth/me", "", authPair(id, tok)...); r.status != 200 || r.obj["auth_id"] != id {
				t.Errorf("CLI-created account on the running server: %d %s", r.status, r.body)
			}
			if r := httpDo(t, "GET", base+"/api/v1/admin/accounts/"+id, "", "Authorization", "Bearer "+serveAdminToken); r.status != 200 || r.obj["name"] != "CLI Co" {
				t.Errorf("CLI-created account in the operator API: %d %s", r.status, r.body)
			}
		}
		rt := runCLI(t, nil, "", "accounts", "rotate-token", "--db", dsn, "--auth-id", authID, "--grace-seconds", "0", "--json")
		if rt.wantCode(t, 0, "rotate-token while serving") {
			m := jsonKeys(t, "rotate-token", strings.TrimSpace(rt.stdout), "auth_id", "auth_token", "previous_token_expires_at")
			newTok, _ := m["auth_token"].(string)
			if r := httpDo(t, "GET", base+"/api/v1/auth/me", "", mainCreds...); r.status != 401 {
				t.Errorf("bootstrap token after a CLI rotation with grace 0: %d, want 401", r.status)
			}
			token = newTok
			if r := httpDo(t, "GET", base+"/api/v1/auth/me", "", authPair(authID, token)...); r.status != 200 {
				t.Errorf("CLI-rotated token on the running server: %d %s", r.status, r.body)
			}
		}

		if code := p.stop(t); code != 0 {
			t.Errorf("serve exit %d after cancel, want 0", code)
		}
		// Secrets are printed once, in the two bootstrap lines, never logged.
		var rest []string
		for l := range p.lines {
			rest = append(rest, l)
		}
		for i, l := range append(lines[:human:human], append(lines[js+1:], rest...)...) {
			for _, s := range []string{bootToken, token, secret, subTok} {
				if s != "" && strings.Contains(l, s) {
					t.Errorf("stderr line %d leaks a secret: %q", i, l)
				}
			}
		}
		if r, err := http.Get(base + "/healthz"); err == nil {
			r.Body.Close()
			t.Errorf("server still answers after exit")
		}

		// A second start on the same database prints no bootstrap line; the
		// --dev flag wins over SWITCHBOARD_DEV=0.
		env["SWITCHBOARD_DEV"] = "0"
		p2 := startServe(t, dsn, env, "--dev")
		lines2, addr2 := p2.untilListening(t)
		if r := httpDo(t, "GET", "http://"+addr2+"/api/v1/admin/dev/clock", "", "Authorization", "Bearer "+serveAdminToken); r.status != 200 {
			t.Errorf("dev clock with --dev: %d %s", r.status, r.body)
		}
		for _, l := range lines2 {
			if strings.Contains(l, "bootstrap") || strings.Contains(l, "created first main account") || strings.Contains(l, token) {
				t.Errorf("second start printed %q", l)
			}
		}
		if r := httpDo(t, "GET", "http://"+addr2+"/api/v1/auth/me", "", authPair(authID, token)...); r.status != 200 {
			t.Errorf("credentials after a restart (same server key): %d %s", r.status, r.body)
		}
		if code := p2.stop(t); code != 0 {
			t.Errorf("second serve exit %d, want 0", code)
		}
	})
}

// TestServeAfterCLICreate: a database that already has a main account
// (made by the CLI) is not bootstrapped.
func TestServeAfterCLICreate(t *testing.T) {
	dsn := storetest.SQLiteDSN(t)
	cr := runCLI(t, nil, "", "accounts", "create", "--db", dsn, "--name", "First", "--json")
	if !cr.wantCode(t, 0, "accounts create") {
		return
	}
	var m map[string]string
	json.Unmarshal([]byte(cr.stdout), &m)
	p := startServe(t, dsn, nil) // JSON logs by default
	lines, addr := p.untilListening(t)
	for _, l := range lines {
		if strings.Contains(l, "created first main account") || strings.Contains(l, `"event":"bootstrap"`) {
			t.Errorf("bootstrap printed on a database with a main account: %q", l)
		}
	}
	if r := httpDo(t, "GET", "http://"+addr+"/api/v1/auth/me", "", authPair(m["auth_id"], m["auth_token"])...); r.status != 200 || r.obj["name"] != "First" {
		t.Errorf("CLI account on serve: %d %s", r.status, r.body)
	}
	if code := p.stop(t); code != 0 {
		t.Errorf("exit %d", code)
	}
}

// TestServeTextLogs: with SWITCHBOARD_LOG_FORMAT=text the bootstrap JSON
// line is still JSON and the listening record carries the address.
func TestServeTextLogs(t *testing.T) {
	dsn := storetest.SQLiteDSN(t)
	p := startServe(t, dsn, map[string]string{"SWITCHBOARD_LOG_FORMAT": "text"})
	deadline := time.After(30 * time.Second)
	var lines []string
	for {
		var l string
		select {
		case x, ok := <-p.lines:
			if !ok {
				t.Fatalf("serve ended:\n%s", strings.Join(lines, "\n"))
			}
			l = x
		case <-deadline:
			t.Fatalf("no listening line:\n%s", strings.Join(lines, "\n"))
		}
		lines = append(lines, l)
		if strings.Contains(l, "msg=listening") {
			if !regexp.MustCompile(`addr=127\.0\.0\.1:[1-9][0-9]*`).MatchString(l) {
				t.Errorf("listening line %q lacks the bound address", l)
			}
			break
		}
	}
	found := false
	for _, l := range lines {
		if strings.HasPrefix(l, "{") && strings.Contains(l, `"event":"bootstrap"`) {
			found = true
			jsonKeys(t, "bootstrap line in text mode", l, "event", "auth_id", "auth_token", "webhook_secret", "id", "name", "currency")
		}
	}
	if !found {
		t.Errorf("no JSON bootstrap line in text mode:\n%s", strings.Join(lines, "\n"))
	}
	if code := p.stop(t); code != 0 {
		t.Errorf("exit %d", code)
	}
}

// TestServeCannotBind: an address in use is a runtime failure (exit 1).
func TestServeCannotBind(t *testing.T) {
	dsn := storetest.SQLiteDSN(t)
	p := startServe(t, dsn, nil)
	_, addr := p.untilListening(t)
	r := runCLI(t, nil, "", "serve", "--addr", addr, "--db", filepath.Join(t.TempDir(), "other.db"))
	r.wantCode(t, 1, "serve on a busy address")
	p.stop(t)
}

// TestBinaryBuildsWithoutCGO builds the real program with CGO_ENABLED=0
// and the release linker flags, and runs it.
func TestBinaryBuildsWithoutCGO(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	bin := filepath.Join(t.TempDir(), "switchboard")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	build := exec.Command(goBin, "build", "-o", bin, "-ldflags", "-X main.version=v9.9.9-test -X main.commit=abc1234", ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatalf("switchboard version: %v", err)
	}
	if want := "switchboard v9.9.9-test abc1234 " + runtime.Version() + "\n"; string(out) != want {
		t.Errorf("version = %q, want %q", out, want)
	}
	out, err = exec.Command(bin, "version", "--json").Output()
	if err != nil {
		t.Fatalf("switchboard version --json: %v", err)
	}
	m := jsonKeys(t, "version --json", strings.TrimSpace(string(out)), "version", "commit", "go")
	if m["version"] != "v9.9.9-test" || m["commit"] != "abc1234" || m["go"] != runtime.Version() {
		t.Errorf("version --json = %v", m)
	}
	cmd := exec.Command(bin, "bogus")
	if err := cmd.Run(); err == nil || cmd.ProcessState.ExitCode() != 2 {
		t.Errorf("unknown command: %v, exit %d, want 2", err, cmd.ProcessState.ExitCode())
	}
}
