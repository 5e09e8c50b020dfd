package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	sb "github.com/switchboard-voice/switchboard"
	"github.com/switchboard-voice/switchboard/internal/app"
)

// The OpenAPI 3.1 document of CONTRACT §11 is generated from the route
// table: every route becomes exactly one operation (plus a PATCH twin for
// every PUT, because the router serves PATCH wherever PUT is), and every
// schema a RouteDoc names must be defined below, so a route added to
// routes.go is documented by construction or the server refuses to start.
// The bytes are deterministic: JSON objects are maps (encoded with sorted
// keys) or structs, and every list is built in a fixed order.

// oaSchema is one JSON Schema (2020-12, as OpenAPI 3.1 uses it).
type oaSchema map[string]any

// with returns a copy of s with the key/value pairs kv added.
func (s oaSchema) with(kv ...any) oaSchema {
	c := make(oaSchema, len(s)+len(kv)/2)
	for k, v := range s {
		c[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		c[kv[i].(string)] = kv[i+1]
	}
	return c
}

// desc returns a copy of s with a description.
func (s oaSchema) desc(d string) oaSchema { return s.with("description", d) }

// orNull returns a copy of s that also admits null (the 3.1 type array).
func (s oaSchema) orNull() oaSchema {
	c := s.with()
	if t, ok := c["type"].(string); ok {
		c["type"] = []string{t, "null"}
	}
	if e, ok := c["enum"].([]any); ok {
		c["enum"] = append(append([]any{}, e...), nil)
	}
	return c
}

func oaRef(name string) oaSchema { return oaSchema{"$ref": schemaRefPrefix + name} }

const (
	schemaRefPrefix    = "#/components/schemas/"
	responseRefPrefix  = "#/components/responses/"
	parameterRefPrefix = "#/components/parameters/"
	headerRefPrefix    = "#/components/headers/"
)

func oaString() oaSchema              { return oaSchema{"type": "string"} }
func oaInt() oaSchema                 { return oaSchema{"type": "integer"} }
func oaNumber() oaSchema              { return oaSchema{"type": "number"} }
func oaBool() oaSchema                { return oaSchema{"type": "boolean"} }
func oaArray(items oaSchema) oaSchema { return oaSchema{"type": "array", "items": items} }
func oaTime() oaSchema {
	return oaSchema{"type": "string", "format": "date-time",
		"description": "UTC, six fraction digits, e.g. 2026-11-27T10:15:30.123456Z"}
}
func oaEnum(values ...string) oaSchema {
	e := make([]any, len(values))
	for i, v := range values {
		e[i] = v
	}
	return oaSchema{"type": "string", "enum": e}
}
func oaRange(s oaSchema, lo, hi int64) oaSchema { return s.with("minimum", lo, "maximum", hi) }

// Identifier and value formats (CONTRACT §0.3, §0.4).
func oaMainAuthID() oaSchema {
	return oaString().with("pattern", "^MA_[A-Z0-9]{8}$").desc("Main account auth_id: MA_ followed by 8 characters [A-Z0-9]")
}
func oaSubAuthID() oaSchema {
	return oaString().with("pattern", "^SA_[A-Z0-9]{8}$").desc("Sub-account auth_id: SA_ followed by 8 characters [A-Z0-9]")
}
func oaAnyAuthID() oaSchema {
	return oaString().with("pattern", "^(MA|SA)_[A-Z0-9]{8}$").desc("auth_id of a main (MA_) or sub-account (SA_)")
}
func oaNumericID() oaSchema {
	return oaString().with("pattern", "^[0-9]+$").desc("Decimal string from the account id sequence")
}
func oaAPIID() oaSchema {
	return oaString().with("format", "uuid").desc("Stable UUID assigned at creation")
}
func oaE164() oaSchema {
	return oaString().with("pattern", `^\+[1-9][0-9]{6,14}$`).desc("E.164 number")
}
func oaEmail() oaSchema { return oaString().with("format", "email", "maxLength", sb.MaxEmailLen) }
func oaCurrency() oaSchema {
	return oaString().with("pattern", "^[A-Z]{3}$").desc("ISO-4217 currency code")
}
func oaMoney() oaSchema {
	return oaNumber().desc("Amount: a JSON number with at most 6 fraction digits")
}
func oaName() oaSchema { return oaString().with("minLength", 1, "maxLength", sb.MaxNameLen) }
func oaPassword() oaSchema {
	return oaString().with("minLength", sb.MinPasswordLen, "maxLength", sb.MaxPasswordLen).desc("Console login password (argon2id at rest)")
}
func oaKYCMode() oaSchema { return oaEnum(sb.KYCPersonalUse, sb.KYCCustomerUse) }
func oaBusinessType() oaSchema {
	return oaEnum(sb.BusinessTypes...).orNull()
}

// prop is one property of an object schema.
type oaProp struct {
	name string
	s    oaSchema
}

func oaKey(name string, s oaSchema) oaProp { return oaProp{name, s} }

// object builds an object schema. required names the required keys;
// closed adds additionalProperties: false.
func oaObject(props []oaProp, required []string, closed bool) oaSchema {
	ps := oaSchema{}
	for _, pr := range props {
		ps[pr.name] = pr.s
	}
	s := oaSchema{"type": "object", "properties": ps}
	if len(required) > 0 {
		s["required"] = required
	}
	if closed {
		s["additionalProperties"] = false
	}
	return s
}

// exact is a response object with exactly these keys, all of them present.
func oaExact(props ...oaProp) oaSchema {
	names := make([]string, len(props))
	for i, pr := range props {
		names[i] = pr.name
	}
	return oaObject(props, names, true)
}

// input is a request object: unknown and protected keys are ignored
// (CONTRACT §0.6), so it stays open.
func oaInput(required []string, props ...oaProp) oaSchema {
	return oaObject(props, required, false)
}

// componentSchemas defines every schema a RouteDoc may name, with the exact
// key sets of views.go and the handlers.
func componentSchemas() map[string]oaSchema {
	permissions := oaExact(oaKey("calls", oaBool()), oaKey("cdr", oaBool())).orNull().
		desc("Feature flags; null means everything is allowed")
	permissionsIn := oaInput(nil, oaKey("calls", oaBool().with("default", true)), oaKey("cdr", oaBool().with("default", true))).orNull().
		desc("Feature flags, replaced as a whole; a key omitted is true; null means everything is allowed")
	tokenPair := []oaProp{
		oaKey("access_token", oaString().desc("HS256 JWT, lives 1800 s")),
		oaKey("refresh_token", oaString().desc("HS256 JWT, single use, lives 7 days")),
		oaKey("token_type", oaEnum("bearer")),
		oaKey("expires_in", oaInt().desc("Seconds the access token lives")),
	}
	pricing := func(in bool) oaSchema {
		props := []oaProp{
			oaKey("outbound_rate_per_minute", oaMoney().with("minimum", 0)),
			oaKey("inbound_rate_per_minute", oaMoney().with("minimum", 0)),
			oaKey("billing_increment_seconds", oaRange(oaInt(), 1, 3600)),
			oaKey("minimum_duration_seconds", oaRange(oaInt(), 0, 3600)),
		}
		if in {
			return oaInput(nil, props...).desc("Rate card, merged key by key")
		}
		return oaExact(props...).desc("Rate card applied to the account and its sub-accounts")
	}
	closedMessage := func(text string) oaSchema { return oaExact(oaKey("message", oaEnum(text))) }

	return map[string]oaSchema{
		// Errors (CONTRACT §0.7).
		"Error": oaObject([]oaProp{
			oaKey("api_id", oaString().with("format", "uuid").desc("UUID generated for this request")),
			oaKey("error", oaEnum(errorCodes()...).desc("Stable error code")),
			oaKey("message", oaString().desc("Human-readable; may change")),
			oaKey("details", oaArray(oaRef("FieldError")).desc("Field errors; present only for validation_error")),
		}, []string{"api_id", "error", "message"}, false).
			desc("The one error body. Some codes add keys (CONTRACT §0.7), so other keys may appear."),
		"FieldError": oaExact(
			oaKey("field", oaString().desc("Dotted path, e.g. permissions.calls")),
			oaKey("code", oaEnum(sb.FieldRequired, sb.FieldInvalidType, sb.FieldInvalidFormat, sb.FieldInvalidValue,
				sb.FieldInvalidChecksum, sb.FieldOutOfRange, sb.FieldTooLong, sb.FieldMismatch)),
			oaKey("message", oaString()),
		),

		// Operations (CONTRACT §11).
		"Health":    oaExact(oaKey("status", oaEnum("ok"))),
		"Readiness": oaExact(oaKey("status", oaEnum("ready"))),
		"NotReady": oaExact(oaKey("status", oaEnum("not_ready")),
			oaKey("reason", oaEnum("database", "migrations", "shutting_down"))),

		// Authentication (CONTRACT §1).
		"Login":     oaInput([]string{"email", "password"}, oaKey("email", oaEmail()), oaKey("password", oaString())),
		"TokenPair": oaExact(tokenPair...),
		"LoginResponse": oaExact(append(tokenPair[:len(tokenPair):len(tokenPair)],
			oaKey("auth_id", oaAnyAuthID()))...).desc("A JWT pair and the account it belongs to"),
		"Me": oaExact(
			oaKey("type", oaEnum("account")),
			oaKey("role", oaEnum("main", "sub_account")),
			oaKey("id", oaNumericID()),
			oaKey("api_id", oaAPIID()),
			oaKey("auth_id", oaAnyAuthID()),
			oaKey("parent_auth_id", oaMainAuthID().orNull().desc("The main account's auth_id; null for a main account")),
			oaKey("name", oaName()),
			oaKey("email", oaEmail().orNull()),
			oaKey("phone", oaE164().orNull()),
			oaKey("currency", oaCurrency()),
			oaKey("enabled", oaBool()),
			oaKey("is_active", oaBool().desc("enabled, and the main account enabled")),
			oaKey("rate_limit", oaInt().desc("Requests per minute")),
			oaKey("created_at", oaTime()),
			oaKey("updated_at", oaTime()),
			oaKey("last_used", oaTime().orNull()),
		),
		"Rotate": oaInput(nil, oaKey("grace_seconds", oaRange(oaInt(), 0, 604800).with("default", sb.DefaultGraceSeconds).
			desc("Seconds the previous token keeps working; 0 ends it at once"))),
		"Rotation": oaExact(
			oaKey("message", oaEnum("Auth token rotated")),
			oaKey("auth_id", oaAnyAuthID()),
			oaKey("auth_token", oaString().with("pattern", "^[A-Za-z0-9]{40}$").desc("The new token, shown once")),
			oaKey("previous_token_expires_at", oaTime().orNull().desc("End of the grace; null when grace_seconds is 0")),
		),
		"AuthCredentials": oaExact(
			oaKey("auth_id", oaAnyAuthID()),
			oaKey("auth_token", oaString().with("pattern", "^[A-Za-z0-9]{40}$").desc("Shown once")),
		),

		// Sub-accounts (CONTRACT §4).
		"SubAccount": oaExact(
			oaKey("name", oaName()),
			oaKey("email", oaEmail().orNull().desc("Unique across all accounts; required while kyc_mode is customer_use")),
			oaKey("phone", oaE164().orNull()),
			oaKey("description", oaString().with("maxLength", sb.MaxDescriptionLen).orNull()),
			oaKey("permissions", permissions),
			oaKey("rate_limit", oaRange(oaInt(), 1, sb.MaxSubRateLimit).desc("Requests per minute")),
			oaKey("id", oaNumericID()),
			oaKey("parent_account_id", oaNumericID().desc("The parent's numeric id")),
			oaKey("parent_auth_id", oaMainAuthID()),
			oaKey("auth_id", oaSubAuthID()),
			oaKey("auth_token", oaString().desc(`Clear text only in the create response; "<redacted>" everywhere else`)),
			oaKey("api_id", oaAPIID()),
			oaKey("email_verified", oaBool()),
			oaKey("enabled", oaBool()),
			oaKey("created", oaTime().desc("Same value as created_at")),
			oaKey("modified", oaTime().desc("Same value as updated_at")),
			oaKey("is_active", oaBool().desc("Always equal to enabled")),
			oaKey("created_at", oaTime()),
			oaKey("updated_at", oaTime().desc("Last change of any key except last_used")),
			oaKey("last_used", oaTime().orNull().desc("Last request with the sub-account's own credentials (per minute); null if never")),
			oaKey("account", oaString().desc("/v1/Account/{parent auth_id}/")),
			oaKey("resource_uri", oaString().desc("/v1/Account/{parent auth_id}/Subaccount/{auth_id}/")),
			oaKey("kyc_mode", oaKYCMode()),
			oaKey("business_type", oaBusinessType()),
			oaKey("kyc_calls_blocked", oaBool().desc("Derived from the KYC state")),
		).desc("The sub-account object: exactly these 25 keys"),
		"SubAccountCreate": oaInput([]string{"name"},
			oaKey("name", oaName()),
			oaKey("email", oaEmail().orNull().desc("Required when kyc_mode is customer_use")),
			oaKey("phone", oaE164().orNull()),
			oaKey("description", oaString().with("maxLength", sb.MaxDescriptionLen).orNull()),
			oaKey("rate_limit", oaRange(oaInt(), 1, sb.MaxSubRateLimit).with("default", sb.DefaultSubRateLimit)),
			oaKey("permissions", permissionsIn),
			oaKey("password", oaPassword().orNull()),
			oaKey("enabled", oaBool().with("default", true)),
			oaKey("kyc_mode", oaKYCMode().with("default", sb.KYCPersonalUse)),
			oaKey("business_type", oaBusinessType()),
		).desc("null equals omission; unknown and protected keys are ignored"),
		"SubAccountCreated": oaExact(
			oaKey("message", oaEnum("Sub-account created successfully")),
			oaKey("sub_account", oaRef("SubAccount").desc("auth_token is in clear text here, and only here")),
			oaKey("auth_credentials", oaRef("AuthCredentials")),
			oaKey("tokens", oaRef("TokenPair").desc("A JWT pair whose subject is the new sub-account")),
		),
		"SubAccountList": oaExact(
			oaKey("sub_accounts", oaArray(oaRef("SubAccount"))),
			oaKey("total", oaInt().with("minimum", 0).desc("All matches across pages")),
			oaKey("page", oaInt().with("minimum", 1)),
			oaKey("size", oaInt().with("minimum", 1)),
		),
		"SubAccountUpdate": oaInput(nil,
			oaKey("name", oaName()),
			oaKey("email", oaEmail().orNull().desc("null clears it (not while kyc_mode is customer_use)")),
			oaKey("phone", oaE164().orNull()),
			oaKey("description", oaString().with("maxLength", sb.MaxDescriptionLen).orNull()),
			oaKey("rate_limit", oaRange(oaInt(), 1, sb.MaxSubRateLimit)),
			oaKey("permissions", permissionsIn),
			oaKey("enabled", oaBool()),
			oaKey("kyc_mode", oaKYCMode()),
			oaKey("business_type", oaBusinessType()),
			oaKey("password", oaPassword()),
		).desc("Partial: keys not sent stay unchanged; null clears a nullable key and is refused for the others"),
		"SubAccountDelete": oaInput(nil,
			oaKey("cascade", oaBool().with("default", false).desc("Release numbers and delete trunks instead of re-homing them; also true/false/1/0")),
			oaKey("dry_run", oaBool().with("default", false).desc("Answer the plan and change nothing; also true/false/1/0")),
		).desc("Flags may also come from the query string, which wins"),
		"SubAccountDeleted": oaSchema{
			"oneOf":       []oaSchema{oaRef("SubAccountDeleteConfirmation"), oaRef("SubAccountDeletePlan")},
			"description": "The confirmation, or with dry_run the plan",
		},
		"SubAccountDeleteConfirmation": closedMessage("Sub-account deleted successfully"),
		"SubAccountDeletePlan": oaExact(
			oaKey("dry_run", oaSchema{"type": "boolean", "enum": []any{true}}),
			oaKey("sub_account_id", oaSubAuthID()),
			oaKey("cascade", oaBool()),
			oaKey("numbers", oaExact(oaKey("rehomed", oaArray(oaE164())), oaKey("released", oaArray(oaE164())))),
			oaKey("trunks", oaExact(oaKey("rehomed", oaArray(oaString().with("format", "uuid"))), oaKey("deleted", oaArray(oaString().with("format", "uuid"))))),
			oaKey("kyc_sessions_revoked", oaArray(oaString().with("format", "uuid"))),
			oaKey("balance_settlement", oaExact(oaKey("currency", oaCurrency()), oaKey("amount", oaMoney())).orNull().
				desc("Separate-wallet balance settled to the parent; null under shared billing")),
			oaKey("active_calls", oaInt().with("minimum", 0)),
		).desc("What a delete would do; nothing was changed"),

		// Operator API (CONTRACT §3.1).
		"Pricing":      pricing(false),
		"PricingInput": pricing(true),
		"MainAccount": oaExact(
			oaKey("id", oaNumericID()),
			oaKey("api_id", oaAPIID()),
			oaKey("auth_id", oaMainAuthID()),
			oaKey("name", oaName()),
			oaKey("email", oaEmail().orNull()),
			oaKey("phone", oaE164().orNull()),
			oaKey("currency", oaCurrency()),
			oaKey("enabled", oaBool()),
			oaKey("is_active", oaBool()),
			oaKey("rate_limit", oaRange(oaInt(), 1, sb.MaxMainRateLimit).desc("Requests per minute")),
			oaKey("max_sub_accounts", oaInt().with("minimum", 0)),
			oaKey("low_balance_threshold", oaMoney()),
			oaKey("pricing", oaRef("Pricing")),
			oaKey("balance", oaMoney().desc("Main wallet balance")),
			oaKey("sub_account_count", oaInt().with("minimum", 0)),
			oaKey("created_at", oaTime()),
			oaKey("updated_at", oaTime()),
			oaKey("last_used", oaTime().orNull()),
		).desc("The operator's view of a main account"),
		"MainAccountCreate": oaInput([]string{"name"},
			oaKey("name", oaName()),
			oaKey("email", oaEmail().orNull()),
			oaKey("phone", oaE164().orNull()),
			oaKey("currency", oaCurrency().with("default", sb.DefaultCurrency)),
			oaKey("password", oaPassword().orNull()),
			oaKey("enabled", oaBool().with("default", true)),
			oaKey("rate_limit", oaRange(oaInt(), 1, sb.MaxMainRateLimit).with("default", sb.DefaultMainRateLimit)),
			oaKey("max_sub_accounts", oaInt().with("minimum", 0, "default", sb.DefaultMaxSubAccounts)),
			oaKey("low_balance_threshold", oaMoney().with("default", 0)),
			oaKey("pricing", oaRef("PricingInput")),
		),
		"MainAccountCreated": oaExact(
			oaKey("account", oaRef("MainAccount")),
			oaKey("auth_credentials", oaRef("AuthCredentials")),
			oaKey("webhook_secret", oaString().with("pattern", "^whsec_[A-Za-z0-9]{40}$").desc("Webhook signing secret, shown once")),
		),
		"MainAccountList": oaExact(
			oaKey("accounts", oaArray(oaRef("MainAccount"))),
			oaKey("total", oaInt().with("minimum", 0)),
			oaKey("page", oaInt().with("minimum", 1)),
			oaKey("size", oaInt().with("minimum", 1)),
		),
		"MainAccountUpdate": oaInput(nil,
			oaKey("name", oaName()),
			oaKey("email", oaEmail().orNull()),
			oaKey("phone", oaE164().orNull()),
			oaKey("password", oaPassword()),
			oaKey("enabled", oaBool().desc("false disables the account and all its sub-accounts")),
			oaKey("rate_limit", oaRange(oaInt(), 1, sb.MaxMainRateLimit)),
			oaKey("max_sub_accounts", oaInt().with("minimum", 0)),
			oaKey("low_balance_threshold", oaMoney()),
			oaKey("pricing", oaRef("PricingInput")),
		).desc("Partial: keys not sent stay unchanged"),

		// Audit log and webhooks (CONTRACT §10).
		"AuditRecord": oaExact(
			oaKey("id", oaNumericID().desc("Decimal string sequence")),
			oaKey("occurred_at", oaTime()),
			oaKey("request_id", oaString().orNull()),
			oaKey("actor_type", oaEnum("admin", "account", "cli", "system")),
			oaKey("actor_id", oaString().desc("auth_id of the acting account, or the operator")),
			oaKey("actor_role", oaString().orNull()),
			oaKey("tenant_id", oaMainAuthID().orNull().desc("The tenant's main account auth_id; null for operator-only actions")),
			oaKey("action", oaString().desc("<resource>.<verb>, e.g. subaccount.update")),
			oaKey("target_type", oaString().orNull()),
			oaKey("target_id", oaString().orNull()),
			oaKey("outcome", oaEnum(sb.OutcomeSuccess, sb.OutcomeDenied, sb.OutcomeFailed)),
			oaKey("status_code", oaInt()),
			oaKey("source_ip", oaString().orNull()),
			oaKey("changes", oaSchema{"type": []string{"object", "null"},
				"additionalProperties": oaExact(oaKey("before", oaSchema{}), oaKey("after", oaSchema{})),
				"description":          "Changed keys with their before and after values; secrets never appear"}),
			oaKey("reason", oaString().orNull()),
			oaKey("prev_hash", oaString().with("pattern", "^[0-9a-f]{64}$")),
			oaKey("hash", oaString().with("pattern", "^[0-9a-f]{64}$").desc("hex SHA-256(prev_hash ‖ canonical JSON of the record without hash)")),
		).desc("One append-only, hash-chained audit record"),
		"AuditPage": oaExact(
			oaKey("events", oaArray(oaRef("AuditRecord"))),
			oaKey("next_cursor", oaString().orNull().desc("Pass as cursor for the next page; null on the last page")),
		),
		"AuditVerification": oaExact(
			oaKey("valid", oaBool()),
			oaKey("rows", oaInt().with("minimum", 0)),
			oaKey("first_bad_id", oaNumericID().orNull().desc("The first record whose hash does not verify; null when valid")),
		),
		"Webhook": oaExact(
			oaKey("url", oaString().with("format", "uri").orNull().desc("null when no endpoint is set")),
			oaKey("events", oaArray(oaString()).desc(`Event names, or ["*"] for all`)),
			oaKey("secret_hint", oaString().desc("whsec_… and the secret's last four characters")),
		).desc("The account's one webhook endpoint"),
		"WebhookUpdate": oaInput(nil,
			oaKey("url", oaString().with("format", "uri").orNull().desc("null removes the endpoint")),
			oaKey("events", oaArray(oaString()).desc(`Event names, or ["*"] for all`)),
		),
		"WebhookSecret": oaExact(
			oaKey("webhook_secret", oaString().with("pattern", "^whsec_[A-Za-z0-9]{40}$").desc("Shown once; the old secret stops signing at once")),
		),
		"Delivery": oaExact(
			oaKey("id", oaString().with("pattern", "^dlv_").desc("dlv_ + UUID")),
			oaKey("event_id", oaString().with("pattern", "^evt_").desc("evt_ + UUID; receivers deduplicate on it")),
			oaKey("event", oaString()),
			oaKey("url", oaString()),
			oaKey("status", oaEnum(sb.DeliveryPending, sb.DeliverySucceeded, sb.DeliveryFailed)),
			oaKey("attempts", oaArray(oaExact(
				oaKey("at", oaTime()),
				oaKey("status_code", oaInt().orNull().desc("null when no HTTP answer arrived")),
				oaKey("error", oaString().orNull()),
				oaKey("duration_ms", oaInt().with("minimum", 0)),
			))),
			oaKey("next_attempt_at", oaTime().orNull()),
			oaKey("created_at", oaTime()),
			oaKey("updated_at", oaTime()),
		).desc("One event on its way to the webhook URL"),
		"DeliveryList": oaExact(
			oaKey("deliveries", oaArray(oaRef("Delivery"))),
			oaKey("total", oaInt().with("minimum", 0)),
			oaKey("page", oaInt().with("minimum", 1)),
			oaKey("size", oaInt().with("minimum", 1)),
		),

		// Dev helpers (CONTRACT §3.5).
		"DevReset": oaInput(nil, oaKey("bootstrap", oaBool().with("default", true).desc("Create a fresh main account after the reset"))),
		"DevResetResult": oaExact(
			oaKey("message", oaEnum("reset")),
			oaKey("bootstrap", oaExact(
				oaKey("auth_id", oaMainAuthID()),
				oaKey("auth_token", oaString().with("pattern", "^[A-Za-z0-9]{40}$")),
				oaKey("webhook_secret", oaString().with("pattern", "^whsec_[A-Za-z0-9]{40}$")),
			).orNull().desc("The bootstrapped main account; null when bootstrap was false")),
		),
		"Clock": oaExact(
			oaKey("now", oaTime()),
			oaKey("offset_seconds", oaInt().desc("How far the dev clock runs ahead of real time")),
		),
		"ClockAdvance": oaInput([]string{"seconds"}, oaKey("seconds", oaRange(oaInt(), 1, 31_536_000))),
	}
}

// errorCodes lists every code the server writes, sorted.
func errorCodes() []string {
	codes := make([]string, 0, len(statusOf))
	for c := range statusOf {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	return codes
}

// Document structure. Structs fix the key order of the top levels; maps
// are encoded with sorted keys.

type openAPIDoc struct {
	OpenAPI    string                             `json:"openapi"`
	Info       openAPIInfo                        `json:"info"`
	Servers    []openAPIServer                    `json:"servers"`
	Tags       []openAPITag                       `json:"tags"`
	Paths      map[string]map[string]*oaOperation `json:"paths"`
	Components oaComponents                       `json:"components"`
}

type openAPIInfo struct {
	Title       string `json:"title"`
	Version     string `json:"version"`
	Description string `json:"description"`
}

type openAPIServer struct {
	URL string `json:"url"`
}

type openAPITag struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

type oaOperation struct {
	OperationID string                 `json:"operationId"`
	Summary     string                 `json:"summary"`
	Description string                 `json:"description,omitempty"`
	Tags        []string               `json:"tags"`
	Security    []map[string][]string  `json:"security"`
	Parameters  []*oaParameter         `json:"parameters,omitempty"`
	RequestBody *oaRequestBody         `json:"requestBody,omitempty"`
	Responses   map[string]*oaResponse `json:"responses"`
}

// parameter is a Parameter Object, or a reference to one when Ref is set.
type oaParameter struct {
	Ref         string   `json:"$ref,omitempty"`
	Name        string   `json:"name,omitempty"`
	In          string   `json:"in,omitempty"`
	Description string   `json:"description,omitempty"`
	Required    bool     `json:"required,omitempty"`
	Schema      oaSchema `json:"schema,omitempty"`
}

type oaRequestBody struct {
	Required bool                   `json:"required"`
	Content  map[string]oaMediaType `json:"content"`
}

type oaMediaType struct {
	Schema oaSchema `json:"schema"`
}

// response is a Response Object, or a reference to one when Ref is set.
type oaResponse struct {
	Ref         string                 `json:"$ref,omitempty"`
	Description string                 `json:"description,omitempty"`
	Headers     map[string]*oaHeader   `json:"headers,omitempty"`
	Content     map[string]oaMediaType `json:"content,omitempty"`
}

// header is a Header Object, or a reference to one when Ref is set.
type oaHeader struct {
	Ref         string   `json:"$ref,omitempty"`
	Description string   `json:"description,omitempty"`
	Schema      oaSchema `json:"schema,omitempty"`
}

type oaSecurityScheme struct {
	Type         string `json:"type"`
	Description  string `json:"description,omitempty"`
	Name         string `json:"name,omitempty"`
	In           string `json:"in,omitempty"`
	Scheme       string `json:"scheme,omitempty"`
	BearerFormat string `json:"bearerFormat,omitempty"`
}

type oaComponents struct {
	Schemas         map[string]oaSchema         `json:"schemas"`
	Responses       map[string]*oaResponse      `json:"responses"`
	Parameters      map[string]*oaParameter     `json:"parameters"`
	Headers         map[string]*oaHeader        `json:"headers"`
	SecuritySchemes map[string]oaSecurityScheme `json:"securitySchemes"`
}

const apiDescription = `switchboard is a self-hosted, multi-tenant sub-account platform for voice providers. ` +
	`Its /api/v1 surface is wire-compatible with the Vobiz Sub-Accounts API: the same paths, JSON keys and status codes. ` +
	`It adds an operator API (/api/v1/admin, bearer operator token), operations endpoints and dev-mode helpers.

Credentials, in precedence order: X-Auth-ID with X-Auth-Token; HTTP Basic (auth_id:auth_token); a Bearer JWT access token. ` +
	`A failing scheme never falls back to a lower one, and tokens are never accepted in query strings.

switchboard choices beyond the compatibility target: PATCH is accepted wherever PUT is, with identical semantics ` +
	`(documented as its own operation), and HEAD wherever GET is; OPTIONS answers 204 with Allow and needs no credentials; ` +
	`any other method on a documented path answers 405 method_not_allowed with Allow. Trailing slashes are optional and never ` +
	`redirected, repeated slashes collapse, and the resource family segment after /api/v1/ is matched case-insensitively.

Request bodies are JSON objects (no Content-Type, application/json or any */*+json; otherwise 415) of at most 1 MiB; ` +
	`unknown and protected keys are ignored; an empty body is {}. Times are UTC with six fraction digits and Z; money is a ` +
	`JSON number with at most six fraction digits. Every error has one body: api_id, error (a stable code), message, and ` +
	`details for validation_error.

Every response carries X-Request-Id. Responses to requests authenticated as an account carry X-RateLimit-Limit, ` +
	`X-RateLimit-Remaining and X-RateLimit-Reset. Sub-account items carry a strong ETag and honour If-Match. POST, PUT, ` +
	`PATCH and DELETE by an authenticated principal accept an Idempotency-Key; a replay answers the stored outcome with ` +
	`Idempotent-Replayed: true.`

// tagOrder lists the known tags in document order, with descriptions.
var tagOrder = []openAPITag{
	{"ops", "Operations endpoints outside /api/v1 (CONTRACT §11)"},
	{"auth", "Login, JWT refresh, the calling account and token rotation (CONTRACT §1)"},
	{"sub-accounts", "Sub-accounts of the calling main account (CONTRACT §4)"},
	{"audit", "The tenant's audit log (CONTRACT §10.1)"},
	{"webhooks", "The account's webhook endpoint and delivery log (CONTRACT §10.2)"},
	{"admin", "Operator API, bearer operator token (CONTRACT §3)"},
	{"dev", "Dev-mode helpers; 404 outside dev mode (CONTRACT §3.5)"},
}

// routeTag is the document tag of a route, by area.
func routeTag(r *Route) string {
	switch {
	case r.Role == RoleDev:
		return "dev"
	case r.Role == RoleAdmin:
		return "admin"
	case !strings.HasPrefix(r.Path, "/api/"):
		return "ops"
	case strings.HasPrefix(r.Path, "/api/v1/auth"):
		return "auth"
	case strings.Contains(r.Path, "/kyc"):
		return "kyc"
	case strings.Contains(r.Path, "/audit-log"):
		return "audit"
	case strings.Contains(r.Path, "/webhook"):
		return "webhooks"
	case strings.Contains(r.Path, "/sub-accounts"):
		return "sub-accounts"
	}
	if segs := splitPath(r.Path); len(segs) > familySegment {
		return strings.ToLower(segs[familySegment])
	}
	return "other"
}

// Security scheme names.
const (
	secAuthID     = "xAuthId"
	secAuthToken  = "xAuthToken"
	secBasic      = "basic"
	secBearerJWT  = "bearerJWT"
	secAdminToken = "adminToken"
)

func securitySchemes() map[string]oaSecurityScheme {
	return map[string]oaSecurityScheme{
		secAuthID: {Type: "apiKey", In: "header", Name: "X-Auth-ID",
			Description: "The account's auth_id; always sent together with X-Auth-Token (one without the other is 401). Takes precedence over Authorization."},
		secAuthToken: {Type: "apiKey", In: "header", Name: "X-Auth-Token",
			Description: "The account's 40-character auth_token; always sent together with X-Auth-ID."},
		secBasic: {Type: "http", Scheme: "basic",
			Description: "Authorization: Basic base64(auth_id:auth_token)."},
		secBearerJWT: {Type: "http", Scheme: "bearer", BearerFormat: "JWT",
			Description: "HS256 JWT from login, refresh or sub-account creation. Access tokens on API routes; the refresh token only on /api/v1/auth/refresh."},
		secAdminToken: {Type: "http", Scheme: "bearer",
			Description: "Authorization: Bearer <SWITCHBOARD_ADMIN_TOKEN>, the operator token. Accepted only on /api/v1/admin/… and /metrics; without the variable those routes answer 404."},
	}
}

// routeSecurity is the security requirement of a role (CONTRACT §1.5):
// alternatives in a list, schemes used together in one map.
func routeSecurity(role Role) ([]map[string][]string, error) {
	switch {
	case role == RolePublic:
		return []map[string][]string{}, nil
	case role == RoleAdmin || role == RoleDev || role == RoleMetrics:
		return []map[string][]string{{secAdminToken: {}}}, nil
	case role == RoleRefresh:
		return []map[string][]string{{secBearerJWT: {}}}, nil
	case role.accountRole():
		return []map[string][]string{{secAuthID: {}, secAuthToken: {}}, {secBasic: {}}, {secBearerJWT: {}}}, nil
	}
	return nil, fmt.Errorf("openapi: no security mapping for role %q; add one in openapi.go", role)
}

func roleDescription(role Role) string {
	switch role {
	case RolePublic:
		return "Public: no credentials."
	case RoleAdmin:
		return "Operator token."
	case RoleDev:
		return "Operator token, dev mode only (404 otherwise)."
	case RoleMetrics:
		return "Operator token on the main listener; without auth on SWITCHBOARD_METRICS_ADDR, and then 404 here."
	case RoleAny:
		return "Any enabled account (main or sub-account)."
	case RoleMainSelf:
		return "A main account acting on itself; sub-account credentials get 403 forbidden."
	case RoleParent:
		return "The main account whose auth_id is in the path, acting on its own sub-accounts; sub-account credentials get 403 forbidden, another auth_id 404."
	case RoleRefresh:
		return "A refresh JWT as Authorization: Bearer; single use."
	}
	return "Role " + string(role) + "."
}

// Handler facts the route table does not carry: which success headers a
// handler sets, and the media type of non-JSON bodies. Keys are
// operationIds; TestOpenAPIHandlerFactsNameRoutes fails when a key names
// no route, so a rename cannot silently drop a header.
var (
	successHeaders = map[string][]string{
		"createSubAccount":   {"Location", "ETag"},
		"getSubAccount":      {"ETag"},
		"updateSubAccount":   {"ETag"},
		"adminCreateAccount": {"Location"},
	}
	textMedia = map[string]string{
		"metrics": "text/plain",
		"docs":    "text/html",
	}
)

// Reusable headers, parameters and error responses.

func componentHeaders() map[string]*oaHeader {
	h := func(d string, s oaSchema) *oaHeader { return &oaHeader{Description: d, Schema: s} }
	return map[string]*oaHeader{
		"X-Request-Id":          h("The client's X-Request-Id if it matches [A-Za-z0-9._-]{1,128}, otherwise a fresh UUID", oaString()),
		"X-RateLimit-Limit":     h("The account's rate_limit (requests per minute)", oaInt()),
		"X-RateLimit-Remaining": h("Whole tokens left in the bucket after this request", oaInt()),
		"X-RateLimit-Reset":     h("Seconds (rounded up) until the bucket is full again", oaInt()),
		"ETag":                  h(`Strong version tag, "v<version>"; send it back in If-Match`, oaString().with("pattern", `^"v[0-9]+"$`)),
		"Location":              h("Path of the created object", oaString()),
		"Retry-After":           h("Seconds to wait before retrying", oaInt().with("minimum", 1)),
		"Allow":                 h("The methods this path serves", oaString()),
		"Idempotent-Replayed":   h("true when this is the stored answer to an earlier request with the same Idempotency-Key", oaEnum("true")),
	}
}

func headerRef(name string) *oaHeader { return &oaHeader{Ref: headerRefPrefix + name} }

const (
	paramIdempotencyKey = "IdempotencyKey"
	paramIfMatch        = "IfMatch"
)

func componentParameters() map[string]*oaParameter {
	return map[string]*oaParameter{
		paramIdempotencyKey: {Name: "Idempotency-Key", In: "header",
			Description: "1–255 printable ASCII characters, scoped to the principal and kept 24 h. The same key with the same request replays the stored answer; with a different request → 422 idempotency_key_reused; while the first is still running → 409 idempotency_in_progress.",
			Schema:      oaString().with("minLength", 1, "maxLength", 255, "pattern", "^[\\x20-\\x7E]+$")},
		paramIfMatch: {Name: "If-Match", In: "header",
			Description: "The current ETag or *; anything else → 412 precondition_failed. Without it the request proceeds.",
			Schema:      oaString()},
	}
}

// errorResponses names the shared response of each error status.
var errorResponses = map[int]string{
	http.StatusBadRequest:            "BadRequest",
	http.StatusUnauthorized:          "Unauthorized",
	http.StatusForbidden:             "Forbidden",
	http.StatusNotFound:              "NotFound",
	http.StatusMethodNotAllowed:      "MethodNotAllowed",
	http.StatusConflict:              "Conflict",
	http.StatusPreconditionFailed:    "PreconditionFailed",
	http.StatusRequestEntityTooLarge: "PayloadTooLarge",
	http.StatusUnsupportedMediaType:  "UnsupportedMediaType",
	http.StatusUnprocessableEntity:   "IdempotencyKeyReused",
	http.StatusTooManyRequests:       "TooManyRequests",
	http.StatusInternalServerError:   "InternalError",
	http.StatusServiceUnavailable:    "ServiceUnavailable",
}

func componentResponses() map[string]*oaResponse {
	byStatus := map[int][]string{}
	for _, c := range errorCodes() {
		byStatus[statusOf[c]] = append(byStatus[statusOf[c]], c)
	}
	out := map[string]*oaResponse{}
	for status, name := range errorResponses {
		d := http.StatusText(status)
		if codes := byStatus[status]; len(codes) > 0 {
			d += ": " + strings.Join(codes, ", ")
		}
		hs := map[string]*oaHeader{"X-Request-Id": headerRef("X-Request-Id")}
		switch status {
		case http.StatusMethodNotAllowed:
			hs["Allow"] = headerRef("Allow")
		case http.StatusConflict:
			d += " (idempotency_in_progress carries Retry-After: 1)"
			hs["Retry-After"] = headerRef("Retry-After")
		case http.StatusTooManyRequests, http.StatusServiceUnavailable:
			hs["Retry-After"] = headerRef("Retry-After")
		}
		out[name] = &oaResponse{Description: d, Headers: hs,
			Content: map[string]oaMediaType{"application/json": {Schema: oaRef("Error")}}}
	}
	return out
}

// pathParameter documents a {name} segment.
func pathParameter(name string) *oaParameter {
	pp := &oaParameter{Name: name, In: "path", Required: true, Schema: oaString()}
	switch name {
	case "auth_id":
		pp.Schema = oaString().with("pattern", "^MA_[A-Z0-9]{8}$")
		pp.Description = "Main account auth_id: MA_ followed by 8 characters [A-Z0-9]. Case-sensitive."
	case "sub_auth_id":
		pp.Schema = oaString().with("pattern", "^SA_[A-Z0-9]{8}$")
		pp.Description = "Sub-account auth_id: SA_ followed by 8 characters [A-Z0-9]; never the numeric id (that answers 404)."
	case "delivery_id":
		pp.Schema = oaString().with("pattern", "^dlv_")
		pp.Description = "A webhook delivery id: dlv_ + UUID."
	default:
		pp.Description = "Path parameter " + name + "."
	}
	return pp
}

// pageLimits are the default and maximum page size of each list
// (size or limit); a list without an entry is documented without them.
var pageLimits = map[string][2]int{
	"listSubAccounts":       {25, 100},
	"adminListAccounts":     {25, 100},
	"listWebhookDeliveries": {20, 100},
	"listAuditLog":          {app.DefaultAuditLimit, app.MaxAuditLimit},
	"adminListAuditLog":     {app.DefaultAuditLimit, app.MaxAuditLimit},
}

// queryParameter documents a query parameter of a route by its name.
func queryParameter(r *Route, name string) *oaParameter {
	qp := &oaParameter{Name: name, In: "query", Schema: oaString()}
	boolean := oaBool().with("default", false)
	pageSize := func(what string) {
		qp.Schema = oaInt().with("minimum", 1)
		qp.Description = what + "; below 1 → 400; above the list's maximum it is clamped."
		if lim, ok := pageLimits[r.Name]; ok {
			qp.Schema = qp.Schema.with("default", lim[0])
			qp.Description = fmt.Sprintf("%s; below 1 → 400; above %d it is clamped to %d.", what, lim[1], lim[1])
		}
	}
	switch name {
	case "page":
		qp.Schema, qp.Description = oaInt().with("minimum", 1, "default", 1), "1-based page number; below 1 → 400."
	case "size":
		pageSize("Page size")
	case "limit":
		if slices.Contains(r.Doc.Query, "offset") {
			pageSize("Items [offset, offset+limit), used when limit or offset is present and neither page nor size is")
		} else {
			pageSize("Items per page")
		}
	case "offset":
		qp.Schema, qp.Description = oaInt().with("minimum", 0, "default", 0), "Items to skip (with limit); negative → 400."
	case "active_only":
		qp.Schema, qp.Description = boolean, "true lists only enabled sub-accounts. Accepts true/false/1/0."
	case "enabled":
		qp.Schema, qp.Description = oaBool(), "Only accounts with this enabled flag. Accepts true/false/1/0."
	case "cascade":
		qp.Schema, qp.Description = boolean, "Release numbers and delete trunks instead of re-homing them. Accepts true/false/1/0; wins over the body."
	case "dry_run":
		qp.Schema, qp.Description = boolean, "Answer the plan and change nothing. Accepts true/false/1/0; wins over the body."
	case "search":
		qp.Description = "Case-insensitive substring of name or email."
	case "kyc_mode":
		qp.Schema, qp.Description = oaKYCMode(), "Exact kyc_mode."
	case "from", "to":
		qp.Schema, qp.Description = oaString().with("format", "date-time"), "RFC 3339 time, any offset; "+map[string]string{"from": "records at or after it", "to": "records at or before it"}[name]+"."
	case "action":
		qp.Description = "An action name, exact, or a prefix ending in '.' (e.g. subaccount.)."
	case "outcome":
		qp.Schema, qp.Description = oaEnum(sb.OutcomeSuccess, sb.OutcomeDenied, sb.OutcomeFailed), "Only records with this outcome."
	case "actor_id", "target_id", "tenant_id":
		qp.Description = "Only records with this " + name + " (exact)."
	case "cursor":
		qp.Description = "The next_cursor of the previous page (opaque)."
	case "status":
		if r.Doc.Response == "DeliveryList" {
			qp.Schema = oaEnum(sb.DeliveryPending, sb.DeliverySucceeded, sb.DeliveryFailed)
		}
		qp.Description = "Only items with this status."
	case "event", "event_id":
		qp.Description = "Only items with this " + name + " (exact)."
	default:
		qp.Description = "Query parameter " + name + "."
	}
	return qp
}

// pathParams lists the {name} segments of a path in order.
func pathParams(path string) []string {
	var names []string
	for _, seg := range splitPath(path) {
		if isParam(seg) {
			names = append(names, seg[1:len(seg)-1])
		}
	}
	return names
}

// buildOpenAPI generates the document; it panics when the route table
// names a schema that is not defined, so the server refuses to start with
// a route that is not documented.
func buildOpenAPI(routes []*Route, version string) []byte {
	b, err := generateOpenAPI(routes, version)
	if err != nil {
		panic(err)
	}
	return b
}

// generateOpenAPI builds the document or reports why the route table
// cannot be documented.
func generateOpenAPI(routes []*Route, version string) ([]byte, error) {
	doc := openAPIDoc{
		OpenAPI: "3.1.0",
		Info:    openAPIInfo{Title: "switchboard", Version: version, Description: apiDescription},
		Servers: []openAPIServer{{URL: "/"}},
		Paths:   map[string]map[string]*oaOperation{},
		Components: oaComponents{
			Schemas:         componentSchemas(),
			Responses:       componentResponses(),
			Parameters:      componentParameters(),
			Headers:         componentHeaders(),
			SecuritySchemes: securitySchemes(),
		},
	}
	if doc.Info.Version == "" {
		doc.Info.Version = "dev"
	}

	byName := map[string]*Route{}
	etagOnGet := map[string]bool{} // paths whose GET sets ETag
	for _, r := range routes {
		if r.Name == "" {
			return nil, fmt.Errorf("openapi: route %s %s has no Name (operationId)", r.Method, r.Path)
		}
		if prev := byName[r.Name]; prev != nil {
			return nil, fmt.Errorf("openapi: operationId %q used by %s %s and %s %s", r.Name, prev.Method, prev.Path, r.Method, r.Path)
		}
		byName[r.Name] = r
		if r.Method == http.MethodGet && slices.Contains(successHeaders[r.Name], "ETag") {
			etagOnGet[r.Path] = true
		}
	}
	usedTags := map[string]bool{}
	for _, r := range routes {
		for _, name := range []string{r.Doc.Request, r.Doc.Response} {
			if name != "" && doc.Components.Schemas[name] == nil {
				return nil, fmt.Errorf("openapi: route %s %s (%s) names schema %q, which is not defined in openapi.go", r.Method, r.Path, r.Name, name)
			}
		}
		op, err := buildOperation(r, doc.Components.Schemas, etagOnGet[r.Path])
		if err != nil {
			return nil, err
		}
		item := doc.Paths[r.Path]
		if item == nil {
			item = map[string]*oaOperation{}
			doc.Paths[r.Path] = item
		}
		method := strings.ToLower(r.Method)
		if item[method] != nil {
			return nil, fmt.Errorf("openapi: duplicate route %s %s", r.Method, r.Path)
		}
		item[method] = op
		usedTags[op.Tags[0]] = true
		if r.Method == http.MethodPut {
			// The router serves PATCH wherever PUT is (CONTRACT §0.1).
			patch := *op
			patch.OperationID = r.Name + "Patch"
			patch.Description = strings.TrimSpace("Same as PUT " + r.Path + ": PATCH is accepted wherever PUT is, with identical semantics (switchboard choice). " + op.Description)
			if item["patch"] != nil || byName[patch.OperationID] != nil {
				return nil, fmt.Errorf("openapi: PATCH twin of %s collides with a route", r.Name)
			}
			item["patch"] = &patch
		}
	}

	for _, t := range tagOrder {
		if usedTags[t.Name] {
			doc.Tags = append(doc.Tags, t)
			delete(usedTags, t.Name)
		}
	}
	var extra []string
	for t := range usedTags {
		extra = append(extra, t)
	}
	sort.Strings(extra)
	for _, t := range extra {
		doc.Tags = append(doc.Tags, openAPITag{Name: t})
	}

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("openapi: encode: %w", err)
	}
	if err := checkOpenAPIRefs(buf.Bytes()); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// buildOperation documents one route. etag reports that the GET on the
// same path sets ETag, so PUT and DELETE there honour If-Match.
func buildOperation(r *Route, schemas map[string]oaSchema, etag bool) (*oaOperation, error) {
	security, err := routeSecurity(r.Role)
	if err != nil {
		return nil, err
	}
	if r.Doc.Status < 100 || r.Doc.Status > 299 {
		return nil, fmt.Errorf("openapi: route %s %s has success status %d", r.Method, r.Path, r.Doc.Status)
	}
	op := &oaOperation{
		OperationID: r.Name,
		Summary:     r.Summary,
		Description: roleDescription(r.Role),
		Tags:        []string{routeTag(r)},
		Security:    security,
		Responses:   map[string]*oaResponse{},
	}
	for _, name := range pathParams(r.Path) {
		op.Parameters = append(op.Parameters, pathParameter(name))
	}
	for _, name := range r.Doc.Query {
		op.Parameters = append(op.Parameters, queryParameter(r, name))
	}
	mutating := r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodDelete
	idempotent := mutating && r.Role != RolePublic && r.Role != RoleRefresh
	ifMatch := etag && (r.Method == http.MethodPut || r.Method == http.MethodDelete)
	if idempotent {
		op.Parameters = append(op.Parameters, &oaParameter{Ref: parameterRefPrefix + paramIdempotencyKey})
	}
	if ifMatch {
		op.Parameters = append(op.Parameters, &oaParameter{Ref: parameterRefPrefix + paramIfMatch})
	}

	if r.Doc.Request != "" {
		_, hasRequired := schemas[r.Doc.Request]["required"]
		op.RequestBody = &oaRequestBody{Required: hasRequired,
			Content: map[string]oaMediaType{"application/json": {Schema: oaRef(r.Doc.Request)}}}
	}

	// The success response.
	ok := &oaResponse{Description: http.StatusText(r.Doc.Status),
		Headers: map[string]*oaHeader{"X-Request-Id": headerRef("X-Request-Id")}}
	switch {
	case r.Doc.Text:
		media, found := textMedia[r.Name]
		if !found {
			return nil, fmt.Errorf("openapi: text route %s has no media type in textMedia", r.Name)
		}
		ok.Content = map[string]oaMediaType{media: {Schema: oaString()}}
	case r.Doc.Response != "":
		ok.Content = map[string]oaMediaType{"application/json": {Schema: oaRef(r.Doc.Response)}}
	case r.Doc.Status != http.StatusNoContent:
		ok.Content = map[string]oaMediaType{"application/json": {Schema: oaSchema{"type": "object", "description": "A JSON object (for /openapi.json: an OpenAPI 3.1 document)"}}}
	}
	for _, h := range successHeaders[r.Name] {
		ok.Headers[h] = headerRef(h)
	}
	account := r.Role.accountRole()
	if account {
		for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
			ok.Headers[h] = headerRef(h)
		}
	}
	if idempotent {
		ok.Headers["Idempotent-Replayed"] = headerRef("Idempotent-Replayed")
	}
	op.Responses[strconv.Itoa(r.Doc.Status)] = ok

	// The error responses this route can produce.
	api := strings.HasPrefix(r.Path, "/api/")
	login := r.Role == RolePublic && r.Doc.Request == "Login"
	credentialed := r.Role != RolePublic || login
	statuses := map[int]bool{
		http.StatusBadRequest:            r.Doc.Request != "" || len(r.Doc.Query) > 0 || idempotent,
		http.StatusUnauthorized:          credentialed,
		http.StatusForbidden:             account || r.Role == RoleRefresh || login,
		http.StatusNotFound:              len(pathParams(r.Path)) > 0 || r.Role == RoleAdmin || r.Role == RoleDev || r.Role == RoleMetrics,
		http.StatusConflict:              idempotent,
		http.StatusPreconditionFailed:    ifMatch,
		http.StatusRequestEntityTooLarge: r.Doc.Request != "" || idempotent,
		http.StatusUnsupportedMediaType:  r.Doc.Request != "" || idempotent,
		http.StatusUnprocessableEntity:   idempotent,
		http.StatusTooManyRequests:       credentialed,
		http.StatusInternalServerError:   api,
		http.StatusServiceUnavailable:    api,
	}
	for status, on := range statuses {
		if on {
			op.Responses[strconv.Itoa(status)] = &oaResponse{Ref: responseRefPrefix + errorResponses[status]}
		}
	}
	if r.Doc.Response == "Readiness" {
		op.Responses["503"] = &oaResponse{Description: "Not ready: the database does not answer within 1 s, migrations are pending, or the server is shutting down",
			Headers: map[string]*oaHeader{"X-Request-Id": headerRef("X-Request-Id"), "Retry-After": headerRef("Retry-After")},
			Content: map[string]oaMediaType{"application/json": {Schema: oaRef("NotReady")}}}
	}
	return op, nil
}

// checkRefs reports any "$ref" in the document that does not resolve.
func checkOpenAPIRefs(doc []byte) error {
	var root map[string]any
	if err := json.Unmarshal(doc, &root); err != nil {
		return fmt.Errorf("openapi: %w", err)
	}
	var bad []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if s, ok := x["$ref"].(string); ok && resolvePointer(root, s) == nil {
				bad = append(bad, s)
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(root)
	if len(bad) > 0 {
		sort.Strings(bad)
		return fmt.Errorf("openapi: unresolved $ref: %s", strings.Join(bad, ", "))
	}
	return nil
}

// resolvePointer follows a local JSON pointer ("#/a/b"); nil if absent.
func resolvePointer(root map[string]any, ptr string) any {
	rest, ok := strings.CutPrefix(ptr, "#/")
	if !ok {
		return nil
	}
	var cur any = root
	for _, tok := range strings.Split(rest, "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		if cur, ok = m[tok]; !ok {
			return nil
		}
	}
	return cur
}

// OpenAPIDocument returns the document that GET /openapi.json serves.
func OpenAPIDocument(version string) []byte {
	return buildOpenAPI((&Server{}).routeTable(), version)
}
