// Package cli is what muxbench's sub-commands share on the command line:
// usage printed only when asked for, one line for a mistake, and exit
// status 2 for anything the user got wrong.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// ErrUsage marks errors caused by the user's input (a bad value, an
// unreachable target, a port in use): commands exit 2 on them.
var ErrUsage = errors.New("usage")

type usageError struct{ msg string }

func (e *usageError) Error() string        { return e.msg }
func (e *usageError) Is(target error) bool { return target == ErrUsage }

// Usagef is an error the user can fix; errors.Is(err, ErrUsage) holds.
func Usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// NewFlagSet is the flag set of `muxbench NAME`. Its --help prints usage,
// then the flags, on help (the terminal's stdout, not stderr, so that it
// can be paged).
func NewFlagSet(name, usage string, help io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("muxbench "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintln(help, usage+"\n\nFlags:")
		out := fs.Output()
		fs.SetOutput(help)
		fs.PrintDefaults()
		fs.SetOutput(out)
	}
	return fs
}

// Parse parses args into fs with the flag package silenced, so that a
// mistake is one line rather than the whole usage: --help calls fs.Usage
// and returns flag.ErrHelp; a bad flag returns a usage error that points
// to --help.
func Parse(fs *flag.FlagSet, args []string) error {
	// The flag package prints its error and calls Usage on every
	// mistake; both wait until we know it was --help.
	out, usage := fs.Output(), fs.Usage
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.SetOutput(out)
	fs.Usage = usage
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		if fs.Usage != nil {
			fs.Usage()
		} else {
			fmt.Fprintf(fs.Output(), "Usage of %s:\n", fs.Name())
			fs.PrintDefaults()
		}
		return flag.ErrHelp
	}
	return Usagef("%v (see %s --help)", err, fs.Name())
}

// ParseFlagsOnly is Parse for a command that takes flags and no
// arguments: an argument is a usage error too.
func ParseFlagsOnly(fs *flag.FlagSet, args []string) error {
	if err := Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return Usagef("unexpected argument %q (flags only; see %s --help)", fs.Arg(0), fs.Name())
	}
	return nil
}

// Exit is the exit status of a command line that was refused: 0 after
// --help, otherwise 2 with the error on one line of stderr, prefixed with
// the command's name ("muxbench run").
func Exit(name string, err error, stderr io.Writer) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	return 2
}
