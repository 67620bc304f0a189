package app

import (
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// The WebView contract has one casing (issue 18 point 4): every JSON name
// that reaches JavaScript, through a bound method (its parameters and
// results) or an event payload, is camelCase. snake_case names belong to
// the backend's own wire (protocol, CLI, server) and stay behind app's types.

// boundServices are the services main.go binds into the WebView
// (TestContract_BoundServicesMatchMain keeps this list honest).
var boundServices = []any{
	&RecordService{},
	&LineConfigService{},
	&StatusService{},
	&SchemaService{},
	&SyncService{},
	&ConflictService{},
	&DashboardService{},
	&ExportService{},
	&SessionService{},
	&SiteService{},
	&PrefsService{},
}

// eventPayloads are what the runtime events carry: "sync:status" (main
// emits SyncOptions.OnStatus's argument), "data:changed",
// "export:progress" and "session:changed".
var eventPayloads = []any{
	reflect.TypeOf(SyncOptions{}.OnStatus).In(0),
	DataChanged{},
	ExportProgress{},
	Session{},
}

func TestContract_OneCasing(t *testing.T) {
	w := &casingWalker{seen: map[reflect.Type]bool{}}
	for _, svc := range boundServices {
		st := reflect.TypeOf(svc)
		for i := 0; i < st.NumMethod(); i++ {
			m := st.Method(i)
			where := st.Elem().Name() + "." + m.Name
			for j := 1; j < m.Type.NumIn(); j++ { // 0 is the receiver
				w.walk(m.Type.In(j), where+" parameter")
			}
			for j := 0; j < m.Type.NumOut(); j++ {
				w.walk(m.Type.Out(j), where+" result")
			}
		}
	}
	for _, p := range eventPayloads {
		pt, ok := p.(reflect.Type)
		if !ok {
			pt = reflect.TypeOf(p)
		}
		w.walk(pt, "event payload "+pt.String())
	}
	sort.Strings(w.bad)
	for _, b := range w.bad {
		t.Error(b)
	}
}

// casingWalker collects the JSON names with an underscore in the types it
// walks, through pointers, slices, arrays, maps and nested or embedded
// structs.
type casingWalker struct {
	seen map[reflect.Type]bool
	bad  []string
}

func (w *casingWalker) walk(t reflect.Type, where string) {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		w.walk(t.Elem(), where)
	case reflect.Map:
		w.walk(t.Key(), where)
		w.walk(t.Elem(), where)
	case reflect.Struct:
		if w.seen[t] {
			return
		}
		w.seen[t] = true
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() && !f.Anonymous {
				continue
			}
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			if f.Anonymous && name == "" {
				w.walk(f.Type, where) // encoding/json flattens it
				continue
			}
			if name == "" {
				name = f.Name
			}
			if strings.Contains(name, "_") {
				w.bad = append(w.bad, where+": "+t.String()+"."+f.Name+" is sent as \""+name+"\"; the WebView's names are camelCase")
			}
			w.walk(f.Type, where)
		}
	}
}

// TestContract_BoundServicesMatchMain fails when main.go binds a service
// boundServices does not list (its types would escape the casing check).
func TestContract_BoundServicesMatchMain(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "../main.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	// ident := app.NewXService(...) in main.go, for binds by variable.
	vars := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		if as, ok := n.(*ast.AssignStmt); ok && len(as.Lhs) == len(as.Rhs) {
			for i, l := range as.Lhs {
				if id, ok := l.(*ast.Ident); ok {
					if c := constructor(as.Rhs[i]); c != "" {
						vars[id.Name] = c
					}
				}
			}
		}
		return true
	})
	var bound []string
	ast.Inspect(f, func(n ast.Node) bool {
		kv, ok := n.(*ast.KeyValueExpr)
		if !ok {
			return true
		}
		if k, ok := kv.Key.(*ast.Ident); !ok || k.Name != "Bind" {
			return true
		}
		for _, e := range kv.Value.(*ast.CompositeLit).Elts {
			c := constructor(e)
			if id, ok := e.(*ast.Ident); ok {
				c = vars[id.Name]
			}
			if c == "" {
				t.Errorf("main.go binds %s: not an app.NewX(...) call nor a variable holding one", position(fset, e))
				continue
			}
			bound = append(bound, strings.TrimPrefix(c, "New"))
		}
		return false
	})
	var listed []string
	for _, s := range boundServices {
		listed = append(listed, reflect.TypeOf(s).Elem().Name())
	}
	sort.Strings(bound)
	sort.Strings(listed)
	if strings.Join(bound, " ") != strings.Join(listed, " ") {
		t.Errorf("main.go binds %v; boundServices lists %v", bound, listed)
	}
}

// constructor is X's name in app.X(...), else "".
func constructor(e ast.Expr) string {
	call, ok := e.(*ast.CallExpr)
	if !ok {
		return ""
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return ""
	}
	if pkg, ok := sel.X.(*ast.Ident); !ok || pkg.Name != "app" {
		return ""
	}
	return sel.Sel.Name
}

func position(fset *token.FileSet, e ast.Expr) string {
	return fset.Position(e.Pos()).String()
}
