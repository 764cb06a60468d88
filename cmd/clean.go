package cmd

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sharegpt/sharegpt/clean"
	"github.com/sharegpt/sharegpt/internal/lang"
	"github.com/sharegpt/sharegpt/pipeline"
)

// cleanFlags are clean's flags: bound straight into clean.Options and
// clean.LanguageOptions, but for the lists and files that need parsing.
type cleanFlags struct {
	opts                          clean.Options
	lang                          clean.LanguageOptions
	blockedWords, refusalPhrases  string
	noBlockedWords                bool
	disable                       []string
	keepLang, skipLang, languages string
}

func newCleanCmd(ios *IOStreams) *cobra.Command {
	var f ioFlags
	var cf cleanFlags
	c := &cobra.Command{
		Use:   "clean [INPUT...]",
		Short: "Convert raw ShareGPT HTML to Markdown and apply FastChat's filters",
		Long: `Clean converts assistant turns from chat.openai.com share-page HTML to Markdown
(code blocks byte-exact with their language, plain text unescaped, lists, tables,
math) and applies FastChat's clean_sharegpt.py rules, each with its own reason
code: too-short, wrong-format, blocked-words, blocked-response, parser-error,
id-duplication, plugin, value-duplication (--disable NAME,... switches one off).
Opt-in: --wrong-list-indices, --reduce-rep, --drop-refusals, and a language
filter (--keep-lang/--skip-lang, or --tag-lang to write a "lang" field).

Each assistant turn is judged on its own: share-page HTML and HTML fragments
are converted; anything else is Markdown and passes through byte for byte
(then trimmed), so already-clean data comes out unchanged and cleaning twice
changes nothing. Human turns are only trimmed. The report counts the turns
by kind (turn_kinds) and by what was done to them (turn_changes: unchanged,
html-converted, trimmed, noise-removed).

The language detector (lingua) loads its models only when a language flag is
given: about 160 MB of memory for all 75 languages, 30 MB with --languages
limited to a few.`,
		Example: `  sharegpt clean -i sg_90k_part1.json -o cleaned.json --rejects rejects.jsonl
  sharegpt clean -i raw.json --keep-lang en --languages en,zh,ko,ja,de,fr,es,ru -o - | sharegpt split -i - -o out.jsonl`,
		RunE: func(c *cobra.Command, args []string) error {
			job, err := f.job("clean", args, ios)
			if err != nil {
				return err
			}
			opts, err := cf.options()
			if err != nil {
				return usageError(err)
			}
			stage := clean.NewStage(opts)
			job.Stages = []pipeline.Stage{stage, clean.NewDuplicateStage(opts)}
			_, err = f.run(c.Context(), job, ios)
			return err
		},
	}
	f.bind(c, true)
	fl := c.Flags()
	fl.StringVar(&cf.blockedWords, "blocked-words", "", "file of blocked words, one per line, replacing FastChat's (openai, chatgpt)")
	fl.BoolVar(&cf.noBlockedWords, "no-blocked-words", false, "do not reject turns with blocked words")
	fl.StringSliceVar(&cf.disable, "disable", nil, "switch off default filters by reason code: too-short, wrong-format, blocked-words, blocked-response, parser-error (keeps the turn as it is), id-duplication, plugin, value-duplication")
	fl.BoolVar(&cf.opts.WrongListIndices, "wrong-list-indices", false, "reject numbered lists that restart at 1 (FastChat's filter_wrong_format)")
	fl.BoolVar(&cf.opts.ReduceRepetition, "reduce-rep", false, "reject records with a digit repeated 9 times (FastChat's optional_clean --reduce-rep)")
	fl.BoolVar(&cf.opts.DropRefusals, "drop-refusals", false, `reject records whose gpt turns contain a refusal phrase ("As an AI language model...")`)
	fl.StringVar(&cf.refusalPhrases, "refusal-phrases", "", "file of refusal phrases, one per line, replacing the built-in list")
	fl.StringVar(&cf.keepLang, "keep-lang", "", "keep only these languages (ISO 639-1, comma-separated; 'unknown' allowed)")
	fl.StringVar(&cf.skipLang, "skip-lang", "", "reject these languages (ISO 639-1, comma-separated)")
	fl.StringVar(&cf.lang.Unknown, "unknown-lang", "", "keep or skip conversations of unknown language (default: as FastChat, unknown is a language like any other)")
	fl.StringVar(&cf.languages, "languages", "", "candidate languages for detection (ISO 639-1, comma-separated; \"common\": 24 languages common in ShareGPT, twice as fast; default all 75)")
	fl.IntVar(&cf.lang.Bytes, "lang-bytes", 2048, "bytes of human prose examined per conversation")
	fl.Float64Var(&cf.lang.MinConfidence, "lang-min-confidence", 0, "below this confidence (0-1) the language is 'unknown'")
	fl.BoolVar(&cf.lang.HighAccuracy, "lang-high-accuracy", false, "lingua's high-accuracy mode (up to 1.8 GB of memory)")
	fl.BoolVar(&cf.lang.Tag, "tag-lang", false, "write the detected language into a 'lang' field instead of filtering")
	return c
}

func (cf *cleanFlags) options() (clean.Options, error) {
	opts := cf.opts
	disabled, err := clean.ParseDisabled(cf.disable)
	if err != nil {
		return opts, err
	}
	opts.Disabled = disabled
	if cf.noBlockedWords {
		opts.Disabled = append(opts.Disabled, clean.ReasonBlockedWords)
	}
	if cf.blockedWords != "" {
		if opts.BlockedWords, err = readLines(cf.blockedWords); err != nil {
			return opts, err
		}
	}
	if cf.refusalPhrases != "" {
		if opts.RefusalPhrases, err = readLines(cf.refusalPhrases); err != nil {
			return opts, err
		}
	}
	if cf.keepLang == "" && cf.skipLang == "" && !cf.lang.Tag {
		if cf.languages != "" || cf.lang.Unknown != "" {
			return opts, fmt.Errorf("--languages and --unknown-lang need --keep-lang, --skip-lang or --tag-lang")
		}
		return opts, nil
	}
	lo := cf.lang
	if lo.Keep, err = lang.Parse(cf.keepLang); err != nil {
		return opts, err
	}
	if lo.Skip, err = lang.Parse(cf.skipLang); err != nil {
		return opts, err
	}
	if lo.Candidates, err = lang.Parse(cf.languages); err != nil {
		return opts, err
	}
	if len(lo.Candidates) == 1 {
		return opts, fmt.Errorf("--languages needs at least two languages to choose from")
	}
	opts.Language, err = clean.NewLanguageFilter(lo)
	return opts, err
}

// readLines reads a word or phrase list: one per line, blank lines and
// lines starting with # ignored.
func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	lines := []string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			lines = append(lines, line)
		}
	}
	return lines, sc.Err()
}
