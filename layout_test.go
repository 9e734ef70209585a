package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The layout's rules, checked from the source so that they stay true: which
// package may import which, what the pure packages may never do, a package
// doc for every package, and no file grown past what a reader takes in.

const module = "github.com/gridlock-game/gridlock"

// mayImport lists, for each package, the project packages it may depend on
// (directly or not).
var mayImport = map[string][]string{
	"game":       {},
	"wire":       {"game"},
	"replica":    {"game", "wire"},
	"node":       {"game", "wire", "replica", "node/store"},
	"node/store": {"game", "wire"},
	"client":     {"game", "wire"},
	"bot":        {"game", "wire", "client"},
	"demo":       {"game", "wire", "client", "bot"},
	"tui":        {"game", "wire", "client"},
	"sshd":       {"game", "wire", "client", "tui"},
}

// pure packages do no I/O, start no goroutines and never read the clock.
var pure = []string{"game", "replica"}

var (
	impureImports = []string{"net", "os", "os/exec", "os/signal", "sync", "sync/atomic", "syscall", "io/fs", "log", "log/slog", "crypto/rand", "unsafe"}
	clockCalls    = []string{"Now", "Since", "Until", "Sleep", "After", "AfterFunc", "Tick", "NewTimer", "NewTicker"}
	// math/rand's package-level functions draw from a global source; a pure
	// package takes randomness only as seeds.
	randCalls = []string{"New", "NewPCG", "NewChaCha8", "NewZipf"}
)

const maxFileLines = 600

type pkgSource struct {
	name  string
	files map[string]*ast.File // non-test files by path
	fset  *token.FileSet
}

