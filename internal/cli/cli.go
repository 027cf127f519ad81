// Package cli is what muxbench's sub-commands share on the command line:
// usage printed only when asked for (on stdout, with a "Flags:" heading
// and the flags spelled with two dashes, as the README writes them), one
// line for a mistake, and exit status 2 for anything the user got wrong.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/muxbench/muxbench/internal/suggest"
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
		fmt.Fprintln(help, strings.TrimRight(usage, "\n")+"\n\nFlags:")
		PrintFlags(help, fs)
	}
	return fs
}

// aliasMark starts the usage of a flag that only names another one.
const aliasMark = "\x00alias of "

// Alias makes alias a second name of fs's flag name (-o for --out), shown
// beside it in the help rather than as a flag of its own.
func Alias(fs *flag.FlagSet, alias, name string) {
	f := fs.Lookup(name)
	if f == nil {
		panic("cli: alias of an undefined flag " + name)
	}
	fs.Var(f.Value, alias, aliasMark+name)
}

// asideMark starts the usage of a flag that help names under a heading
// of its own, at the end, without describing it; the heading follows,
// then a NUL, then the flag's own usage.
const asideMark = "\x00aside "

// Aside makes fs's help name the flags called names under heading, at
// the end, rather than describe each: flags that another command's help
// describes (a run's server flags, which serve's describes), so that a
// command's help stays about a screen long.
func Aside(fs *flag.FlagSet, heading string, names ...string) {
	for _, n := range names {
		f := fs.Lookup(n)
		if f == nil {
			panic("cli: aside of an undefined flag " + n)
		}
		f.Usage = asideMark + heading + "\x00" + f.Usage
	}
}

// aside is the heading f's help is named under, if it is aside.
func aside(f *flag.Flag) (heading string, ok bool) {
	rest, ok := strings.CutPrefix(f.Usage, asideMark)
	heading, _, _ = strings.Cut(rest, "\x00")
	return heading, ok
}

// dashes spells a flag as the README does: -o, --out.
func dashes(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// PrintFlags writes fs's flags, sorted, each with its aliases, its
// placeholder and its default; then the names of those set aside, under
// their heading.
func PrintFlags(w io.Writer, fs *flag.FlagSet) {
	aliases := map[string][]string{}
	var headings []string
	asides := map[string][]string{}
	fs.VisitAll(func(f *flag.Flag) {
		if target, ok := strings.CutPrefix(f.Usage, aliasMark); ok {
			aliases[target] = append(aliases[target], f.Name)
		}
		if h, ok := aside(f); ok {
			if asides[h] == nil {
				headings = append(headings, h)
			}
			asides[h] = append(asides[h], dashes(f.Name))
		}
	})
	fs.VisitAll(func(f *flag.Flag) {
		if _, ok := aside(f); ok || strings.HasPrefix(f.Usage, aliasMark) {
			return
		}
		var names []string
		for _, a := range aliases[f.Name] {
			names = append(names, dashes(a))
		}
		names = append(names, dashes(f.Name))
		line := "  " + strings.Join(names, ", ")
		placeholder, usage := flag.UnquoteUsage(f)
		if placeholder != "" {
			line += " " + placeholder
		}
		if def := f.DefValue; !isZero(f) {
			if reflect.TypeOf(f.Value).String() == "*flag.stringValue" {
				def = strconv.Quote(def)
			}
			usage += " (default " + def + ")"
		}
		fmt.Fprintln(w, line+"\n"+wrap(usage, "    \t"))
	})
	for _, h := range headings {
		fmt.Fprintf(w, "\n%s\n%s\n", h, wrap(strings.Join(asides[h], ", "), "    "))
	}
}

// helpWidth is the columns of help text after its indent: 80 in all, the
// flag package's tab indent counting 8.
const helpWidth = 72

// wrap breaks each line of text at spaces into lines of at most
// helpWidth characters, and indents them.
func wrap(text, indent string) string {
	var lines []string
	for _, para := range strings.Split(text, "\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			if line != "" && utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) > helpWidth {
				lines = append(lines, indent+line)
				line = ""
			}
			if line != "" {
				line += " "
			}
			line += word
		}
		lines = append(lines, indent+line)
	}
	return strings.Join(lines, "\n")
}

