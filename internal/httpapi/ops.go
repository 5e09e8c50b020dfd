package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"
)

// Operations handlers (CONTRACT §11).

func (s *Server) healthz(w http.ResponseWriter, r *http.Request, c *call) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request, c *call) error {
	notReady := func(reason string) error {
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not_ready", "reason": reason})
		return nil
	}
	if s.shuttingDown.Load() {
		return notReady("shutting_down")
	}
	ctx, cancel := context.WithTimeout(r.Context(), time.Second)
	defer cancel()
	store := s.svc.Store()
	if err := store.Ping(ctx); err != nil {
		return notReady("database")
	}
	current, err := store.SchemaCurrent(ctx)
	if err != nil {
		return notReady("database")
	}
	if !current {
		return notReady("migrations")
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}

func (s *Server) metricsHandler(w http.ResponseWriter, r *http.Request, c *call) error {
	s.metrics.Handler().ServeHTTP(w, r)
	return nil
}

func (s *Server) openapiJSON(w http.ResponseWriter, r *http.Request, c *call) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(s.openapi)))
	w.Write(s.openapi)
	return nil
}

func (s *Server) docs(w http.ResponseWriter, r *http.Request, c *call) error {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Write(s.docsHTML)
	return nil
}
