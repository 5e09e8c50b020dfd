package httpapi

import (
	"net/http"

	sb "github.com/switchboard-voice/switchboard"
	"github.com/switchboard-voice/switchboard/internal/app"
)

// Operator handlers (CONTRACT §3.1, §3.5).

func (s *Server) createMainAccount(w http.ResponseWriter, r *http.Request, c *call) error {
	o, err := readBody(r)
	if err != nil {
		return err
	}
	in := sb.MainAccountCreate{
		Name:                o.String("name").V,
		Email:               ptr(o.NullableEmail("email")),
		Phone:               ptr(o.NullableString("phone")),
		Currency:            o.String("currency"),
		Password:            ptr(o.NullableString("password")),
		Enabled:             o.Bool("enabled"),
		RateLimit:           o.Int("rate_limit"),
		MaxSubAccounts:      o.Int("max_sub_accounts"),
		LowBalanceThreshold: o.Money("low_balance_threshold"),
		Pricing:             o.PricingUpdate("pricing"),
	}
	if err := o.Err(); err != nil {
		return err
	}
	res, err := s.svc.CreateMainAccount(r.Context(), c.actor, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/admin/accounts/"+res.Account.AuthID)
	writeJSON(w, http.StatusCreated, kv(
		"account", mainAccountJSON(res.Account),
		"auth_credentials", kv("auth_id", res.Account.AuthID, "auth_token", res.AuthToken),
		"webhook_secret", res.WebhookSecret,
	))
	return nil
}

func (s *Server) listMainAccounts(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := pageQuery(r, "size", 25, 100)
	if err != nil {
		return err
	}
	enabled, hasEnabled, err := boolQuery(r, "enabled")
	if err != nil {
		return err
	}
	f := app.MainAccountFilter{Search: r.URL.Query().Get("search"), Offset: p.Offset, Limit: p.Limit}
	if hasEnabled {
		f.Enabled = &enabled
	}
	res, err := s.svc.ListMainAccounts(r.Context(), c.actor, f)
	if err != nil {
		return err
	}
	items := make([]mainAccountView, 0, len(res.Items))
	for _, a := range res.Items {
		items = append(items, mainAccountJSON(a))
	}
	writeJSON(w, http.StatusOK, kv("accounts", items, "total", res.Total, "page", p.Page, "size", p.Size))
	return nil
}

func (s *Server) getMainAccount(w http.ResponseWriter, r *http.Request, c *call) error {
	a, err := s.svc.GetMainAccount(r.Context(), c.actor, c.param("auth_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, mainAccountJSON(a))
	return nil
}

func (s *Server) updateMainAccount(w http.ResponseWriter, r *http.Request, c *call) error {
	o, err := readBody(r)
	if err != nil {
		return err
	}
	o.forUpdate()
	u := sb.MainAccountUpdate{
		Name:                o.String("name"),
		Email:               o.NullableEmail("email"),
		Phone:               o.NullableString("phone"),
		Password:            o.String("password"),
		Enabled:             o.Bool("enabled"),
		RateLimit:           o.Int("rate_limit"),
		MaxSubAccounts:      o.Int("max_sub_accounts"),
		LowBalanceThreshold: o.Money("low_balance_threshold"),
		Pricing:             o.PricingUpdate("pricing"),
	}
	if err := o.Err(); err != nil {
		return err
	}
	a, err := s.svc.UpdateMainAccount(r.Context(), c.actor, c.param("auth_id"), u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, mainAccountJSON(a))
	return nil
}

func (s *Server) rotateMainToken(w http.ResponseWriter, r *http.Request, c *call) error {
	grace, err := graceSeconds(r)
	if err != nil {
		return err
	}
	res, err := s.svc.RotateMainToken(r.Context(), c.actor, c.param("auth_id"), grace)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rotationJSON(res))
	return nil
}

func (s *Server) devReset(w http.ResponseWriter, r *http.Request, c *call) error {
	o, err := readBody(r)
	if err != nil {
		return err
	}
	boot := o.Bool("bootstrap")
	if err := o.Err(); err != nil {
		return err
	}
	res, err := s.svc.DevReset(r.Context(), c.actor, !boot.Set || boot.V)
	if err != nil {
		return err
	}
	var bootstrap any
	if res.Bootstrap != nil {
		bootstrap = kv("auth_id", res.Bootstrap.Account.AuthID, "auth_token", res.Bootstrap.AuthToken,
			"webhook_secret", res.Bootstrap.WebhookSecret)
	}
	writeJSON(w, http.StatusOK, kv("message", "reset", "bootstrap", bootstrap))
	return nil
}

func (s *Server) clockJSON() ordered {
	clk := s.svc.Clock()
	return kv("now", jsonTime(clk.Now()), "offset_seconds", int64(clk.Offset().Seconds()))
}

func (s *Server) devClock(w http.ResponseWriter, r *http.Request, c *call) error {
	writeJSON(w, http.StatusOK, s.clockJSON())
	return nil
}

func (s *Server) devClockAdvance(w http.ResponseWriter, r *http.Request, c *call) error {
	o, err := readBody(r)
	if err != nil {
		return err
	}
	secs := o.Int("seconds")
	if err := o.Err(); err != nil {
		return err
	}
	if !secs.Set {
		return sb.Invalid("seconds", sb.FieldRequired, "is required")
	}
	if err := s.svc.DevAdvanceClock(r.Context(), c.actor, int64(secs.V)); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.clockJSON())
	return nil
}

func (s *Server) devClockReset(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.svc.DevResetClock(r.Context(), c.actor); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.clockJSON())
	return nil
}
