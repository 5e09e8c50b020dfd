package main

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"
)

// config is the environment of CONTRACT §2.4, validated.
type config struct {
	Addr          string
	DB            string
	Dev           bool
	AdminToken    string
	SecretKey     string
	PublicURL     string
	MetricsAddr   string
	LogLevel      slog.Level
	LogFormat     string
	AllowInsecure bool
	KYCTestMode   bool
}

// usageError is a usage or validation failure: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// parseBool accepts 1/true/yes and 0/false/no, case-insensitive.
func parseBool(name, v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "0", "false", "no":
		return false, nil
	case "1", "true", "yes":
		return true, nil
	}
	return false, usagef("%s: invalid boolean %q (use 1/true/yes or 0/false/no)", name, v)
}

// loadConfig reads SWITCHBOARD_* variables. Flags are applied afterwards by
// the caller (flags win over the environment).
func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		Addr:        getenv("SWITCHBOARD_ADDR"),
		DB:          getenv("SWITCHBOARD_DB"),
		AdminToken:  getenv("SWITCHBOARD_ADMIN_TOKEN"),
		SecretKey:   strings.TrimSpace(getenv("SWITCHBOARD_SECRET_KEY")),
		PublicURL:   strings.TrimRight(getenv("SWITCHBOARD_PUBLIC_URL"), "/"),
		MetricsAddr: getenv("SWITCHBOARD_METRICS_ADDR"),
		LogFormat:   strings.ToLower(getenv("SWITCHBOARD_LOG_FORMAT")),
	}
	if c.Addr == "" {
		c.Addr = "127.0.0.1:8080"
	}
	if c.DB == "" {
		c.DB = "./switchboard.db"
	}
	var err error
	if c.Dev, err = parseBool("SWITCHBOARD_DEV", getenv("SWITCHBOARD_DEV")); err != nil {
		return c, err
	}
	if c.AllowInsecure, err = parseBool("SWITCHBOARD_WEBHOOK_ALLOW_INSECURE", getenv("SWITCHBOARD_WEBHOOK_ALLOW_INSECURE")); err != nil {
		return c, err
	}
	if c.KYCTestMode, err = parseBool("SWITCHBOARD_KYC_TEST_MODE", getenv("SWITCHBOARD_KYC_TEST_MODE")); err != nil {
		return c, err
	}
	if c.SecretKey != "" && len(c.SecretKey) != 64 {
		return c, usagef("SWITCHBOARD_SECRET_KEY must be 64 hex characters")
	}
	switch lv := strings.ToLower(getenv("SWITCHBOARD_LOG_LEVEL")); lv {
	case "", "info":
		c.LogLevel = slog.LevelInfo
	case "debug":
		c.LogLevel = slog.LevelDebug
	case "warn":
		c.LogLevel = slog.LevelWarn
	case "error":
		c.LogLevel = slog.LevelError
	default:
		return c, usagef("SWITCHBOARD_LOG_LEVEL: invalid level %q (debug, info, warn, error)", lv)
	}
	switch c.LogFormat {
	case "":
		c.LogFormat = "json"
	case "json", "text":
	default:
		return c, usagef("SWITCHBOARD_LOG_FORMAT: invalid format %q (json or text)", c.LogFormat)
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c, usagef("SWITCHBOARD_PUBLIC_URL: must be an absolute http(s) URL")
		}
	}
	return c, nil
}

// redactDSN hides a PostgreSQL password for messages.
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
