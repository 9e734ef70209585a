package client

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"testing"
)

// coreFiles are the Core's: the decisions, with no I/O.
var coreFiles = []string{"core.go", "connect.go", "session.go", "stall.go", "api.go"}

// TestCoreIsPure keeps the Core sans I/O: its files import no network,
// synchronisation, process or context package, start no goroutine, and
// read no clock (time is passed in).
func TestCoreIsPure(t *testing.T) {
	banned := map[string]bool{"net": true, "sync": true, "sync/atomic": true, "os": true, "context": true, "crypto/rand": true, "math/rand": true, "math/rand/v2": true}
	clock := map[string]bool{"Now": true, "Since": true, "Until": true, "After": true, "AfterFunc": true, "Sleep": true, "NewTimer": true, "NewTicker": true, "Tick": true}
	fset := token.NewFileSet()
	for _, name := range coreFiles {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if banned[path] {
				t.Errorf("%s imports %s", name, path)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.GoStmt:
				t.Errorf("%s: a goroutine at %s", name, fset.Position(n.Pos()))
			case *ast.SelectorExpr:
				if id, ok := n.X.(*ast.Ident); ok && id.Name == "time" && clock[n.Sel.Name] {
					t.Errorf("%s: time.%s at %s: the core is told the time", name, n.Sel.Name, fset.Position(n.Pos()))
				}
			}
			return true
		})
	}
}
