package compare

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// parseFlags parses args with usage printed only when asked for: --help
// gives exit status 0, a bad flag one line on stderr and status 2.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) (code int, done bool) {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.SetOutput(stderr)
	switch {
	case err == nil:
		return 0, false
	case errors.Is(err, flag.ErrHelp):
		fs.Usage()
		return 0, true
	}
	fmt.Fprintf(stderr, "muxbench %s: %v (see muxbench %s --help)\n", fs.Name(), err, fs.Name())
	return 2, true
}
