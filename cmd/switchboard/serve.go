package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-voice/switchboard/internal/app"
	"github.com/switchboard-voice/switchboard/internal/httpapi"
	"github.com/switchboard-voice/switchboard/internal/sqlstore"
	"github.com/switchboard-voice/switchboard/internal/webhook"
)

// Server timeouts: slow clients cannot hold connections open.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	shutdownGrace     = 20 * time.Second
)

func newLogger(cfg config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// openDB opens and migrates the database named by dsn.
func openDB(ctx context.Context, dsn string) (*sqlstore.DB, int, int, error) {
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("open database %s: %w", redactDSN(dsn), err)
	}
	from, to, err := db.Migrate(ctx)
	if err != nil {
		db.Close()
		return nil, 0, 0, fmt.Errorf("migrate database %s: %w", redactDSN(dsn), err)
	}
	return db, from, to, nil
}

// service opens the database and builds the use cases with the server key.
func service(ctx context.Context, cfg config, log *slog.Logger, metrics app.MetricsSink) (*app.Service, *sqlstore.DB, error) {
	db, _, _, err := openDB(ctx, cfg.DB)
	if err != nil {
		return nil, nil, err
	}
	key, err := app.LoadServerKey(ctx, db, cfg.SecretKey)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	insecure := cfg.Dev || cfg.AllowInsecure
	appCfg := app.Config{
		Dev:                cfg.Dev,
		ValidateWebhookURL: func(raw string) error { return webhook.ValidateURL(raw, insecure) },
		Metrics:            metrics,
		Sender:             webhook.NewSender(insecure),
	}
	return app.New(db, app.NewClock(nil), key, appCfg, log), db, nil
}

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return fail(stderr, false, err)
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "listen address")
	fs.StringVar(&cfg.DB, "db", cfg.DB, "SQLite path or PostgreSQL DSN")
	dev := fs.Bool("dev", cfg.Dev, "dev mode")
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return fail(stderr, false, err)
	}
	cfg.Dev = *dev
	log := newLogger(cfg, stderr)
	if cfg.AdminToken != "" && len(cfg.AdminToken) < 32 {
		log.Warn("SWITCHBOARD_ADMIN_TOKEN is shorter than 32 characters")
	}

	metrics := httpapi.NewMetrics(prometheus.NewRegistry(), versionString(), commitString())
	svc, db, err := service(ctx, cfg, log, metrics)
	if err != nil {
		return fail(stderr, false, err)
	}
	defer db.Close()
	metrics.WatchOutbox(svc.PendingDeliveries)
	created, err := svc.Bootstrap(ctx)
	if err != nil {
		return fail(stderr, false, err)
	}
	if created != nil {
		printBootstrap(stderr, created)
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fail(stderr, false, fmt.Errorf("listen on %s: %w", cfg.Addr, err))
	}
	handler := httpapi.NewServer(httpapi.Deps{
		Service: svc, Log: log, AdminToken: cfg.AdminToken, MetricsElsewhere: cfg.MetricsAddr != "",
		Metrics: metrics, Version: versionString(), Commit: commitString(),
	})
	srv := newHTTPServer(handler, log)
	servers := []*http.Server{srv}
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "engine", db.Engine(), "dev", cfg.Dev)

	if cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			srv.Close()
			return fail(stderr, false, fmt.Errorf("listen on %s: %w", cfg.MetricsAddr, err))
		}
		msrv := newHTTPServer(metrics.Handler(), log)
		servers = append(servers, msrv)
		go func() { errc <- msrv.Serve(mln) }()
		log.Info("metrics listening", "addr", mln.Addr().String())
	}

	bgCtx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBackground()
	bgDone := make(chan struct{})
	go func() {
		defer close(bgDone)
		svc.RunBackground(bgCtx, time.Second)
	}()

	select {
	case <-ctx.Done():
	case err := <-errc:
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fail(stderr, false, err)
		}
	}
	log.Info("shutting down")
	handler.SetShuttingDown()
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	for _, s := range servers {
		if err := s.Shutdown(sctx); err != nil {
			log.Warn("shutdown incomplete", "err", err)
		}
	}
	stopBackground()
	<-bgDone
	log.Info("stopped")
	return exitOK
}

func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// printBootstrap writes the two first-start lines of CONTRACT §2.3.
func printBootstrap(w io.Writer, c *app.CreatedMainAccount) {
	a := c.Account
	fmt.Fprintf(w, "switchboard: created first main account %s; auth token %s; webhook secret %s; shown once, store them now\n",
		a.AuthID, c.AuthToken, c.WebhookSecret)
	line, _ := json.Marshal(struct {
		Event         string `json:"event"`
		AuthID        string `json:"auth_id"`
		AuthToken     string `json:"auth_token"`
		WebhookSecret string `json:"webhook_secret"`
		ID            string `json:"id"`
		Name          string `json:"name"`
		Currency      string `json:"currency"`
	}{"bootstrap", a.AuthID, c.AuthToken, c.WebhookSecret, fmt.Sprint(a.ID), a.Name, a.Currency})
	fmt.Fprintln(w, string(line))
}
