package httpapi

import "net/http"

// routeTable is the whole HTTP surface: every path, method and role. The
// OpenAPI document, the docs page and the authorization test matrices are
// generated from it, so a route added here is documented and tested by
// construction.
func (s *Server) routeTable() []*Route {
	const (
		get, post, put, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
		acct                = "/api/v1/accounts/{auth_id}"
		subs                = acct + "/sub-accounts"
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
			handle: s.login, Action: "auth.login", Secret: true, Doc: doc("Login", "LoginResponse", 200)},
		{Method: post, Path: "/api/v1/auth/refresh", Role: RoleRefresh, Name: "refresh", Summary: "Exchange a refresh JWT (once) for a new pair",
			handle: s.refresh, Action: "auth.refresh", Secret: true, Doc: doc("", "TokenPair", 200)},
		{Method: get, Path: "/api/v1/auth/me", Role: RoleAny, Name: "me", Summary: "The calling account",
			handle: s.me, Doc: doc("", "Me", 200)},
		{Method: post, Path: "/api/v1/auth-token/rotate", Role: RoleMainSelf, Name: "rotateOwnToken", Summary: "Rotate the main account's own auth token",
			handle: s.rotateOwnToken, Action: "credential.rotate", TargetType: "account", Secret: true, Doc: doc("Rotate", "Rotation", 200)},

		// Sub-accounts (§4).
		{Method: post, Path: subs, Role: RoleParent, Name: "createSubAccount", Summary: "Create a sub-account",
			handle: s.createSubAccount, Action: "subaccount.create", TargetType: "sub_account", Secret: true, Doc: doc("SubAccountCreate", "SubAccountCreated", 201)},
		{Method: get, Path: subs, Role: RoleParent, Name: "listSubAccounts", Summary: "List sub-accounts, newest first",
			handle: s.listSubAccounts, Doc: doc("", "SubAccountList", 200, "page", "size", "limit", "offset", "active_only", "search", "kyc_mode")},
		{Method: get, Path: sub, Role: RoleParent, Name: "getSubAccount", Summary: "Retrieve a sub-account",
			handle: s.getSubAccount, Doc: doc("", "SubAccount", 200)},
		{Method: put, Path: sub, Role: RoleParent, Name: "updateSubAccount", Summary: "Partially update a sub-account (PATCH is the same)",
			handle: s.updateSubAccount, Action: "subaccount.update", TargetType: "sub_account", Doc: doc("SubAccountUpdate", "SubAccount", 200)},
		{Method: del, Path: sub, Role: RoleParent, Name: "deleteSubAccount", Summary: "Delete a sub-account (cascade, dry_run)",
			handle: s.deleteSubAccount, Action: "subaccount.delete", TargetType: "sub_account", Doc: doc("SubAccountDelete", "SubAccountDeleted", 200, "cascade", "dry_run")},
		{Method: post, Path: sub + "/rotate-token", Role: RoleParent, Name: "rotateSubAccountToken", Summary: "Rotate a sub-account's auth token",
			handle: s.rotateSubAccountToken, Action: "credential.rotate", TargetType: "sub_account", Secret: true, Doc: doc("Rotate", "Rotation", 200)},

		// Audit log and webhooks (§10).
		{Method: get, Path: acct + "/audit-log", Role: RoleParent, Name: "listAuditLog", Summary: "The tenant's audit records, newest first",
			handle: s.listAudit, Doc: doc("", "AuditPage", 200, "from", "to", "action", "actor_id", "target_id", "outcome", "limit", "cursor")},
		{Method: get, Path: acct + "/webhook", Role: RoleParent, Name: "getWebhook", Summary: "The account's webhook endpoint",
			handle: s.getWebhook, Doc: doc("", "Webhook", 200)},
		{Method: put, Path: acct + "/webhook", Role: RoleParent, Name: "putWebhook", Summary: "Set the webhook URL and events",
			handle: s.putWebhook, Action: "webhook.update", TargetType: "webhook", Doc: doc("WebhookUpdate", "Webhook", 200)},
		{Method: post, Path: acct + "/webhook/rotate-secret", Role: RoleParent, Name: "rotateWebhookSecret", Summary: "Issue a new webhook signing secret (shown once)",
			handle: s.rotateWebhookSecret, Action: "webhook.rotate_secret", TargetType: "webhook", Secret: true, Doc: doc("", "WebhookSecret", 200)},
		{Method: get, Path: acct + "/webhook-deliveries", Role: RoleParent, Name: "listWebhookDeliveries", Summary: "The webhook delivery log",
			handle: s.listDeliveries, Doc: doc("", "DeliveryList", 200, "event", "event_id", "status", "page", "size")},
		{Method: post, Path: acct + "/webhook-deliveries/{delivery_id}/retry", Role: RoleParent, Name: "retryWebhookDelivery", Summary: "Queue one more attempt now",
			handle: s.retryDelivery, Action: "webhook_delivery.retry", TargetType: "webhook_delivery", Doc: doc("", "Delivery", 200)},

		// Operator API (§3.1).
		{Method: post, Path: admin + "/accounts", Role: RoleAdmin, Name: "adminCreateAccount", Summary: "Create a main account",
			handle: s.createMainAccount, Action: "admin.account.create", TargetType: "account", Secret: true, Doc: doc("MainAccountCreate", "MainAccountCreated", 201)},
		{Method: get, Path: admin + "/accounts", Role: RoleAdmin, Name: "adminListAccounts", Summary: "List main accounts, newest first",
			handle: s.listMainAccounts, Doc: doc("", "MainAccountList", 200, "page", "size", "search", "enabled")},
		{Method: get, Path: admin + "/accounts/{auth_id}", Role: RoleAdmin, Name: "adminGetAccount", Summary: "Retrieve a main account",
			handle: s.getMainAccount, Doc: doc("", "MainAccount", 200)},
		{Method: put, Path: admin + "/accounts/{auth_id}", Role: RoleAdmin, Name: "adminUpdateAccount", Summary: "Partially update a main account",
			handle: s.updateMainAccount, Action: "admin.account.update", TargetType: "account", Doc: doc("MainAccountUpdate", "MainAccount", 200)},
		{Method: post, Path: admin + "/accounts/{auth_id}/rotate-token", Role: RoleAdmin, Name: "adminRotateToken", Summary: "Rotate a main account's token",
			handle: s.rotateMainToken, Action: "credential.rotate", TargetType: "account", Secret: true, Doc: doc("Rotate", "Rotation", 200)},

		{Method: get, Path: admin + "/audit-log", Role: RoleAdmin, Name: "adminListAuditLog", Summary: "Every tenant's audit records",
			handle: s.adminListAudit, Doc: doc("", "AuditPage", 200, "from", "to", "action", "actor_id", "target_id", "outcome", "tenant_id", "limit", "cursor")},
		{Method: get, Path: admin + "/audit-log/verify", Role: RoleAdmin, Name: "adminVerifyAuditLog", Summary: "Verify the audit hash chain",
			handle: s.adminVerifyAudit, Doc: doc("", "AuditVerification", 200)},

		// Dev helpers (§3.5).
		{Method: post, Path: admin + "/dev/reset", Role: RoleDev, Name: "devReset", Summary: "Delete all tenant data and bootstrap again",
			handle: s.devReset, Action: "admin.dev.reset", Secret: true, Doc: doc("DevReset", "DevResetResult", 200)},
		{Method: get, Path: admin + "/dev/clock", Role: RoleDev, Name: "devClock", Summary: "The server clock",
			handle: s.devClock, Doc: doc("", "Clock", 200)},
		{Method: post, Path: admin + "/dev/clock/advance", Role: RoleDev, Name: "devClockAdvance", Summary: "Advance the server clock",
			handle: s.devClockAdvance, Action: "admin.dev.clock_advance", Doc: doc("ClockAdvance", "Clock", 200)},
		{Method: post, Path: admin + "/dev/clock/reset", Role: RoleDev, Name: "devClockReset", Summary: "Reset the clock offset",
			handle: s.devClockReset, Action: "admin.dev.clock_reset", Doc: doc("", "Clock", 200)},
	}
}
