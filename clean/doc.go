// Package clean turns raw ShareGPT turn values into training text.
//
// # Which turns are HTML
//
// Real dumps mix three kinds of assistant turn: 2023 share-page HTML,
// Markdown already cleaned, and Markdown with HTML inside it (code about
// HTML, <sub>, <br>, author edits). [Classify] decides per turn, and
// conservatively (the rule is documented in kind.go): share-page HTML (the
// `<div class="markdown prose ...">` wrapper) and HTML fragments (a turn
// made only of HTML blocks, as a CommonMark reader would read it too) are
// converted by [Converter.Markdown]; everything else is Markdown and passes
// through byte for byte, trimmed and freed of scraper noise as human turns
// are ([PlainText]). Human turns are never parsed. The converter's output
// is Markdown by the same rule, so cleaning twice changes nothing. The
// stage reports what it did to each kept turn (changes.go: unchanged,
// html-converted, trimmed, noise-removed).
//
// # HTML to Markdown
//
// Assistant turns in raw ShareGPT dumps are chat.openai.com share-page HTML
// (a minified `<div class="markdown prose ...">` tree). [Converter.Markdown]
// renders that HTML as CommonMark/GFM Markdown, faithfully:
//
//   - code blocks are byte-exact: the code text as the browser shows it
//     (entities decoded, highlight.js spans dropped), fenced with the label of
//     the block's header bar (`<span>LANG</span>` beside the "Copy code"
//     button), or the code's `language-X` class when there is no header; the
//     header itself ("Copy code" button, svg) never reaches the output, and
//     code text is never taken for a label. The fence is longer than any
//     backtick run that starts a line of the code. Blocks holding only
//     whitespace are dropped, as FastChat drops them. A block nested in an
//     inline <code> (author-edited pages) ends the inline code first;
//   - plain text is kept as it is. A character is escaped only where the
//     Markdown would otherwise mean something else (the rule, with
//     examples, is in markdown_escape.go): `*`, `_` and `~` only when a
//     matching delimiter exists that could pair with them, a backtick only
//     when another backtick follows it in the paragraph, `1.`, `#`, `-`,
//     `>` ... only where they start a block, `]` only before a valid link
//     destination, `<` only before real HTML, `|` only in table cells.
//     `snake_case`, `*args`, `a * b`, `$5`, `C:\Users` and
//     `![Alt text](image URL)` stay as written;
//   - lists (ordered with their numbers and `start`, nested, loose `<li><p>`
//     and tight; two adjacent lists of one kind switch marker, `-`/`*` or
//     `.`/`)`, so they stay two lists), GFM tables (alignment, `\|` in cells,
//     `<br>` for line breaks in cells), headings, blockquotes, `**strong**`,
//     `*em*`, `~~del~~`, links `[text](url)` (a bare URL where the link text
//     is the URL and GFM would link it by itself), images, inline code (a
//     longer backtick run when the code holds backticks; adjacent spans are
//     merged), horizontal rules (`---`), `<br>` (a plain line break: ChatGPT's
//     own Markdown had a newline there);
//   - emphasis that CommonMark would not parse back (e.g. `a**.b**`, where
//     the opener is not left-flanking) is dropped rather than written as
//     stray asterisks: the text stays exact;
//   - KaTeX becomes `$tex$` (inline) or a `$$` block (`.katex-display`), taken
//     from the `<annotation encoding="application/x-tex">`; without it, from
//     the MathML text (other annotations left out), and without MathML from
//     the `.katex-html` rendering: one of them, never two;
//   - FastChat's scraper noise is removed: a leading "N / M" regenerate
//     counter and "CopyN chars / N words";
//   - whitespace: at most one blank line between blocks, no trailing spaces,
//     no whitespace-only lines, except inside code blocks whose content is
//     never touched. Text newlines inside a paragraph are kept (as FastChat's
//     markdownify keeps them), runs of spaces and tabs become one space.
//
// The renderer is driven by golang.org/x/net/html's tokenizer with a small
// element stack (no DOM is built), so it runs at well over 30 MB/s of HTML per
// core. Malformed HTML never panics: unmatched end tags are ignored, open
// elements are closed at the end of input.
//
// Human turns are plain text: [PlainText] only trims them and removes the
// same scraper noise, so a value without noise comes out identical to the
// input, trimmed. [Converter.ConvertTurn] picks the path of a turn from its
// role and [Classify].
//
// A Converter has no mutable state visible to callers: it only pools its
// scratch buffers, and is safe for concurrent use by many goroutines. The
// zero value is ready to use.
package clean