func loadPackages(t *testing.T) map[string]*pkgSource {
	t.Helper()
	out := map[string]*pkgSource{}
	dirs, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range append(dirs, nil) {
		dir := "."
		if d != nil {
			if !d.IsDir() || strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" {
				continue
			}
			dir = d.Name()
		}
		err := filepath.WalkDir(dir, func(path string, e os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if e.IsDir() {
				if path != dir && (dir == "." || e.Name() == "testdata") {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			pkg := filepath.ToSlash(filepath.Dir(path))
			ps := out[pkg]
			if ps == nil {
				ps = &pkgSource{name: pkg, files: map[string]*ast.File{}, fset: token.NewFileSet()}
				out[pkg] = ps
			}
			f, err := parser.ParseFile(ps.fset, path, nil, parser.ParseComments)
			if err != nil {
				return err
			}
			ps.files[path] = f
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// projectImports returns the project packages a package imports directly.
func (p *pkgSource) projectImports() []string {
	var out []string
	for _, f := range p.files {
		for _, im := range f.Imports {
			path, _ := strconv.Unquote(im.Path.Value)
			if rest, ok := strings.CutPrefix(path, module+"/"); ok && !slices.Contains(out, rest) {
				out = append(out, rest)
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestImportRules(t *testing.T) {
	pkgs := loadPackages(t)
	for name, allowed := range mayImport {
		if pkgs[name] == nil {
			t.Errorf("package %s is missing", name)
			continue
		}
		for _, dep := range closure(pkgs, name) {
			if !slices.Contains(allowed, dep) {
				t.Errorf("%s depends on %s (allowed: %v)", name, dep, allowed)
			}
		}
	}
	for name := range pkgs {
		if _, ok := mayImport[name]; !ok && name != "." {
			t.Errorf("package %s has no import rule in mayImport", name)
		}
	}
}

// closure returns every project package that name depends on.
func closure(pkgs map[string]*pkgSource, name string) []string {
	seen := map[string]bool{}
	var visit func(string)
	visit = func(n string) {
		p := pkgs[n]
		if p == nil {
			return
		}
		for _, d := range p.projectImports() {
			if !seen[d] {
				seen[d] = true
				visit(d)
			}
		}
	}
	visit(name)
	var out []string
	for d := range seen {
		out = append(out, d)
	}
	slices.Sort(out)
	return out
}

func TestPurePackages(t *testing.T) {
	pkgs := loadPackages(t)
	for _, name := range pure {
		p := pkgs[name]
		if p == nil {
			t.Errorf("package %s is missing", name)
			continue
		}
		for _, problem := range impurities(p.fset, p.files) {
			t.Errorf("%s: %s", name, problem)
		}
	}
}

// impurities lists what a pure package must not do.
func impurities(fset *token.FileSet, files map[string]*ast.File) []string {
	var out []string
	for path, f := range files {
		names := map[string]string{} // local name → import path
		for _, im := range f.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			local := p[strings.LastIndex(p, "/")+1:]
			if im.Name != nil {
				local = im.Name.Name
			}
			if p == "math/rand/v2" || p == "math/rand" {
				local = "rand"
				if im.Name != nil {
					local = im.Name.Name
				}
			}
			names[local] = p
			if slices.Contains(impureImports, p) {
				out = append(out, fmt.Sprintf("%s imports %s", fset.Position(im.Pos()), p))
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.GoStmt:
				out = append(out, fmt.Sprintf("%s starts a goroutine", fset.Position(n.Pos())))
			case *ast.SelectorExpr:
				x, ok := n.X.(*ast.Ident)
				if !ok {
					break
				}
				switch names[x.Name] {
				case "time":
					if slices.Contains(clockCalls, n.Sel.Name) {
						out = append(out, fmt.Sprintf("%s calls time.%s", fset.Position(n.Pos()), n.Sel.Name))
					}
				case "math/rand", "math/rand/v2":
					if ast.IsExported(n.Sel.Name) && !slices.Contains(randCalls, n.Sel.Name) && !isType(n.Sel.Name) {
						out = append(out, fmt.Sprintf("%s calls rand.%s (the global source)", fset.Position(n.Pos()), n.Sel.Name))
					}
				}
			}
			return true
		})
		_ = path
	}
	slices.Sort(out)
	return out
}

// isType reports whether a math/rand name is a type, not a function.
func isType(name string) bool {
	return slices.Contains([]string{"Rand", "Source", "PCG", "ChaCha8", "Zipf"}, name)
}

// The purity check catches what it is for.
func TestPurityCheckBites(t *testing.T) {
	const src = `package bad

import (
	"math/rand/v2"
	"os"
	t "time"
)

func f() {
	go f()
	_ = t.Now()
	_ = rand.IntN(3)
	_ = rand.New(rand.NewPCG(1, 2))
	_ = os.Args
}
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "bad.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := impurities(fset, map[string]*ast.File{"bad.go": f})
	want := []string{"imports os", "starts a goroutine", "calls time.Now", "calls rand.IntN"}
	if len(got) != len(want) {
		t.Fatalf("found %d problems, want %d: %q", len(got), len(want), got)
	}
	for _, w := range want {
		if !slices.ContainsFunc(got, func(g string) bool { return strings.Contains(g, w) }) {
			t.Errorf("did not find %q in %q", w, got)
		}
	}
}

func TestPackageDocs(t *testing.T) {
	for name, p := range loadPackages(t) {
		doc, ok := p.files[filepath.Join(name, "doc.go")]
		if name == "." {
			doc, ok = p.files["main.go"]
		}
		if !ok {
			t.Errorf("package %s has no doc.go", name)
			continue
		}
		if doc.Doc == nil || len(strings.Fields(doc.Doc.Text())) < 30 {
			t.Errorf("package %s: its package comment is missing or too short to say what it owns", name)
		}
		for path, f := range p.files {
			if f != doc && f.Doc != nil && strings.HasPrefix(f.Doc.Text(), "Package ") {
				t.Errorf("%s: a second package comment (the package doc lives in doc.go)", path)
			}
		}
	}
}

func TestFileSizes(t *testing.T) {
	for _, p := range loadPackages(t) {
		for path := range p.files {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(b), "\n"); n > maxFileLines {
				t.Errorf("%s has %d lines (at most %d: split it by concern)", path, n, maxFileLines)
			}
		}
	}
}
