// Command gen writes storebus/client_gen.go: the client's stubs of the
// store interfaces (parley.Store, webhook.Store,
// conversation.IntegrationStore) and the list of methods a core answers.
// Run it with go generate in storebus.
package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"strings"
)

var refused = map[string]bool{"ClaimMail": true, "MarkMailSent": true, "MarkMailFailed": true,
	"WebhookBacklog": true, "CaptureDeliveries": true, "ClaimDeliveries": true, "ReleaseDeliveries": true,
	"PruneDeliveries": true, "MarkDelivered": true, "MarkDeliveryFailed": true}
var skip = map[string]bool{"Close": true, "Events": true}

func main() {
	root := os.Args[1]
	var w bytes.Buffer
	defer func() {
		src, err := format.Source(w.Bytes())
		if err != nil {
			panic(err)
		}
		if err := os.WriteFile(os.Args[2], src, 0o644); err != nil {
			panic(err)
		}
	}()
	files := []struct{ path, iface, pkg string }{
		{root + "/store.go", "Store", "parley"},
		{root + "/webhook/webhook.go", "Store", ""},
		{root + "/conversation/external.go", "IntegrationStore", ""},
	}
	seen := map[string]bool{}
	var names []string
	var out bytes.Buffer
	fset := token.NewFileSet()
	for _, f := range files {
		af, err := parser.ParseFile(fset, f.path, nil, 0)
		if err != nil {
			panic(err)
		}
		ast.Inspect(af, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok || ts.Name.Name != f.iface {
				return true
			}
			it := ts.Type.(*ast.InterfaceType)
			for _, m := range it.Methods.List {
				ft := m.Type.(*ast.FuncType)
				name := m.Names[0].Name
				if seen[name] {
					continue
				}
				seen[name] = true
				typ := func(e ast.Expr) string {
					var b bytes.Buffer
					printer.Fprint(&b, fset, e)
					s := b.String()
					if f.pkg == "parley" {
						// qualify exported idents
						s = qualify(s)
					}
					return s
				}
				var params, args []string
				i := 0
				for _, p := range ft.Params.List {
					t := typ(p.Type)
					pn := []string{}
					for range p.Names {
						pn = append(pn, fmt.Sprintf("a%d", i))
						i++
					}
					if len(p.Names) == 0 {
						pn = append(pn, fmt.Sprintf("a%d", i))
						i++
					}
					for _, n := range pn {
						if t == "context.Context" {
							params = append(params, "ctx context.Context")
						} else {
							params = append(params, n+" "+t)
							args = append(args, n)
						}
					}
				}
				var results []string
				for _, r := range ft.Results.List {
					results = append(results, typ(r.Type))
				}
				if skip[name] {
					continue
				}
				if !refused[name] {
					names = append(names, name)
				}
				fmt.Fprintf(&out, "\n// %s implements the store's method of that name", name)
				if refused[name] {
					fmt.Fprintf(&out, ": an edge node never calls it.\n")
				} else {
					fmt.Fprintf(&out, " on a core node.\n")
				}
				res := strings.Join(results, ", ")
				if len(results) > 1 {
					res = "(" + res + ")"
				}
				fmt.Fprintf(&out, "func (c *Client) %s(%s) %s {\n", name, strings.Join(params, ", "), res)
				var rets, outs []string
				for j, r := range results[:len(results)-1] {
					fmt.Fprintf(&out, "\tvar r%d %s\n", j, r)
					rets = append(rets, fmt.Sprintf("r%d", j))
					outs = append(outs, fmt.Sprintf("&r%d", j))
				}
				if refused[name] {
					rets = append(rets, fmt.Sprintf("refused(%q)", name))
					fmt.Fprintf(&out, "\treturn %s\n}\n", strings.Join(rets, ", "))
					continue
				}
				call := fmt.Sprintf("c.call(ctx, %q, []any{%s}", name, strings.Join(args, ", "))
				if len(outs) > 0 {
					call += ", " + strings.Join(outs, ", ")
				}
				call += ")"
				if len(rets) == 0 {
					fmt.Fprintf(&out, "\treturn %s\n}\n", call)
				} else {
					fmt.Fprintf(&out, "\terr := %s\n\treturn %s, err\n}\n", call, strings.Join(rets, ", "))
				}
			}
			return false
		})
	}
	fmt.Fprintln(&w, "// Code generated from the store interfaces; DO NOT EDIT by hand: run go generate in storebus.\n\npackage storebus\n\nimport (\n\t\"context\"\n\t\"time\"\n\n\t\"github.com/parleychat/parley\"\n)\n")
	fmt.Fprint(&w, out.String())
	fmt.Fprintln(&w, "\n// storeMethods are the store methods a core node answers: what the service,\n// the dialects and the integration API of an edge node call.\nvar storeMethods = []string{")
	for _, n := range names {
		fmt.Fprintf(&w, "\t%q,\n", n)
	}
	fmt.Fprintln(&w, "}")
}

func qualify(s string) string {
	var b strings.Builder
	i := 0
	for i < len(s) {
		c := s[i]
		if c >= 'A' && c <= 'Z' && (i == 0 || !isIdent(s[i-1]) && s[i-1] != '.') {
			j := i
			for j < len(s) && isIdent(s[j]) {
				j++
			}
			b.WriteString("parley." + s[i:j])
			i = j
			continue
		}
		b.WriteByte(c)
		i++
	}
	return b.String()
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
