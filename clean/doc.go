// Package clean turns raw ShareGPT turn values into training text.
//
// # HTML to Markdown
//
// Assistant turns in raw ShareGPT dumps are chat.openai.com share-page HTML
// (a minified `<div class="markdown prose ...">` tree). [Converter.Markdown]
// renders that HTML as CommonMark/GFM Markdown, faithfully:
//
//   - code blocks are byte-exact: the code text as the browser shows it
//     (entities decoded, highlight.js spans dropped), fenced with the label of
//     the block's header (`<span>LANG</span>`, or the code's `language-X`
//     class when there is no header); the header itself ("Copy code" button,
//     svg) never reaches the output. The fence is longer than any backtick run
//     that starts a line of the code. Blocks holding only whitespace are
//     dropped, as FastChat drops them;
//   - plain text is kept as it is. A character is escaped only where it would
//     otherwise change the Markdown's meaning: `*`, `_` and `~` only when a
//     matching delimiter exists that could pair with them, a backtick only
//     when another backtick follows it in the paragraph, `1.`, `#`, `-`, `>` ... only at the
//     start of a line, `<` only before something that parses as a tag, `|`
//     only in table cells, a line that would read as a table delimiter row.
//     `snake_case`, `*args`, `a * b`, `$5` and `C:\Users` stay as written;
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
//     from the `<annotation encoding="application/x-tex">`; the `.katex-html`
//     duplicate is dropped;
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
// input, trimmed. [LooksLikeHTML] tells share-page HTML from plain text and
// [Converter.Convert] picks one of the two paths with it.
//
// A Converter has no mutable state visible to callers: it only pools its
// scratch buffers, and is safe for concurrent use by many goroutines. The
// zero value is ready to use.
package clean
