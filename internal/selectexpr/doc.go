// Package filter selects records by a small expression language and cuts
// conversations to their first turns: what FastChat's extract_gpt4_only.py
// (keep records whose "model" is "gpt4" or absent) and
// extract_single_round.py (keep the first two turns) do, and more.
//
// # Expressions
//
// An expression is a condition on one record:
//
//	model == "gpt4" || model == null          FastChat's extract_gpt4_only
//	len(conversations) >= 4 && lang == "en"
//	has(plugins) || matches(conversations[0].value, "(?i)\\bopenai\\b")
//	!(id == "x1" or id == "x2")
//
// Operands:
//
//   - a path into the record: a member name (model, id, lang, ...), then
//     .name for a member of an object and [N] for an element of an array
//     (negative N counts from the end, as in Python); a name that is not
//     a plain identifier (letters, digits, _) is written ["some-name"], also
//     as the first step. conversations is the record's turn list whatever
//     the input style (OpenAI "messages" included); each turn has from,
//     value and its other members: conversations[0].from, conversations[-1].value.
//   - a literal: a JSON string ("gpt4", with JSON escapes), a JSON number,
//     true, false or null.
//   - a function call:
//     has(PATH) the member exists (even when it is null);
//     len(X) the characters of a string (Unicode code points, as Python's
//     len counts them), the elements of an array (len(conversations) is the
//     number of turns) or the members of an object, else null;
//     chars() the characters of all turn values together (what FastChat's
//     sample caps);
//     index() the record's 0-based position among all input records
//     (index() >= 100 && index() < 200 is FastChat's --begin/--end);
//     lower(X) a string in lower case, else null;
//     contains(X, Y) X is a string containing the string Y, or an array
//     with an element equal to Y;
//     matches(X, "RE") X is a string that the regular expression RE (Go's
//     RE2 syntax; (?i) for case-insensitive) matches somewhere.
//
// Operators, from the loosest: || (or), && (and), ! (not), then one
// comparison: == != < <= > >= (so !a == 1 means !(a == 1)). Parentheses
// group; the words or, and, not are the same as ||, &&, !.
//
// Semantics. A missing member and JSON null are both null, so model == null
// holds when the record has no model or "model": null, as Python's
// dict.get("model") is None. == compares strings with strings, numbers
// with numbers, booleans with booleans; values of different types are not
// equal; arrays and objects equal nothing. != is the negation of ==, so
// model != "gpt4" holds for a record without a model. < <= > >= compare
// two numbers or two strings (byte order) and are false otherwise. A bare
// path as a condition holds when its value is true. Evaluation never
// fails: a path that leads nowhere is null.
//
// Parse errors name the column. A literal or a number-valued function where
// a condition is expected is an error, and so is a single = (use ==).
package selectexpr
