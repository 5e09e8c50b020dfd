package switchboard_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/switchboard-voice/switchboard"

// golist runs `go list -f format` on a package of this module and splits
// the output into fields.
func golist(t *testing.T, format, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", format, module+pkg).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

// TestImportDirection keeps the layering of ARCHITECTURE.md: cmd → httpapi
// → app → domain; sqlstore → domain. Only sqlstore imports database/sql;
// the domain imports only the standard library and never net/http; app
// reaches neither sqlstore nor httpapi, not even indirectly.
func TestImportDirection(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not on PATH")
	}
	rules := []struct {
		pkg string
		// direct lists forbidden direct imports; within lists module
		// packages forbidden anywhere in the dependency graph.
		direct, within []string
	}{
		{"", []string{"net/http", "database/sql"}, []string{"/internal/"}},
		{"/internal/app", []string{"net/http", "database/sql"}, []string{"/internal/sqlstore", "/internal/httpapi"}},
		{"/internal/httpapi", []string{"database/sql"}, []string{"/internal/sqlstore"}},
		{"/internal/sqlstore", []string{"net/http"}, []string{"/internal/httpapi", "/internal/app/"}},
		{"/cmd/switchboard", []string{"database/sql"}, nil},
	}
	for _, r := range rules {
		for _, imp := range golist(t, `{{join .Imports " "}}`, r.pkg) {
			for _, f := range r.direct {
				if imp == f {
					t.Errorf("%s imports %s", module+r.pkg, imp)
				}
			}
		}
		for _, dep := range golist(t, `{{join .Deps " "}}`, r.pkg) {
			for _, f := range r.within {
				if strings.HasPrefix(dep, module+f) {
					t.Errorf("%s depends on %s", module+r.pkg, dep)
				}
			}
		}
	}
	for _, imp := range golist(t, `{{join .Imports " "}}`, "") {
		if strings.Contains(strings.SplitN(imp, "/", 2)[0], ".") {
			t.Errorf("the domain package imports non-stdlib %s", imp)
		}
	}
}

// TestStaticBuild checks that the binary builds without cgo.
func TestStaticBuild(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not on PATH")
	}
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "switchboard")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/switchboard")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build: %v\n%s", err, out)
	}
}
