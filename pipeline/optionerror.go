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
}

var optionName = regexp.MustCompile(`\{([a-z][a-z0-9-]*)\}`)

// OptionErrorf formats an OptionError; only the format's braces name
// options, never the arguments'.
func OptionErrorf(format string, args ...any) *OptionError {
	return &OptionError{
		bare:  fmt.Sprintf(optionName.ReplaceAllString(format, "$1"), args...),
		flags: fmt.Sprintf(optionName.ReplaceAllString(format, "--$1"), args...),
	}
}

func (e *OptionError) Error() string { return e.bare }

// Flags returns the message with the options written as flags.
func (e *OptionError) Flags() string { return e.flags }
