package httpapi

import (
	"encoding/json"
	"net/http"

	sb "github.com/switchboard-voice/switchboard"
	"github.com/switchboard-voice/switchboard/internal/app"
)

// Sub-account handlers (CONTRACT §4).

func (s *Server) createSubAccount(w http.ResponseWriter, r *http.Request, c *call) error {
	o, err := readBody(r)
	if err != nil {
		return err
	}
	in := sb.SubAccountCreate{
		Name:         o.String("name").V,
		Email:        ptr(o.NullableEmail("email")),
		Phone:        ptr(o.NullableString("phone")),
		Description:  ptr(o.NullableString("description")),
		RateLimit:    o.Int("rate_limit"),
		Permissions:  ptr(o.Permissions("permissions")),
		Password:     ptr(o.NullableString("password")),
		Enabled:      o.Bool("enabled"),
		KYCMode:      o.String("kyc_mode"),
		BusinessType: ptr(o.NullableString("business_type")),
	}
	if err := o.Err(); err != nil {
		return err
	}
	res, err := s.svc.CreateSubAccount(r.Context(), c.actor, c.param("auth_id"), in)
	if err != nil {
		return err
	}
	a := res.Account
	w.Header().Set("Location", "/api/v1/accounts/"+a.ParentAuthID+"/sub-accounts/"+a.AuthID)
	w.Header().Set("ETag", app.ETag(a.Version))
	writeJSON(w, http.StatusCreated, kv(
		"message", "Sub-account created successfully",
		"sub_account", subAccountJSON(a, res.AuthToken),
		"auth_credentials", kv("auth_id", a.AuthID, "auth_token", res.AuthToken),
		"tokens", res.Tokens,
	))
	return nil
}

func (s *Server) listSubAccounts(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := pageQuery(r, "size", 25, 100)
	if err != nil {
		return err
	}
	active, _, err := boolQuery(r, "active_only")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	res, err := s.svc.ListSubAccounts(r.Context(), c.actor, c.param("auth_id"), app.SubAccountFilter{
		ActiveOnly: active, Search: q.Get("search"), KYCMode: q.Get("kyc_mode"), Offset: p.Offset, Limit: p.Limit,
	})
	if err != nil {
		return err
	}
	items := make([]sb.SubAccountView, 0, len(res.Items))
	for _, a := range res.Items {
		items = append(items, subAccountJSON(a, ""))
	}
	writeJSON(w, http.StatusOK, kv("sub_accounts", items, "total", res.Total, "page", p.Page, "size", p.Size))
	return nil
}

func (s *Server) getSubAccount(w http.ResponseWriter, r *http.Request, c *call) error {
	a, err := s.svc.GetSubAccount(r.Context(), c.actor, c.param("auth_id"), c.param("sub_auth_id"))
	if err != nil {
		return err
	}
	w.Header().Set("ETag", app.ETag(a.Version))
	writeJSON(w, http.StatusOK, subAccountJSON(a, ""))
	return nil
}

func (s *Server) updateSubAccount(w http.ResponseWriter, r *http.Request, c *call) error {
	o, err := readBody(r)
	if err != nil {
		return err
	}
	o.forUpdate()
	u := sb.SubAccountUpdate{
		Name:         o.String("name"),
		Email:        o.NullableEmail("email"),
		Phone:        o.NullableString("phone"),
		Description:  o.NullableString("description"),
		RateLimit:    o.Int("rate_limit"),
		Permissions:  o.Permissions("permissions"),
		Enabled:      o.Bool("enabled"),
		KYCMode:      o.String("kyc_mode"),
		BusinessType: o.NullableString("business_type"),
		Password:     o.String("password"),
	}
	if err := s.inputErr(r, c, o.Err()); err != nil {
		return err
	}
	res, err := s.svc.UpdateSubAccount(r.Context(), c.actor, c.param("auth_id"), c.param("sub_auth_id"), r.Header.Get("If-Match"), u)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", app.ETag(res.Account.Version))
	writeJSON(w, http.StatusOK, subAccountJSON(res.Account, ""))
	return nil
}

// deleteFlags reads cascade and dry_run from the query string or the JSON
// body; the query wins when both carry a flag (CONTRACT §4.5).
func deleteFlags(r *http.Request) (cascade, dryRun bool, err error) {
	o, err := readBody(r)
	if err != nil {
		return false, false, err
	}
	flag := func(key string) (bool, error) {
		if v, ok, err := boolQuery(r, key); err != nil || ok {
			return v, err
		}
		switch v := o.m[key].(type) {
		case nil:
			return false, nil
		case bool:
			return v, nil
		case string:
			if b, ok := parseBool(v); ok {
				return b, nil
			}
		case json.Number:
			if v == "1" || v == "0" {
				return v == "1", nil
			}
		}
		return false, sb.Invalid(key, sb.FieldInvalidType, "must be a boolean")
	}
	if cascade, err = flag("cascade"); err != nil {
		return false, false, err
	}
	dryRun, err = flag("dry_run")
	return cascade, dryRun, err
}

func (s *Server) deleteSubAccount(w http.ResponseWriter, r *http.Request, c *call) error {
	cascade, dryRun, err := deleteFlags(r)
	if err := s.inputErr(r, c, err); err != nil {
		return err
	}
	plan, err := s.svc.DeleteSubAccount(r.Context(), c.actor, c.param("auth_id"), c.param("sub_auth_id"), r.Header.Get("If-Match"), cascade, dryRun)
	if err != nil {
		return err
	}
	if dryRun {
		writeJSON(w, http.StatusOK, deletePlanJSON(plan))
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]string{"message": "Sub-account deleted successfully"})
	return nil
}

// graceSeconds reads the optional rotation body (CONTRACT §1.3).
func graceSeconds(r *http.Request) (int, error) {
	o, err := readBody(r)
	if err != nil {
		return 0, err
	}
	g := o.Int("grace_seconds")
	if err := o.Err(); err != nil {
		return 0, err
	}
	if !g.Set {
		return sb.DefaultGraceSeconds, nil
	}
	return g.V, nil
}

func (s *Server) rotateSubAccountToken(w http.ResponseWriter, r *http.Request, c *call) error {
	grace, err := graceSeconds(r)
	if err := s.inputErr(r, c, err); err != nil {
		return err
	}
	res, err := s.svc.RotateSubAccountToken(r.Context(), c.actor, c.param("auth_id"), c.param("sub_auth_id"), grace)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rotationJSON(res))
	return nil
}
