package main

// The operator commands of CONTRACT §2.1–2.2, called in-process.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/switchboard-voice/switchboard/internal/app"
	"github.com/switchboard-voice/switchboard/internal/httpapi"
	"github.com/switchboard-voice/switchboard/internal/sqlstore"
	"github.com/switchboard-voice/switchboard/internal/storetest"
)

func TestVersion(t *testing.T) {
	r := runCLI(t, nil, "", "version")
	if r.wantCode(t, 0, "version") {
		f := strings.Fields(r.stdout)
		if len(f) != 4 || f[0] != "switchboard" || f[1] == "" || f[2] == "" || f[3] != runtime.Version() || !strings.HasSuffix(r.stdout, "\n") ||
			strings.Count(r.stdout, "\n") != 1 {
			t.Errorf("version output %q, want `switchboard <version> <commit> <go>`", r.stdout)
		}
		if r.stderr != "" {
			t.Errorf("version wrote to stderr: %q", r.stderr)
		}
	}
	r = runCLI(t, nil, "", "version", "--json")
	if r.wantCode(t, 0, "version --json") {
		if strings.Count(r.stdout, "\n") != 1 {
			t.Errorf("version --json is not one line: %q", r.stdout)
		}
		m := jsonKeys(t, "version --json", strings.TrimSpace(r.stdout), "version", "commit", "go")
		if m["go"] != runtime.Version() || m["version"] == "" || m["commit"] == "" {
			t.Errorf("version --json = %v", m)
		}
		plain := strings.Fields(runCLI(t, nil, "", "version").stdout)
		if len(plain) == 4 && (m["version"] != plain[1] || m["commit"] != plain[2]) {
			t.Errorf("version --json %v disagrees with version %v", m, plain)
		}
	}
}

func TestHelpAndUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}, {"accounts", "help"}, {"accounts", "-h"},
		{"version", "-h"}, {"migrate", "-h"}, {"accounts", "create", "-h"}, {"accounts", "rotate-token", "--help"}} {
		r := runCLI(t, nil, "", args...)
		if r.wantCode(t, 0, strings.Join(args, " ")) && !strings.Contains(r.stdout, "Usage") {
			t.Errorf("%v: stdout %q lacks the usage", args, r.stdout)
		}
		if r.code == 0 && r.stderr != "" {
			t.Errorf("%v: help wrote to stderr: %q", args, r.stderr)
		}
	}
	// Regression (found by this suite): `serve -h` printed the usage on
	// stderr (runServe passed stderr to parseFlags as its help writer);
	// §2.1 says -h prints usage on stdout.
	if r := runCLI(t, nil, "", "serve", "-h"); r.wantCode(t, 0, "serve -h") && !strings.Contains(r.stdout, "Usage") {
		t.Errorf("serve -h: usage not on stdout (stdout %q, stderr %d bytes)", r.stdout, len(r.stderr))
	}

	dir := t.TempDir()
	db := filepath.Join(dir, "x.db")
	for _, args := range [][]string{
		{},
		{"bogus"},
		{"Serve"},
		{"version", "--bogus"},
		{"version", "extra"},
		{"accounts"},
		{"accounts", "bogus"},
		{"accounts", "create", "--db", db, "--name", "x", "--bogus"},
		{"accounts", "rotate-token", "--db", db, "--auth-id", "MA_X", "--grace-seconds", "soon"},
		{"migrate", "--db", db, "extra"},
		{"migrate", "--nope"},
		{"serve", "--nope"},
	} {
		r := runCLI(t, nil, "", args...)
		r.wantCode(t, 2, fmt.Sprintf("%q", args))
		if r.code == 2 && strings.TrimSpace(r.stderr) == "" {
			t.Errorf("%q: exit 2 without a message on stderr", args)
		}
	}
	// Regression (found by this suite): `openapi` ignored its arguments and
	// exited 0 on an unknown flag; §2.2 says an unknown flag is exit 2.
	for _, args := range [][]string{{"openapi", "--bogus"}, {"openapi", "extra"}} {
		if r := runCLI(t, nil, "", args...); r.code != 2 {
			t.Errorf("%q: exit %d, want 2 (stdout %d bytes)", args, r.code, len(r.stdout))
		}
	}
}

func TestOpenAPICommand(t *testing.T) {
	r := runCLI(t, nil, "", "openapi")
	if !r.wantCode(t, 0, "openapi") {
		return
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("openapi output is not JSON: %v", err)
	}
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.1") {
		t.Errorf("openapi version %v", doc["openapi"])
	}
	if r2 := runCLI(t, nil, "", "openapi"); r2.stdout != r.stdout {
		t.Errorf("openapi output is not stable")
	}
	// TestServeEndToEnd compares it with GET /openapi.json of a running server.
}

