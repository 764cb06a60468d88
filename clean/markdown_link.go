package clean

// Page text "[x](y)" reads as a link in Markdown only when "(y)" is a valid
// inline link tail: a destination (<...> without line breaks, or a run of
// non-space characters with balanced parentheses), optionally a title after
// white space ("t", 't' or (t)), and ")". The converter escapes the "]"
// only then: "[a](b)" gives "[a\](b)", while "![Alt text](image URL)" (a
// space in the destination) and "[note] (see below)" stay as written.
//
// Backslashes: the converter writes every backslash of page text that
// precedes punctuation as "\\", so a page-text backslash never escapes the
// next character; one inside a code span or URL does.

// linkTail reports whether b[i:], b[i] being '(', would be read as the
// destination and title of an inline link.
func linkTail(b, k []byte, i int) bool {
	i = skipLinkSpace(b, i+1)
	if i >= len(b) {
		return false
	}
	if b[i] == ')' {
		return true // [text]() is a link
	}
	if b[i] == '<' && !escapesLT(b, k, i) {
		j, ok := pointyDest(b, k, i)
		return ok && linkEnd(b, k, j)
	}
	j, ok := bareDest(b, k, i) // "\<..." is a plain destination
	return ok && linkEnd(b, k, j)
}

// linkEnd reports whether b[i:], after a destination, is an optional
// title and the closing ")".
func linkEnd(b, k []byte, i int) bool {
	j := skipLinkSpace(b, i)
	if j < len(b) && b[j] == ')' {
		return true
	}
	if j == i || j >= len(b) {
		return false // a title needs white space before it
	}
	j, ok := linkTitle(b, k, j)
	if !ok {
		return false
	}
	j = skipLinkSpace(b, j)
	return j < len(b) && b[j] == ')'
}

// skipLinkSpace skips spaces and tabs with at most one line break.
func skipLinkSpace(b []byte, i int) int {
	nl := false
	for ; i < len(b); i++ {
		switch b[i] {
		case ' ', '\t':
		case '\n':
			if nl {
				return i
			}
			nl = true
		default:
			return i
		}
	}
	return i
}

// linkEscape reports whether b[i] is a backslash that escapes the next
// character in the written Markdown.
func linkEscape(b, k []byte, i int) bool {
	return b[i] == '\\' && k[i] != byteLiteral && k[i] != byteEscape && i+1 < len(b) && isASCIIPunct(b[i+1])
}

// pointyDest reads a destination "<...>" at b[i]; it returns the index
// after it.
func pointyDest(b, k []byte, i int) (int, bool) {
	for j := i + 1; j < len(b); j++ {
		switch {
		case linkEscape(b, k, j):
			j++
		case b[j] == '>':
			return j + 1, true
		case b[j] == '<' || b[j] == '\n':
			return 0, false
		}
	}
	return 0, false
}

// bareDest reads a destination of non-space characters with balanced
// parentheses at b[i] (unbalanced ones too when a space ends it, as
// goldmark reads them); it returns the index after it.
func bareDest(b, k []byte, i int) (int, bool) {
	depth := 0
	j := i
	for ; j < len(b); j++ {
		c := b[j]
		switch {
		case linkEscape(b, k, j):
			j++
		case c == '(':
			if depth++; depth > 32 {
				return 0, false
			}
		case c == ')':
			if depth == 0 {
				return j, j > i
			}
			depth--
		case c <= ' ' || c == 0x7f:
			// CommonMark wants the parentheses balanced here, but goldmark
			// ends the destination at the space anyway ("[a](( )" is a
			// link to "("): escape for the laxer reader.
			return j, j > i
		}
	}
	return j, depth == 0 && j > i
}

// linkTitle reads a title "...", '...' or (...) at b[i]; it returns the
// index after it. (The inline buffer never holds a blank line, which would
// end a title.)
func linkTitle(b, k []byte, i int) (int, bool) {
	closer := b[i]
	switch closer {
	case '"', '\'':
	case '(':
		closer = ')'
	default:
		return 0, false
	}
	for j := i + 1; j < len(b); j++ {
		switch {
		case linkEscape(b, k, j):
			j++
		case b[j] == closer:
			return j + 1, true
		case b[i] == '(' && b[j] == '(':
			return 0, false
		}
	}
	return 0, false
}
