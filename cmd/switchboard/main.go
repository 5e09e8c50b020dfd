// Command switchboard runs the switchboard server and its operator tools
// (CONTRACT §2): serve, accounts create, accounts rotate-token, migrate,
// openapi, version.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"

	sb "github.com/switchboard-voice/switchboard"
	"github.com/switchboard-voice/switchboard/internal/httpapi"
)

// Set by the linker: -ldflags "-X main.version=… -X main.commit=…".
var (
	version = "dev"
	commit  = ""
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes (CONTRACT §2.2).
const (
	exitOK       = 0
	exitRuntime  = 1
	exitUsage    = 2
	exitNotFound = 3
	exitConflict = 4
)

const usage = `switchboard — multi-tenant sub-account platform (Vobiz Sub-Accounts API)

Usage:
  switchboard serve [--addr A] [--db D] [--dev]
  switchboard accounts create --db D --name N [--email E] [--currency INR] [--password-stdin] [--json]
  switchboard accounts rotate-token --db D --auth-id A [--grace-seconds 86400] [--json]
  switchboard migrate [--db D]
  switchboard openapi
  switchboard version [--json]

--db defaults to $SWITCHBOARD_DB, then ./switchboard.db; postgres:// or postgresql://
selects PostgreSQL. --addr defaults to $SWITCHBOARD_ADDR, then 127.0.0.1:8080.
Flags win over the environment. See README.md for every SWITCHBOARD_* variable.
`

// run is the whole program, testable without a process.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	case "serve":
		return runServe(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, rest, getenv, stdout, stderr)
	case "openapi":
		fs := flag.NewFlagSet("openapi", flag.ContinueOnError)
		if help, err := parseFlags(fs, rest, stdout); help || err != nil {
			return fail(stderr, false, err)
		}
		stdout.Write(httpapi.OpenAPIDocument(versionString()))
		return exitOK
	case "version":
		return runVersion(rest, stdout, stderr)
	case "accounts":
		if len(rest) == 0 {
			fmt.Fprintln(stderr, "switchboard accounts: missing subcommand (create, rotate-token)")
			return exitUsage
		}
		switch rest[0] {
		case "create":
			return runAccountsCreate(ctx, rest[1:], getenv, stdin, stdout, stderr)
		case "rotate-token":
			return runRotateToken(ctx, rest[1:], getenv, stdout, stderr)
		case "-h", "--help", "help":
			fmt.Fprint(stdout, usage)
			return exitOK
		}
		fmt.Fprintf(stderr, "switchboard accounts: unknown subcommand %q\n", rest[0])
		return exitUsage
	}
	fmt.Fprintf(stderr, "switchboard: unknown command %q (try switchboard help)\n", cmd)
	return exitUsage
}

// parseFlags parses a subcommand's flags. help is true for -h (usage was
// printed on stdout); err is a usage error.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) (help bool, err error) {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return true, nil
		}
		return false, usagef("%s: %v", fs.Name(), err)
	}
	if fs.NArg() > 0 {
		return false, usagef("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return false, nil
}

// versionString is the release version, or the module version of the build.
func versionString() string {
	if version != "dev" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return version
}

func commitString() string {
	if commit != "" {
		return commit
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "unknown"
}

func runVersion(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return fail(stderr, false, err)
	}
	if *asJSON {
		b, _ := json.Marshal(map[string]string{"version": versionString(), "commit": commitString(), "go": runtime.Version()})
		fmt.Fprintln(stdout, string(b))
		return exitOK
	}
	fmt.Fprintf(stdout, "switchboard %s %s %s\n", versionString(), commitString(), runtime.Version())
	return exitOK
}

// fail prints err (nil: nothing) the way §2.1 asks and returns its exit code.
func fail(stderr io.Writer, asJSON bool, err error) int {
	if err == nil {
		return exitOK
	}
	code, errCode, msg := exitRuntime, sb.EInternal, err.Error()
	var ue usageError
	switch {
	case errors.As(err, &ue):
		code, errCode = exitUsage, sb.EValidation
	default:
		e := sb.AsError(err)
		errCode, msg = e.Code, e.Message
		switch e.Code {
		case sb.EValidation:
			code = exitUsage
			if len(e.Details) > 0 {
				msg = e.Details[0].Field + ": " + e.Details[0].Message
			}
		case sb.ENotFound:
			code = exitNotFound
		case sb.EAlreadyExists:
			code = exitConflict
		case sb.EInternal, sb.EUnavailable:
			if e.Err != nil {
				msg = e.Err.Error()
			}
		}
	}
	if asJSON {
		b, _ := json.Marshal(map[string]string{"error": errCode, "message": msg})
		fmt.Fprintln(stderr, string(b))
	} else {
		fmt.Fprintln(stderr, "switchboard: "+msg)
	}
	return code
}