var migratedRe = regexp.MustCompile(`^migrated (.+): version (\d+) -> (\d+)\n$`)

func TestMigrate(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		r := runCLI(t, nil, "", "migrate", "--db", dsn)
		if !r.wantCode(t, 0, "first migrate") {
			return
		}
		m := migratedRe.FindStringSubmatch(r.stderr)
		if m == nil || m[1] != dsn || m[2] != "0" || m[3] == "0" {
			t.Fatalf("first migrate stderr %q, want `migrated %s: version 0 -> N`", r.stderr, dsn)
		}
		if r.stdout != "" {
			t.Errorf("migrate wrote to stdout: %q", r.stdout)
		}
		n := m[3]
		r = runCLI(t, nil, "", "migrate", "--db", dsn)
		if want := "migrated " + dsn + ": version " + n + " -> " + n + "\n"; r.wantCode(t, 0, "second migrate") && r.stderr != want {
			t.Errorf("second migrate stderr %q, want %q", r.stderr, want)
		}
	})
}

func TestDBFromEnvironmentAndFlag(t *testing.T) {
	dir := t.TempDir()
	envDB, flagDB := filepath.Join(dir, "env.db"), filepath.Join(dir, "flag.db")
	env := map[string]string{"SWITCHBOARD_DB": envDB}
	r := runCLI(t, env, "", "migrate")
	if r.wantCode(t, 0, "migrate with SWITCHBOARD_DB") && !strings.HasPrefix(r.stderr, "migrated "+envDB+":") {
		t.Errorf("SWITCHBOARD_DB not used: %q", r.stderr)
	}
	r = runCLI(t, env, "", "migrate", "--db", flagDB)
	if r.wantCode(t, 0, "migrate with --db and SWITCHBOARD_DB") && !strings.HasPrefix(r.stderr, "migrated "+flagDB+": version 0 ->") {
		t.Errorf("the flag did not win over the environment: %q", r.stderr)
	}
}

var createKeys = []string{"auth_id", "auth_token", "webhook_secret", "id", "api_id", "name", "email", "currency", "created_at"}

