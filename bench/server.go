package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	startTimeout = 60 * time.Second // migrations on a fresh PostgreSQL database included
	stopTimeout  = 30 * time.Second // the server's own shutdown grace is 20 s
)

// buildBinary compiles ./cmd/switchboard of the module that contains the
// working directory into dir, statically (CGO_ENABLED=0), as a release would.
func buildBinary(ctx context.Context, dir string, stderr io.Writer) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the switchboard module; run from the repository or pass -bin")
	}
	bin := filepath.Join(dir, "switchboard")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/switchboard")
	cmd.Dir = filepath.Dir(gomod)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Stdout = stderr
	cmd.Stderr = stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/switchboard: %w", err)
	}
	return bin, nil
}

// binaryVersion is `switchboard version --json`, best effort.
func binaryVersion(ctx context.Context, bin string) map[string]string {
	out, err := exec.CommandContext(ctx, bin, "version", "--json").Output()
	if err != nil {
		return nil
	}
	var v map[string]string
	if json.Unmarshal(out, &v) != nil {
		return nil
	}
	return v
}

// randomToken is n characters of [A-Za-z0-9] from crypto/rand.
func randomToken(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[int(randByte())%len(alphabet)]
	}
	return string(b)
}

// randByte draws uniformly from 0..247 (rejection sampling keeps % 62 unbiased).
func randByte() byte {
	var b [1]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			panic(err)
		}
		if b[0] < 248 {
			return b[0]
		}
	}
}

// server is a running switchboard process.
type server struct {
	cmd     *exec.Cmd
	Addr    string
	Engine  string
	Boot    *credentials // nil when the database already had a main account
	log     *logSink
	waitErr chan error
	exited  bool
	code    int
}

// startServer runs `bin serve --addr 127.0.0.1:0 --db db` and waits for the
// "listening" record. Every SWITCHBOARD_* variable of this process is dropped
// so that the run does not depend on the caller's shell; the server gets only
// the admin token and the JSON log format the bench parses.
func startServer(ctx context.Context, bin, db, adminToken, logPath string) (*server, error) {
	sink, err := newLogSink(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--db", db)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SWITCHBOARD_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env,
		"SWITCHBOARD_ADMIN_TOKEN="+adminToken,
		"SWITCHBOARD_LOG_FORMAT=json",
		"SWITCHBOARD_LOG_LEVEL=info",
	)
	cmd.Stdout = sink
	cmd.Stderr = sink
	if err := cmd.Start(); err != nil {
		sink.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &server{cmd: cmd, log: sink, waitErr: make(chan error, 1)}
	go func() { s.waitErr <- cmd.Wait() }()

	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case ln := <-sink.listening:
		s.Addr, s.Engine = ln.addr, ln.engine
		s.Boot = sink.bootstrap()
		host, _, err := net.SplitHostPort(s.Addr)
		if err != nil || host != "127.0.0.1" {
			s.kill()
			return nil, fmt.Errorf("server listens on %q, want 127.0.0.1", s.Addr)
		}
		return s, nil
	case err := <-s.waitErr:
		s.exited = true
		s.code = exitCode(err)
		sink.Close()
		return nil, fmt.Errorf("server exited with code %d before listening:\n%s", s.code, sink.tail())
	case <-timer.C:
		s.kill()
		return nil, fmt.Errorf("server did not log \"listening\" within %s:\n%s", startTimeout, sink.tail())
	case <-ctx.Done():
		s.kill()
		return nil, ctx.Err()
	}
}

// stop sends SIGTERM and waits for a clean exit; it returns the exit code.
func (s *server) stop() (int, error) {
	if s.exited {
		return s.code, nil
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return -1, fmt.Errorf("SIGTERM: %w", err)
	}
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case err := <-s.waitErr:
		s.exited = true
		s.code = exitCode(err)
		s.log.Close()
		if s.code != 0 {
			return s.code, fmt.Errorf("server exited with code %d after SIGTERM:\n%s", s.code, s.log.tail())
		}
		return 0, nil
	case <-timer.C:
		s.kill()
		return -1, fmt.Errorf("server still running %s after SIGTERM; killed", stopTimeout)
	}
}

// kill ends the process at once (error paths only).
func (s *server) kill() {
	if s.exited {
		return
	}
	_ = s.cmd.Process.Kill()
	err := <-s.waitErr
	s.exited = true
	s.code = exitCode(err)
	s.log.Close()
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// logSink receives the server's stderr line by line: it copies every line to
// a file (bootstrap secrets withheld), picks out the bootstrap credentials and the listening address, and
// counts WARN and ERROR records (reported with the results).
type logSink struct {
	mu        sync.Mutex
	f         *os.File
	partial   []byte
	boot      *credentials
	lines     []string // last lines, for error messages
	warnings  []string // WARN/ERROR records after start-up (capped)
	nWarn     int
	nError    int
	listening chan listenRecord
	sent      bool
}

type listenRecord struct{ addr, engine string }

func newLogSink(path string) (*logSink, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return &logSink{f: f, listening: make(chan listenRecord, 1)}, nil
}

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.line(string(l.partial[:i]))
		l.partial = l.partial[i+1:]
	}
	return len(p), nil
}

func (l *logSink) line(s string) {
	var rec struct {
		Event     string `json:"event"`
		AuthID    string `json:"auth_id"`
		AuthToken string `json:"auth_token"`
		Msg       string `json:"msg"`
		Level     string `json:"level"`
		Addr      string `json:"addr"`
		Engine    string `json:"engine"`
	}
	if json.Unmarshal([]byte(s), &rec) == nil {
		switch {
		case rec.Event == "bootstrap" && rec.AuthID != "" && rec.AuthToken != "":
			l.boot = &credentials{AuthID: rec.AuthID, AuthToken: rec.AuthToken}
			s = `{"event":"bootstrap","auth_id":"` + rec.AuthID + `", … (token withheld)}`
		case rec.Msg == "listening" && !l.sent:
			l.sent = true
			l.listening <- listenRecord{addr: rec.Addr, engine: rec.Engine}
		case rec.Level == "WARN" || rec.Level == "ERROR":
			if rec.Level == "WARN" {
				l.nWarn++
			} else {
				l.nError++
			}
			if len(l.warnings) < 20 {
				l.warnings = append(l.warnings, s)
			}
		}
	} else if strings.Contains(s, "auth token") {
		s = "(human bootstrap line withheld)"
	}
	if l.f != nil {
		_, _ = l.f.WriteString(s + "\n")
	}
	l.lines = append(l.lines, s)
	if len(l.lines) > 40 {
		l.lines = l.lines[len(l.lines)-40:]
	}
}

func (l *logSink) bootstrap() *credentials {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.boot
}

func (l *logSink) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// problems returns the WARN/ERROR counts and the first such records.
func (l *logSink) problems() (warn, errs int, records []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.nWarn, l.nError, append([]string(nil), l.warnings...)
}

func (l *logSink) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		_ = l.f.Close()
		l.f = nil
	}
}

// startBaseline serves the hello-world handler on 127.0.0.1:0 in this
// process: it drains the request body and writes {"status":"ok"}, which is
// the most the HTTP stack and this load generator can do on the machine.
func startBaseline() (*http.Server, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	body := []byte(`{"status":"ok"}`)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(body)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = srv.Serve(ln) }()
	return srv, "http://" + ln.Addr().String(), nil
}
