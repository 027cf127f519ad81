package peer

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/muxbench/muxbench/poller"
)

// Flags collects a repeatable --peer NAME=COMMAND (see Command): each
// adds a user's own echo server to a run, under a name of its own.
type Flags []*Peer

// FlagUsage describes --peer for a command's help.
const FlagUsage = "also measure your own echo server, `NAME=COMMAND` (repeatable): COMMAND is split at spaces and run without a shell; " +
	"where it holds {port} (and {host}) they are given, and it must listen there; otherwise it prints {\"listen\":\"HOST:PORT\"} on stdout once it listens"

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

func (f *Flags) String() string {
	var s []string
	for _, p := range *f {
		s = append(s, p.Name+"="+strings.Join(p.line, " "))
	}
	return strings.Join(s, ", ")
}

// Set adds one NAME=COMMAND. NAME names result files, so it is letters,
// digits, '.', '_' and '-', and no name the catalogue has.
func (f *Flags) Set(v string) error {
	name, command, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("want NAME=COMMAND, e.g. mine='./echo -p {port}'")
	}
	if !nameRE.MatchString(name) {
		return fmt.Errorf("name %q: want letters, digits, '.', '_' or '-'", name)
	}
	_, err := poller.Resolve(name) // a peer's name is known too
	taken := !errors.Is(err, poller.ErrUnknown) || name == "all" || name == poller.PeersKeyword
	for _, p := range *f {
		taken = taken || p.Name == name
	}
	if taken {
		return fmt.Errorf("name %q is taken: pick another", name)
	}
	p, err := Command(name, command)
	if err != nil {
		return err
	}
	*f = append(*f, p)
	return nil
}
