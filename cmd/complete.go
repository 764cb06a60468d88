package cmd

import (
	"slices"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sharegpt/sharegpt/dedup"
	"github.com/sharegpt/sharegpt/importer"
	"github.com/sharegpt/sharegpt/internal/chat"
	"github.com/sharegpt/sharegpt/internal/lang"
)

// flagValues are the values shell completion offers, by "command/flag"
// for a flag whose values differ by command, else by flag name.
func flagValues() map[string][]string {
	formats := []string{"json", "jsonl", "parquet", "arrow", "arrow-stream"}
	langs := lang.Codes()
	return map[string][]string{
		"template":        append(chat.Names(), chat.Auto),
		"input-format":    formats,
		"output-format":   formats,
		"input-style":     {"auto", "sharegpt", "openai"},
		"output-style":    {"sharegpt", "openai"},
		"compression":     {"zstd", "snappy", "gzip", "none"},
		"format":          {"text", "json"},
		"keep-lang":       langs,
		"skip-lang":       langs,
		"languages":       langs,
		"pivot":           langs,
		"unknown-lang":    {"keep", "skip"},
		"split/count":     {"fastchat", "template"},
		"split/mode":      {"default", "fastchat"},
		"stats/count":     {"chars", "tokens"},
		"dedup/keep":      {dedup.KeepFirst.String(), dedup.KeepLongest.String(), dedup.KeepMostTurns.String()},
		"dedup/mode":      {"near", "exact"},
		"dedup/key":       {"conversation", "first-turn", "human", "gpt", "id"},
		"dedup/shingle":   {"word", "char"},
		"import/from":     importer.Froms,
		"import/branches": {"active", "all", "longest"},
		"import/tools":    {"keep", "drop"},
	}
}

// registerCompletions gives every flag of the tree with known values a
// completion function.
func registerCompletions(root *cobra.Command) {
	values := flagValues()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			vals, ok := values[c.Name()+"/"+f.Name]
			if !ok {
				vals, ok = values[f.Name]
			}
			if !ok {
				return
			}
			vals = slices.Clone(vals)
			c.RegisterFlagCompletionFunc(f.Name, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
				return vals, cobra.ShellCompDirectiveNoFileComp
			})
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}