func TestAccountsCreate(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		r := runCLI(t, nil, "", "accounts", "create", "--db", dsn, "--name", " Acme Voice ", "--email", "Ops@Acme.TEST", "--json")
		if !r.wantCode(t, 0, "accounts create --json") {
			return
		}
		if strings.Count(r.stdout, "\n") != 1 || !strings.HasSuffix(r.stdout, "\n") {
			t.Errorf("--json output is not exactly one line: %q", r.stdout)
		}
		m := jsonKeys(t, "accounts create --json", strings.TrimSpace(r.stdout), createKeys...)
		if !mainIDRe.MatchString(fmt.Sprint(m["auth_id"])) || !tokenRe.MatchString(fmt.Sprint(m["auth_token"])) ||
			!whsecRe.MatchString(fmt.Sprint(m["webhook_secret"])) || !regexp.MustCompile(`^[0-9]+$`).MatchString(fmt.Sprint(m["id"])) ||
			!uuidRe.MatchString(fmt.Sprint(m["api_id"])) || m["name"] != "Acme Voice" || m["email"] != "ops@acme.test" ||
			m["currency"] != "INR" || !timeRe.MatchString(fmt.Sprint(m["created_at"])) {
			t.Errorf("accounts create --json = %v", m)
		}
		if r.stderr != "" {
			t.Errorf("accounts create wrote to stderr: %q", r.stderr)
		}

		// Plain output: key: value lines; other currency; no email.
		r = runCLI(t, nil, "", "accounts", "create", "--db", dsn, "--name", "Beta", "--currency", "USD")
		if r.wantCode(t, 0, "accounts create") {
			got := map[string]string{}
			var order []string
			for _, l := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
				k, v, ok := strings.Cut(l, ": ")
				if !ok {
					k = strings.TrimSuffix(l, ":")
				}
				got[k] = v
				order = append(order, k)
			}
			if strings.Join(order, ",") != strings.Join(createKeys, ",") || got["currency"] != "USD" || got["name"] != "Beta" ||
				!mainIDRe.MatchString(got["auth_id"]) {
				t.Errorf("plain output %q", r.stdout)
			}
		}
		r = runCLI(t, nil, "", "accounts", "create", "--db", dsn, "--name", "No email", "--json")
		if r.wantCode(t, 0, "accounts create without email") {
			if m := jsonKeys(t, "no email", strings.TrimSpace(r.stdout), createKeys...); m != nil && m["email"] != nil {
				t.Errorf("email %v, want null", m["email"])
			}
		}

		// Conflict: exit 4, JSON error on stderr.
		r = runCLI(t, nil, "", "accounts", "create", "--db", dsn, "--name", "Dup", "--email", "OPS@acme.test", "--json")
		if r.wantCode(t, 4, "duplicate email") {
			e := jsonKeys(t, "duplicate email error", strings.TrimSpace(r.stderr), "error", "message")
			if e["error"] != "already_exists" || e["message"] == "" {
				t.Errorf("duplicate email error %v", e)
			}
			if r.stdout != "" {
				t.Errorf("stdout on failure: %q", r.stdout)
			}
		}
		r = runCLI(t, nil, "", "accounts", "create", "--db", dsn, "--name", "Dup", "--email", "ops@acme.test")
		if r.wantCode(t, 4, "duplicate email, plain") && (strings.HasPrefix(r.stderr, "{") || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0) {
			t.Errorf("plain failure is not a one-line message: %q", r.stderr)
		}

		// Usage and validation errors: exit 2.
		for _, c := range []struct {
			name string
			args []string
		}{
			{"missing --name", []string{"--email", "a@b.test"}},
			{"blank --name", []string{"--name", "   "}},
			{"lower-case currency", []string{"--name", "x", "--currency", "inr"}},
			{"four-letter currency", []string{"--name", "x", "--currency", "EURO"}},
			{"bad email", []string{"--name", "x", "--email", "not-an-email"}},
		} {
			r := runCLI(t, nil, "", append([]string{"accounts", "create", "--db", dsn, "--json"}, c.args...)...)
			if r.wantCode(t, 2, c.name) {
				e := jsonKeys(t, c.name, strings.TrimSpace(r.stderr), "error", "message")
				if e["error"] != "validation_error" {
					t.Errorf("%s: error %v", c.name, e)
				}
			}
		}
		// The failed commands created nothing.
		svc, db := openService(t, dsn)
		defer db.Close()
		page, err := svc.ListMainAccounts(context.Background(), cliActor, app.MainAccountFilter{Limit: 100})
		if err != nil || page.Total != 3 {
			t.Errorf("main accounts after the CLI runs: %v, %v; want 3", page, err)
		}
	})
}

// openService opens dsn the way the server does and returns the use cases.
func openService(t *testing.T, dsn string) (*app.Service, *sqlstore.DB) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	if _, _, err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	key, err := app.LoadServerKey(ctx, db, "")
	if err != nil {
		t.Fatalf("server key: %v", err)
	}
	return app.New(db, app.NewClock(nil), key, app.Config{}, nil), db
}

// apiOn serves the API over dsn (same server key as the CLI).
func apiOn(t *testing.T, dsn string) string {
	t.Helper()
	svc, db := openService(t, dsn)
	srv := httptest.NewServer(httpapi.NewServer(httpapi.Deps{Service: svc}))
	t.Cleanup(func() { srv.Close(); db.Close() })
	return srv.URL
}

func TestPasswordStdin(t *testing.T) {
	dsn := storetest.SQLiteDSN(t)
	r := runCLI(t, nil, "console pass 123\n", "accounts", "create", "--db", dsn, "--name", "Console", "--email", "Console@Example.com", "--password-stdin", "--json")
	if !r.wantCode(t, 0, "accounts create --password-stdin") {
		return
	}
	var m map[string]any
	json.Unmarshal([]byte(r.stdout), &m)
	base := apiOn(t, dsn)
	login := httpDo(t, "POST", base+"/api/v1/auth/login", `{"email":"console@example.com","password":"console pass 123"}`)
	if login.status != 200 || login.obj["auth_id"] != m["auth_id"] {
		t.Fatalf("login with the stdin password: %d %s", login.status, login.body)
	}
	if me := httpDo(t, "GET", base+"/api/v1/auth/me", "", "Authorization", "Bearer "+fmt.Sprint(login.obj["access_token"])); me.status != 200 || me.obj["role"] != "main" {
		t.Errorf("login token: %d %s", me.status, me.body)
	}
	if bad := httpDo(t, "POST", base+"/api/v1/auth/login", `{"email":"console@example.com","password":"console pass 12"}`); bad.status != 401 {
		t.Errorf("login with a wrong password: %d", bad.status)
	}

	// No password on stdin, or a too short one: usage errors.
	runCLI(t, nil, "", "accounts", "create", "--db", dsn, "--name", "Empty", "--password-stdin").wantCode(t, 2, "empty stdin")
	runCLI(t, nil, "short\n", "accounts", "create", "--db", dsn, "--name", "Short", "--password-stdin").wantCode(t, 2, "short password")
	// Only the first line is read; CRLF is trimmed.
	r = runCLI(t, nil, "crlf password 9\r\nsecond line\n", "accounts", "create", "--db", dsn, "--name", "CRLF", "--email", "crlf@example.com", "--password-stdin")
	if r.wantCode(t, 0, "CRLF password") {
		if l := httpDo(t, "POST", base+"/api/v1/auth/login", `{"email":"crlf@example.com","password":"crlf password 9"}`); l.status != 200 {
			t.Errorf("login with the CRLF-trimmed password: %d %s", l.status, l.body)
		}
	}
}

