package cmd

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

var updateREADME = flag.Bool("update-readme", false, "rewrite README.md's flag table from the commands")

// flagTable renders every visible flag of every command as README rows:
// flag, meaning, commands. A flag name means one thing everywhere; where
// commands describe it in their own words, the most common wording is
// shown.
func flagTable() string {
	root := NewRootCmd(&IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}})
	type row struct {
		usages map[string]int
		cmds   []string
		short  string
	}
	rows := map[string]*row{}
	for _, c := range root.Commands() {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if f.Hidden || f.Name == "help" {
				return
			}
			r := rows[f.Name]
			if r == nil {
				r = &row{usages: map[string]int{}}
				rows[f.Name] = r
			}
			r.usages[f.Usage]++
			r.cmds = append(r.cmds, c.Name())
			r.short = f.Shorthand
		})
	}
	names := make([]string, 0, len(rows))
	for n := range rows {
		names = append(names, n)
	}
	slices.Sort(names)
	var b strings.Builder
	b.WriteString("| flag | meaning | commands |\n|---|---|---|\n")
	for _, n := range names {
		r := rows[n]
		usage, most := "", 0
		for u, k := range r.usages {
			if k > most || k == most && u < usage {
				usage, most = u, k
			}
		}
		flagName := "`--" + n + "`"
		if r.short != "" {
			flagName = "`-" + r.short + "`, " + flagName
		}
		slices.Sort(r.cmds)
		cmds := strings.Join(r.cmds, ", ")
		fmt.Fprintf(&b, "| %s | %s | %s |\n", flagName, strings.ReplaceAll(usage, "|", `\|`), cmds)
	}
	return b.String()
}

// TestREADMEFlagTable checks that README.md's flag table is the one the
// commands define (go test ./cmd -run TestREADMEFlagTable -update-readme
// rewrites it).
func TestREADMEFlagTable(t *testing.T) {
	const begin, end = "<!-- flags:begin -->\n", "<!-- flags:end -->"
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(readme)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatal("README.md has no flag table markers")
	}
	want := flagTable()
	if got := s[i+len(begin) : j]; got != want {
		if *updateREADME {
			if err := os.WriteFile("../README.md", []byte(s[:i+len(begin)]+want+s[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("README.md's flag table is not the commands' (run go test ./cmd -run TestREADMEFlagTable -update-readme):\n%s", want)
	}
}
