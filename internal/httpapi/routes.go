package httpapi

import "net/http"

// routeTable is the whole HTTP surface: every path, method and role. The
// OpenAPI document, the docs page and the authorization test matrices are
// generated from it, so a route added here is documented and tested by
// construction.
func (s *Server) routeTable() []*Route {
	const (
		get, post, put, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
		subs                = "/api/v1/accounts/{auth_id}/sub-accounts"
		sub                 = subs + "/{sub_auth_id}"
		admin               = "/api/v1/admin"
	)
	return []*Route{
		// Operations (§11).
		{Method: get, Path: "/healthz", Role: RolePublic, Name: "healthz", Summary: "Liveness", handle: s.healthz, Doc: docOps("Health")},
		{Method: get, Path: "/readyz", Role: RolePublic, Name: "readyz", Summary: "Readiness", handle: s.readyz, Doc: docOps("Readiness")},
		{Method: get, Path: "/metrics", Role: RoleMetrics, Name: "metrics", Summary: "Prometheus metrics", handle: s.metricsHandler, Doc: docText()},
		{Method: get, Path: "/openapi.json", Role: RolePublic, Name: "openapi", Summary: "This OpenAPI document", handle: s.openapiJSON, Doc: docOps("")},
		{Method: get, Path: "/docs", Role: RolePublic, Name: "docs", Summary: "HTML API reference", handle: s.docs, Doc: docText()},

		// Authentication (§1).
		{Method: post, Path: "/api/v1/auth/login", Role: RolePublic, Name: "login", Summary: "Exchange email and password for a JWT pair",
			handle: s.login, Doc: doc("Login", "LoginResponse", 200)},
		{Method: post, Path: "/api/v1/auth/refresh", Role: RoleRefresh, Name: "refresh", Summary: "Exchange a refresh JWT (once) for a new pair",
			handle: s.refresh, Doc: doc("", "LoginResponse", 200)},
		{Method: get, Path: "/api/v1/auth/me", Role: RoleAny, Name: "me", Summary: "The calling account",
			handle: s.me, Doc: doc("", "Me", 200)},
		{Method: post, Path: "/api/v1/auth-token/rotate", Role: RoleMainSelf, Name: "rotateOwnToken", Summary: "Rotate the main account's own auth token",
			handle: s.rotateOwnToken, Doc: doc("Rotate", "Rotation", 200)},

		// Sub-accounts (§4).
		{Method: post, Path: subs, Role: RoleParent, Name: "createSubAccount", Summary: "Create a sub-account",
			handle: s.createSubAccount, Doc: doc("SubAccountCreate", "SubAccountCreated", 201)},
		{Method: get, Path: subs, Role: RoleParent, Name: "listSubAccounts", Summary: "List sub-accounts, newest first",
			handle: s.listSubAccounts, Doc: doc("", "SubAccountList", 200, "page", "size", "limit", "offset", "active_only", "search", "kyc_mode")},
		{Method: get, Path: sub, Role: RoleParent, Name: "getSubAccount", Summary: "Retrieve a sub-account",
			handle: s.getSubAccount, Doc: doc("", "SubAccount", 200)},
		{Method: put, Path: sub, Role: RoleParent, Name: "updateSubAccount", Summary: "Partially update a sub-account (PATCH is the same)",
			handle: s.updateSubAccount, Doc: doc("SubAccountUpdate", "SubAccount", 200)},
		{Method: del, Path: sub, Role: RoleParent, Name: "deleteSubAccount", Summary: "Delete a sub-account (cascade, dry_run)",
			handle: s.deleteSubAccount, Doc: doc("SubAccountDelete", "SubAccountDeleted", 200, "cascade", "dry_run")},
		{Method: post, Path: sub + "/rotate-token", Role: RoleParent, Name: "rotateSubAccountToken", Summary: "Rotate a sub-account's auth token",
			handle: s.rotateSubAccountToken, Doc: doc("Rotate", "Rotation", 200)},

		// Operator API (§3.1).
		{Method: post, Path: admin + "/accounts", Role: RoleAdmin, Name: "adminCreateAccount", Summary: "Create a main account",
			handle: s.createMainAccount, Doc: doc("MainAccountCreate", "MainAccountCreated", 201)},
		{Method: get, Path: admin + "/accounts", Role: RoleAdmin, Name: "adminListAccounts", Summary: "List main accounts, newest first",
			handle: s.listMainAccounts, Doc: doc("", "MainAccountList", 200, "page", "size", "search", "enabled")},
		{Method: get, Path: admin + "/accounts/{auth_id}", Role: RoleAdmin, Name: "adminGetAccount", Summary: "Retrieve a main account",
			handle: s.getMainAccount, Doc: doc("", "MainAccount", 200)},
		{Method: put, Path: admin + "/accounts/{auth_id}", Role: RoleAdmin, Name: "adminUpdateAccount", Summary: "Partially update a main account",
			handle: s.updateMainAccount, Doc: doc("MainAccountUpdate", "MainAccount", 200)},
		{Method: post, Path: admin + "/accounts/{auth_id}/rotate-token", Role: RoleAdmin, Name: "adminRotateToken", Summary: "Rotate a main account's token",
			handle: s.rotateMainToken, Doc: doc("Rotate", "Rotation", 200)},

		// Dev helpers (§3.5).
		{Method: post, Path: admin + "/dev/reset", Role: RoleDev, Name: "devReset", Summary: "Delete all tenant data and bootstrap again",
			handle: s.devReset, Doc: doc("DevReset", "DevResetResult", 200)},
		{Method: get, Path: admin + "/dev/clock", Role: RoleDev, Name: "devClock", Summary: "The server clock",
			handle: s.devClock, Doc: doc("", "Clock", 200)},
		{Method: post, Path: admin + "/dev/clock/advance", Role: RoleDev, Name: "devClockAdvance", Summary: "Advance the server clock",
			handle: s.devClockAdvance, Doc: doc("ClockAdvance", "Clock", 200)},
		{Method: post, Path: admin + "/dev/clock/reset", Role: RoleDev, Name: "devClockReset", Summary: "Reset the clock offset",
			handle: s.devClockReset, Doc: doc("", "Clock", 200)},
	}
}