func TestRotateTokenCommand(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		r := runCLI(t, nil, "", "accounts", "create", "--db", dsn, "--name", "Rot", "--json")
		if !r.wantCode(t, 0, "create") {
			return
		}
		var acct map[string]string
		json.Unmarshal([]byte(r.stdout), &acct)
		id, tok := acct["auth_id"], acct["auth_token"]
		base := apiOn(t, dsn)

		r = runCLI(t, nil, "", "accounts", "rotate-token", "--db", dsn, "--auth-id", "MA_NOTEXIST", "--json")
		if r.wantCode(t, 3, "unknown auth_id") {
			e := jsonKeys(t, "unknown auth_id", strings.TrimSpace(r.stderr), "error", "message")
			if e["error"] != "not_found" {
				t.Errorf("unknown auth_id error %v", e)
			}
		}
		runCLI(t, nil, "", "accounts", "rotate-token", "--db", dsn, "--auth-id", "MA_NOTEXIST").wantCode(t, 3, "unknown auth_id, plain")
		runCLI(t, nil, "", "accounts", "rotate-token", "--db", dsn).wantCode(t, 2, "missing --auth-id")
		runCLI(t, nil, "", "accounts", "rotate-token", "--db", dsn, "--auth-id", id, "--grace-seconds", "-1").wantCode(t, 2, "negative grace")
		runCLI(t, nil, "", "accounts", "rotate-token", "--db", dsn, "--auth-id", id, "--grace-seconds", "604801").wantCode(t, 2, "grace too long")
		if me := httpDo(t, "GET", base+"/api/v1/auth/me", "", authPair(id, tok)...); me.status != 200 {
			t.Fatalf("token before rotation: %d", me.status)
		}

		// Default grace: the previous token keeps working, expiry in 24 h.
		r = runCLI(t, nil, "", "accounts", "rotate-token", "--db", dsn, "--auth-id", id, "--json")
		if !r.wantCode(t, 0, "rotate-token") {
			return
		}
		m := jsonKeys(t, "rotate-token --json", strings.TrimSpace(r.stdout), "auth_id", "auth_token", "previous_token_expires_at")
		tok2 := fmt.Sprint(m["auth_token"])
		if m["auth_id"] != id || !tokenRe.MatchString(tok2) || tok2 == tok || !timeRe.MatchString(fmt.Sprint(m["previous_token_expires_at"])) {
			t.Errorf("rotate-token = %v", m)
		}
		for _, k := range []string{tok, tok2} {
			if me := httpDo(t, "GET", base+"/api/v1/auth/me", "", authPair(id, k)...); me.status != 200 {
				t.Errorf("token during grace: %d", me.status)
			}
		}
		// Grace 0: null expiry, old tokens dead at once.
		r = runCLI(t, nil, "", "accounts", "rotate-token", "--db", dsn, "--auth-id", id, "--grace-seconds", "0", "--json")
		if r.wantCode(t, 0, "rotate-token grace 0") {
			m := jsonKeys(t, "rotate-token grace 0", strings.TrimSpace(r.stdout), "auth_id", "auth_token", "previous_token_expires_at")
			if m["previous_token_expires_at"] != nil {
				t.Errorf("previous_token_expires_at %v, want null", m["previous_token_expires_at"])
			}
			for _, k := range []string{tok, tok2} {
				if me := httpDo(t, "GET", base+"/api/v1/auth/me", "", authPair(id, k)...); me.status != 401 {
					t.Errorf("old token after grace 0: %d", me.status)
				}
			}
			if me := httpDo(t, "GET", base+"/api/v1/auth/me", "", authPair(id, fmt.Sprint(m["auth_token"]))...); me.status != 200 {
				t.Errorf("new token: %d %s", me.status, me.body)
			}
			tok = fmt.Sprint(m["auth_token"])
		}
		// Plain output.
		r = runCLI(t, nil, "", "accounts", "rotate-token", "--db", dsn, "--auth-id", id, "--grace-seconds", "0")
		if r.wantCode(t, 0, "rotate-token plain") && !regexp.MustCompile(`(?m)^auth_id: `+id+`\nauth_token: [A-Za-z0-9]{40}\nprevious_token_expires_at: ?\n?$`).MatchString(r.stdout) {
			t.Errorf("plain rotate-token output %q", r.stdout)
		}
		tok = strings.TrimSpace(strings.TrimPrefix(strings.Split(r.stdout, "\n")[1], "auth_token:"))

		// A sub-account's token too (operator tool, no role check).
		c := httpDo(t, "POST", base+"/api/v1/accounts/"+id+"/sub-accounts", `{"name":"child"}`, authPair(id, tok)...)
		if c.status != 201 {
			t.Fatalf("create sub-account: %d %s", c.status, c.body)
		}
		sub, _ := c.obj["sub_account"].(map[string]any)
		subID := fmt.Sprint(sub["auth_id"])
		r = runCLI(t, nil, "", "accounts", "rotate-token", "--db", dsn, "--auth-id", subID, "--grace-seconds", "0", "--json")
		if r.wantCode(t, 0, "rotate a sub-account") {
			var mm map[string]any
			json.Unmarshal([]byte(r.stdout), &mm)
			if me := httpDo(t, "GET", base+"/api/v1/auth/me", "", authPair(subID, fmt.Sprint(mm["auth_token"]))...); me.status != 200 {
				t.Errorf("rotated sub-account token: %d", me.status)
			}
			if me := httpDo(t, "GET", base+"/api/v1/auth/me", "", authPair(subID, fmt.Sprint(sub["auth_token"]))...); me.status != 401 {
				t.Errorf("old sub-account token: %d", me.status)
			}
		}
		// A deleted sub-account is not found.
		if d := httpDo(t, "DELETE", base+"/api/v1/accounts/"+id+"/sub-accounts/"+subID, "", authPair(id, tok)...); d.status != 200 {
			t.Fatalf("delete: %d %s", d.status, d.body)
		}
		runCLI(t, nil, "", "accounts", "rotate-token", "--db", dsn, "--auth-id", subID).wantCode(t, 3, "rotate a deleted sub-account")
	})
}

