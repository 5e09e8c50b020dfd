package httpapi

import (
	"net/http"
	"strings"

	sb "github.com/switchboard-voice/switchboard"
	"github.com/switchboard-voice/switchboard/internal/app"
)

// Authentication handlers (CONTRACT §1.3–1.4).

func (s *Server) login(w http.ResponseWriter, r *http.Request, c *call) error {
	o, err := readBody(r)
	if err != nil {
		return err
	}
	email, pw := o.String("email"), o.String("password")
	if err := o.Err(); err != nil {
		return err
	}
	if !email.Set || email.V == "" {
		return sb.Invalid("email", sb.FieldRequired, "is required")
	}
	if !pw.Set || pw.V == "" {
		return sb.Invalid("password", sb.FieldRequired, "is required")
	}
	res, err := s.svc.Login(r.Context(), c.actor, email.V, pw.V)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, tokenPairJSON(res))
	return nil
}

func tokenPairJSON(res *app.LoginResult) ordered {
	return kv("access_token", res.AccessToken, "refresh_token", res.RefreshToken,
		"token_type", res.TokenType, "expires_in", res.ExpiresIn, "auth_id", res.AuthID)
}

func (s *Server) refresh(w http.ResponseWriter, r *http.Request, c *call) error {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return s.authFailed(r, c, sb.Errorf(sb.EUnauthorized, "a refresh token is required as Authorization: Bearer"))
	}
	res, err := s.svc.Refresh(r.Context(), c.actor, strings.TrimSpace(tok))
	if err != nil {
		return s.authFailed(r, c, err)
	}
	writeJSON(w, http.StatusOK, res.TokenPair) // exactly the pair (§1.4)
	return nil
}

func (s *Server) me(w http.ResponseWriter, r *http.Request, c *call) error {
	writeJSON(w, http.StatusOK, meJSON(c.actor.Account))
	return nil
}

func (s *Server) rotateOwnToken(w http.ResponseWriter, r *http.Request, c *call) error {
	grace, err := graceSeconds(r)
	if err != nil {
		return err
	}
	res, err := s.svc.RotateOwnToken(r.Context(), c.actor, grace)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rotationJSON(res))
	return nil
}
