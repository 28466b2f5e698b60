package wandbtest_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFidelityListsEveryOption: FIDELITY.md names every option and fault
// constructor of the package, so that no behaviour a test can switch, and
// no assumption played the other way, goes without its source.
func TestFidelityListsEveryOption(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("FIDELITY.md")
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || !fn.Name.IsExported() || fn.Type.Results == nil || len(fn.Type.Results.List) != 1 {
				continue
			}
			if id, ok := fn.Type.Results.List[0].Type.(*ast.Ident); !ok || (id.Name != "Option" && id.Name != "Fault") {
				continue
			}
			checked++
			if !strings.Contains(string(doc), "`"+fn.Name.Name+"`") && !strings.Contains(string(doc), "`"+fn.Name.Name+"(") {
				t.Errorf("FIDELITY.md does not name %s (%s)", fn.Name.Name, name)
			}
		}
	}
	if checked < 10 {
		t.Errorf("found %d options and faults, want at least 10", checked)
	}
}