func TestInvalidEnvironment(t *testing.T) {
	db := filepath.Join(t.TempDir(), "env.db")
	bad := []map[string]string{
		{"SWITCHBOARD_DEV": "maybe"},
		{"SWITCHBOARD_LOG_FORMAT": "xml"},
		{"SWITCHBOARD_LOG_LEVEL": "loud"},
		{"SWITCHBOARD_SECRET_KEY": "abc"},
		{"SWITCHBOARD_WEBHOOK_ALLOW_INSECURE": "sometimes"},
		{"SWITCHBOARD_KYC_TEST_MODE": "2"},
	}
	cmds := [][]string{
		{"serve", "--addr", "127.0.0.1:0", "--db", db},
		{"migrate", "--db", db},
		{"accounts", "create", "--db", db, "--name", "x"},
		{"accounts", "rotate-token", "--db", db, "--auth-id", "MA_X"},
	}
	for _, env := range bad {
		for _, args := range cmds {
			r := runCLI(t, env, "", args...)
			r.wantCode(t, 2, fmt.Sprintf("%v %v", env, args))
		}
	}
	// 64 characters that are not hex: refused by every command that needs the key.
	notHex := map[string]string{"SWITCHBOARD_SECRET_KEY": strings.Repeat("zz", 32)}
	for _, args := range [][]string{cmds[0], cmds[2], cmds[3]} {
		runCLI(t, notHex, "", args...).wantCode(t, 2, fmt.Sprintf("non-hex key %v", args))
	}
	// Valid spellings, case-insensitive.
	for _, env := range []map[string]string{{"SWITCHBOARD_DEV": "YES"}, {"SWITCHBOARD_DEV": "0"}, {"SWITCHBOARD_LOG_FORMAT": "text"},
		{"SWITCHBOARD_LOG_LEVEL": "debug"}, {"SWITCHBOARD_SECRET_KEY": strings.Repeat("ab", 32)}} {
		runCLI(t, env, "", "migrate", "--db", db).wantCode(t, 0, fmt.Sprintf("migrate with %v", env))
	}
}