// isZero tells whether f's default is its type's zero value, which help
// leaves out as the flag package does.
func isZero(f *flag.Flag) bool {
	t := reflect.TypeOf(f.Value)
	if t.Kind() != reflect.Pointer {
		return f.DefValue == ""
	}
	zero, ok := reflect.New(t.Elem()).Interface().(flag.Value)
	return ok && f.DefValue == zero.String()
}

var flagErr = regexp.MustCompile(`^invalid (?:boolean )?value "(.*)" for (?:flag )?-([^:]+): (.*)$`)

// describe rewrites the flag package's errors as the rest of muxbench
// words them: the flag with two dashes first, then what is wrong.
func describe(fs *flag.FlagSet, err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		var names []string
		fs.VisitAll(func(f *flag.Flag) {
			if len(f.Name) > 1 {
				names = append(names, f.Name)
			}
		})
		if near := suggest.Nearest(name, names); near != "" {
			return fmt.Sprintf("unknown flag %s: did you mean %s?", dashes(name), dashes(near))
		}
		return fmt.Sprintf("unknown flag %s", dashes(name))
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return fmt.Sprintf("%s needs a value", dashes(name))
	}
	m := flagErr.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	value, name, why := m[1], m[2], m[3]
	// A Value's own error may quote the value again: once is enough.
	why = strings.TrimPrefix(why, fmt.Sprintf("invalid size %q: ", value))
	why = strings.TrimPrefix(why, fmt.Sprintf("invalid rate %q: ", value))
	if f := fs.Lookup(name); f != nil {
		if g, ok := f.Value.(flag.Getter); ok {
			switch g.Get().(type) {
			case time.Duration:
				if _, err := strconv.ParseFloat(value, 64); err == nil {
					why = fmt.Sprintf("a duration needs a unit: use %ss", value)
				} else {
					why = "want a duration such as 500ms, 5s or 2m"
				}
			case int, int64, uint, uint64:
				why = "want a whole number"
				if strings.Contains(m[3], "out of range") {
					why = "out of range"
				}
			case float64:
				why = "want a number"
			case bool:
				why = "want true or false"
			}
		}
	}
	return fmt.Sprintf("%s %s: %s", dashes(name), value, why)
}

// Parse parses args into fs with the flag package silenced, so that a
// mistake is one line rather than the whole usage: --help calls fs.Usage
// and returns flag.ErrHelp; a bad flag returns a usage error that points
// to --help. Flags may come before and after the arguments (report
// res/json --html -o x.html), as far as a "--", after which everything is
// an argument; fs.Args() are the arguments, in order.
func Parse(fs *flag.FlagSet, args []string) error {
	// The flag package prints its error and calls Usage on every
	// mistake; both wait until we know it was --help.
	out, usage := fs.Output(), fs.Usage
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(flagsFirst(fs, args))
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
			PrintFlags(fs.Output(), fs)
		}
		return flag.ErrHelp
	}
	return Usagef("%s (see %s --help)", describe(fs, err), fs.Name())
}

// flagsFirst moves the flags among args, each with its value, before
// the arguments, and a "--" between them, which the flag package
// stops at. A flag is what the flag package takes for one: a word of
// two or more characters starting with a dash; its value is the next
// word unless it is boolean or written --name=value. A flag without the
// value it needs ends the list, for the flag package to refuse.
func flagsFirst(fs *flag.FlagSet, args []string) []string {
	var flags, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			rest = append(rest, args[i+1:]...)
			i = len(args)
		case len(a) < 2 || a[0] != '-':
			rest = append(rest, a)
		default:
			flags = append(flags, a)
			if !needsValue(fs, a) {
				continue
			}
			if i+1 == len(args) {
				return flags
			}
			i++
			flags = append(flags, args[i])
		}
	}
	if len(rest) == 0 {
		return flags
	}
	return append(append(flags, "--"), rest...)
}

// needsValue tells whether the flag word a takes the next word as its
// value.
func needsValue(fs *flag.FlagSet, a string) bool {
	name := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
	if strings.Contains(name, "=") {
		return false
	}
	f := fs.Lookup(name)
	if f == nil {
		return false
	}
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return !ok || !b.IsBoolFlag()
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
