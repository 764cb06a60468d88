package pipeline

import (
	"fmt"
	"regexp"
)

// OptionError is an invalid option value. Packages name options in braces
// in the format, "{threshold} must be in (0, 1], got %g": Error shows the
// bare names ("threshold must be ..."), Flags shows them as the command
// line's flags ("--threshold must be ..."), so that library errors name no
// command-line flags and the command line still names its own.
type OptionError struct {
	bare, flags string
	usage       bool
}

var optionName = regexp.MustCompile(`\{([a-z][a-z0-9-]*)\}`)

// OptionErrorf formats an OptionError; only the format's braces name
// options, never the arguments'.
// The error is a usage error: an option's value is wrong.
func OptionErrorf(format string, args ...any) *OptionError {
	e := MentionOptionsf(format, args...)
	e.usage = true
	return e
}

// MentionOptionsf formats an error that names options (a hint on what to
// set) but is not a usage error: the run failed for another reason.
func MentionOptionsf(format string, args ...any) *OptionError {
	return &OptionError{
		bare:  fmt.Sprintf(optionName.ReplaceAllString(format, "$1"), args...),
		flags: fmt.Sprintf(optionName.ReplaceAllString(format, "--$1"), args...),
	}
}

// Usage reports whether the error is an option with a wrong value (exit
// status 2 on the command line) rather than a hint.
func (e *OptionError) Usage() bool { return e.usage }

func (e *OptionError) Error() string { return e.bare }

// Flags returns the message with the options written as flags.
func (e *OptionError) Flags() string { return e.flags }
