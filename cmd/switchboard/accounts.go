package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	sb "github.com/switchboard-voice/switchboard"
)

// cliActor is the audit identity of the command line.
var cliActor = sb.Actor{Kind: sb.ActorCLI}

func runAccountsCreate(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return fail(stderr, false, err)
	}
	fs := flag.NewFlagSet("accounts create", flag.ContinueOnError)
	fs.StringVar(&cfg.DB, "db", cfg.DB, "SQLite path or PostgreSQL DSN")
	name := fs.String("name", "", "account name (required)")
	email := fs.String("email", "", "account email")
	currency := fs.String("currency", sb.DefaultCurrency, "ISO-4217 currency")
	pwStdin := fs.Bool("password-stdin", false, "read the console password from the first line of stdin")
	asJSON := fs.Bool("json", false, "print JSON")
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return fail(stderr, *asJSON, err)
	}
	in := sb.MainAccountCreate{Name: strings.TrimSpace(*name), Currency: sb.Some(strings.TrimSpace(*currency))}
	if *email != "" {
		e := sb.NormalizeEmail(*email)
		in.Email = &e
	}
	if *pwStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && line == "" {
			return fail(stderr, *asJSON, usagef("--password-stdin: no password on stdin"))
		}
		pw := strings.TrimRight(line, "\r\n")
		in.Password = &pw
	}
	if err := in.Validate(); err != nil { // before touching the database
		return fail(stderr, *asJSON, err)
	}
	svc, db, err := service(ctx, cfg, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		return fail(stderr, *asJSON, err)
	}
	defer db.Close()
	res, err := svc.CreateMainAccount(ctx, cliActor, in)
	if err != nil {
		return fail(stderr, *asJSON, err)
	}
	a := res.Account
	fields := []struct{ k, v string }{
		{"auth_id", a.AuthID}, {"auth_token", res.AuthToken}, {"webhook_secret", res.WebhookSecret},
		{"id", fmt.Sprint(a.ID)}, {"api_id", a.APIID}, {"name", a.Name}, {"email", deref(a.Email)},
		{"currency", a.Currency}, {"created_at", sb.FormatTime(a.CreatedAt)},
	}
	if *asJSON {
		var emailVal any
		if a.Email != nil {
			emailVal = *a.Email
		}
		b, _ := json.Marshal(struct {
			AuthID        string `json:"auth_id"`
			AuthToken     string `json:"auth_token"`
			WebhookSecret string `json:"webhook_secret"`
			ID            string `json:"id"`
			APIID         string `json:"api_id"`
			Name          string `json:"name"`
			Email         any    `json:"email"`
			Currency      string `json:"currency"`
			CreatedAt     string `json:"created_at"`
		}{a.AuthID, res.AuthToken, res.WebhookSecret, fmt.Sprint(a.ID), a.APIID, a.Name, emailVal, a.Currency, sb.FormatTime(a.CreatedAt)})
		fmt.Fprintln(stdout, string(b))
		return exitOK
	}
	for _, f := range fields {
		fmt.Fprintf(stdout, "%s: %s\n", f.k, f.v)
	}
	return exitOK
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func runRotateToken(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return fail(stderr, false, err)
	}
	fs := flag.NewFlagSet("accounts rotate-token", flag.ContinueOnError)
	fs.StringVar(&cfg.DB, "db", cfg.DB, "SQLite path or PostgreSQL DSN")
	authID := fs.String("auth-id", "", "MA_… or SA_… (required)")
	grace := fs.Int("grace-seconds", sb.DefaultGraceSeconds, "seconds the previous token keeps working (0–604800)")
	asJSON := fs.Bool("json", false, "print JSON")
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return fail(stderr, *asJSON, err)
	}
	if *authID == "" {
		return fail(stderr, *asJSON, usagef("accounts rotate-token: --auth-id is required"))
	}
	if *grace < 0 || *grace > sb.MaxGraceSeconds {
		return fail(stderr, *asJSON, usagef("accounts rotate-token: --grace-seconds must be between 0 and 604800"))
	}
	svc, db, err := service(ctx, cfg, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		return fail(stderr, *asJSON, err)
	}
	defer db.Close()
	res, err := svc.RotateAnyToken(ctx, cliActor, *authID, *grace)
	if err != nil {
		return fail(stderr, *asJSON, err)
	}
	prev := ""
	var prevVal any
	if res.PreviousExpiresAt != nil {
		prev = sb.FormatTime(*res.PreviousExpiresAt)
		prevVal = prev
	}
	if *asJSON {
		b, _ := json.Marshal(struct {
			AuthID    string `json:"auth_id"`
			AuthToken string `json:"auth_token"`
			Prev      any    `json:"previous_token_expires_at"`
		}{res.AuthID, res.AuthToken, prevVal})
		fmt.Fprintln(stdout, string(b))
		return exitOK
	}
	fmt.Fprintf(stdout, "auth_id: %s\nauth_token: %s\nprevious_token_expires_at: %s\n", res.AuthID, res.AuthToken, prev)
	return exitOK
}

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return fail(stderr, false, err)
	}
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.StringVar(&cfg.DB, "db", cfg.DB, "SQLite path or PostgreSQL DSN")
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return fail(stderr, false, err)
	}
	db, from, to, err := openDB(ctx, cfg.DB)
	if err != nil {
		return fail(stderr, false, err)
	}
	db.Close()
	fmt.Fprintf(stderr, "migrated %s: version %d -> %d\n", redactDSN(cfg.DB), from, to)
	return exitOK
}
