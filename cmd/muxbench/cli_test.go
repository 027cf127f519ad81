package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/muxbench/muxbench/internal/testserver"
	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/result"
)

// Every command's --help: on stdout, exit 0, a "Flags:" heading, each flag
// spelled as the README writes it, and a placeholder that says what the
// value is; about a screen (80 columns) long, its usage line naming the
// main flags; the same as muxbench help COMMAND.
func TestHelpEveryCommand(t *testing.T) {
	flagLine := regexp.MustCompile(`^  (?:-[a-z], )*(-[a-z]|--[a-z][a-z0-9-]+)(?: (\S+))?$`)
	generic := map[string]bool{"string": true, "int": true, "uint": true, "float": true, "value": true,
		"long": true, "second": true, "time": true, "n": true}
	for _, c := range commands {
		if c.name == "help" {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			out, stderr, code := muxbench(t, c.name, "--help")
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			if !strings.Contains(out, "\nFlags:\n") {
				t.Errorf("no Flags: heading:\n%s", out)
			}
			if again, _, code := muxbench(t, "help", c.name); code != 0 || again != out {
				t.Errorf("muxbench help %s: exit %d, and not what --help says:\n%s", c.name, code, again)
			}
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if len(lines) > 66 {
				t.Errorf("%d lines: more than a screen", len(lines))
			}
			for _, line := range lines[1:] {
				if w := len([]rune(strings.ReplaceAll(line, "\t", "    "))); w > 80 {
					t.Errorf("%d columns: %q", w, line)
				}
			}
			flagName := regexp.MustCompile(`(?:^|[ \[])(--?[a-z][a-z0-9-]*)`)
			listed := map[string]bool{}
			for _, line := range lines[1:] {
				if strings.HasPrefix(line, "  -") || strings.HasPrefix(line, "    -") {
					for _, m := range flagName.FindAllStringSubmatch(line, -1) {
						listed[m[1]] = true
					}
				}
			}
			named := flagName.FindAllStringSubmatch(lines[0], -1)
			if len(named) == 0 && c.name != "backends" {
				t.Errorf("usage line %q names no flag", lines[0])
			}
			for _, m := range named {
				if !listed[m[1]] {
					t.Errorf("usage line names %s, which the flags do not list", m[1])
				}
			}
			for _, line := range strings.Split(out, "\n") {
				if !strings.HasPrefix(line, "  -") {
					continue
				}
				m := flagLine.FindStringSubmatch(line)
				if m == nil {
					t.Errorf("flag line %q: want --name or -x, then one placeholder", line)
					continue
				}
				if generic[m[2]] {
					t.Errorf("flag line %q: placeholder %q says nothing", line, m[2])
				}
			}
		})
	}
}

func TestBareHelpAndVersion(t *testing.T) {
	for _, arg := range []string{"--help", "-h"} {
		out, stderr, code := muxbench(t, arg)
		if code != 0 || stderr != "" {
			t.Errorf("%s: exit %d, stderr %q", arg, code, stderr)
		}
		for _, c := range commands {
			if !strings.Contains(out, "  "+c.name+" ") {
				t.Errorf("%s does not list %s:\n%s", arg, c.name, out)
			}
		}
	}
}

// --version names the build: the source revision where the binary
// records one, and otherwise (go run, -buildvcs=false, a git worktree)
// the hash of the binary, which tells two such builds apart. Every result
// records the same.
func TestVersion(t *testing.T) {
	out, stderr, code := muxbench(t, "--version")
	if code != 0 || stderr != "" || !strings.HasPrefix(out, "muxbench ") || strings.Count(out, "\n") != 1 {
		t.Fatalf("--version: exit %d, %q, stderr %q", code, out, stderr)
	}
	version := strings.TrimSpace(strings.TrimPrefix(out, "muxbench "))
	bi, err := buildinfo.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	hashed := "+sha256:" + hex.EncodeToString(sum[:])[:12]
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	switch {
	case rev == "" && bi.Main.Version == "(devel)":
		if version != "devel"+hashed {
			t.Errorf("--version says %q; want devel%s, the binary's hash", version, hashed)
		}
	case rev == "":
	case !strings.Contains(version, rev[:12]):
		t.Errorf("--version says %q; want revision %s in it", version, rev)
	case modified == "true" && !strings.HasSuffix(version, "+dirty"+hashed):
		t.Errorf("--version says %q; want +dirty%s, the binary's hash, after the revision", version, hashed)
	}

	out, stderr, code = muxbench(t, "--backend="+firstBackend(), "--conns=2", "--duration=200ms", "--warmup=100ms",
		"--server-cpus=none", "--gen-cpus=none", "--json=-")
	res, err := result.Decode(strings.NewReader(out))
	if code != 0 || err != nil {
		t.Fatalf("run: exit %d, %v: %s", code, err, stderr)
	}
	if res.Env.Version != version {
		t.Errorf("the result records version %q, --version says %q", res.Env.Version, version)
	}
}

// Numbers and output paths are refused before anything runs.
func TestBadNumbersAndPaths(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--duration=5"}, "use 5s"},
		{[]string{"--warmup=2"}, "use 2s"},
		{[]string{"--duration=2562047h"}, "--duration 2562047h0m0s: want 100ms up to 24h"},
		{[]string{"--duration=50ms"}, "--duration 50ms: want 100ms up to 24h"},
		{[]string{"load", "--target=127.0.0.1:1", "--duration=99ms"}, "--duration 99ms: want 100ms"},
		{[]string{"--duration=0"}, "--duration 0: want more than zero"},
		{[]string{"--percentiles=0"}, "--percentiles 0: want numbers within (0, 100]"},
		{[]string{"--warmup=25h"}, "--warmup 25h0m0s"},
		{[]string{"load", "--target=127.0.0.1:1", "--connect-timeout=1000000h"}, "--connect-timeout"},
		{[]string{"soak", "--duration=2562047h"}, "--duration 2562047h0m0s"},
		{[]string{"--rate=NaN"}, "--rate NaN"},
		{[]string{"--rate=Inf"}, "--rate Inf"},
		{[]string{"--rate=-Inf"}, "--rate -Inf"},
		{[]string{"--rate=1e-9"}, "--rate 1e-09: want 1 to"},
		{[]string{"--rate=0.5"}, "--rate 0.5: want 1 to"},
		{[]string{"--rate=2e8"}, "--rate 2e+08: want 1 to"},
		{[]string{"--rate=10q"}, "--rate 10q"},
		{[]string{"--conns=9223372036854775807", "--idle=9223372036854775807"}, "--conns 9223372036854775807"},
		{[]string{"--idle=9223372036854775807"}, "--idle 9223372036854775807"},
		{[]string{"--conns=99999999999999999999"}, "--conns 99999999999999999999: out of range"},
		{[]string{"load", "--target=127.0.0.1:1", "--rate=NaN"}, "--rate NaN"},
		{[]string{"--json=" + filepath.Join(file, "r.json")}, "--json"},
		{[]string{"serve", "--read-buf=1000g"}, "--read-buf 1000g: want 0 (the default) to 64m"},
		{[]string{"serve", "--sndbuf=3g"}, "--sndbuf 3g"},
		{[]string{"serve", "--rcvbuf=2147483648"}, "--rcvbuf 2g"},
		{[]string{"serve", "--gomaxprocs=100000000"}, "--gomaxprocs 100000000"},
		{[]string{"serve", "--backend=busywait", "--spin-sleep=1h"}, "--spin-sleep 1h0m0s"},
		{[]string{"serve", "--high-water=1000g"}, "--high-water 1000g"},
		{[]string{"--backend=" + firstBackend(), "--read-buf=1000g"}, "--read-buf 1000g"},
		{[]string{"--backend=" + firstBackend(), "--sndbuf=3g"}, "--sndbuf 3g"},
		{[]string{"--backend=poll", "--server-loops=2", "--accept=exclusive"}, "--accept exclusive: poll cannot wake one loop of several"},
		{[]string{"--accept=shared"}, `--accept "shared": want reuseport or exclusive`},
		{[]string{"serve", "--backend=stdlib", "--accept=exclusive"}, "--accept exclusive: stdlib cannot"},
		{[]string{"merge", "-o", filepath.Join(file, "m.json"), file}, "--out"},
		{[]string{"compare", "--out", filepath.Join(file, "res")}, "--out"},
		{[]string{"compare", "--repeat=9223372036854775807"}, "--repeat"},
		{[]string{"compare", "--quiet-wait=-1s", "--plan"}, "--quiet-wait -1s: want 0"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			start := time.Now()
			_, stderr, code := muxbench(t, tc.args...)
			if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and one line with %q", code, stderr, tc.want)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("refused after %v: something ran first", d)
			}
		})
	}
}

// --json - puts the result on stdout and the table on stderr; --rate
// takes 10k.
func TestJSONToStdoutAndRateSuffix(t *testing.T) {
	out, stderr, code := muxbench(t, "--backend="+firstBackend(), "--conns=4", "--duration=1s", "--warmup=100ms",
		"--rate=2k", "--server-cpus=none", "--gen-cpus=none", "--json=-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	res, err := result.Decode(strings.NewReader(out))
	if err != nil {
		t.Fatalf("stdout is not a result: %v\n%s", err, out)
	}
	if res.TargetRate != 2000 || res.Params.Backend != firstBackend() {
		t.Errorf("target rate %g, backend %q; want 2000 and %s", res.TargetRate, res.Params.Backend, firstBackend())
	}
	if !strings.Contains(stderr, "rt/s") || !strings.Contains(stderr, "µs/rt") {
		t.Errorf("no table on stderr:\n%s", stderr)
	}
}

// --json - with several backends writes NDJSON: a result per line.
func TestJSONToStdoutNDJSON(t *testing.T) {
	backends := firstBackend() + "," + poller.Stdlib
	out, stderr, code := muxbench(t, "--backend="+backends, "--conns=2", "--duration=300ms", "--warmup=100ms",
		"--server-cpus=none", "--gen-cpus=none", "--json=-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines on stdout, want a result on each of 2:\n%s", len(lines), out)
	}
	for i, want := range []string{firstBackend(), poller.Stdlib} {
		if res, err := result.Decode(strings.NewReader(lines[i])); err != nil || res.Params.Backend != want {
			t.Errorf("line %d: %v (want %s's result)", i+1, err, want)
		}
	}
}

// serve starts `muxbench serve` with a token and returns its ready line.
func serve(t *testing.T, token string) (listen, control string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	srv := exec.CommandContext(ctx, binary, "serve", "--backend="+firstBackend(), "--token="+token)
	stdout, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var srvErr bytes.Buffer
	srv.Stderr = &srvErr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		srv.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("no ready line: %v: %s", err, srvErr.String())
	}
	var ready struct{ Listen, Control string }
	if err := json.Unmarshal([]byte(line), &ready); err != nil {
		t.Fatalf("ready line %q: %v", line, err)
	}
	return ready.Listen, ready.Control
}

// load --control: a token too short to be any server's is bad input; a
// run the server refuses (a wrong token) is a failed one, found before
// any load; the result names the server's backend as the server reports
// it.
func TestLoadControl(t *testing.T) {
	const right = "the-right-token-0123"
	listen, ctl := serve(t, right)
	for _, c := range []struct {
		token string
		code  int
		say   string
	}{{"short", 2, "--token: a token of 5 bytes"}, {"the-wrong-token-0123", 1, "wrong token"}} {
		_, stderr, code := muxbench(t, "load", "--target="+listen, "--control="+ctl, "--token="+c.token,
			"--conns=2", "--duration=1s", "--gen-cpus=none")
		if code != c.code || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, c.say) || strings.Contains(stderr, ": :") {
			t.Errorf("--token %s: exit %d, stderr %q; want %d and one line saying %q", c.token, code, stderr, c.code, c.say)
		}
	}
	out, stderr, code := muxbench(t, "load", "--target="+listen, "--control="+ctl, "--token="+right,
		"--conns=2", "--duration=1s", "--warmup=100ms", "--gen-cpus=none", "--json=-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	res, err := result.Decode(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if res.Params.Backend != firstBackend() || res.Params.Target != listen {
		t.Errorf("backend %q target %q; want %s at %s", res.Params.Backend, res.Params.Target, firstBackend(), listen)
	}
}

// A load that fails names its target, never an empty backend.
func TestLoadErrorNamesTarget(t *testing.T) {
	closed := testserver.ClosedAddr(t)
	_, stderr, _ := muxbench(t, "load", "--target="+closed, "--duration=1s")
	if strings.Contains(stderr, ": :") || !strings.Contains(stderr, "muxbench load: ") {
		t.Errorf("stderr %q", stderr)
	}
}

// At one connection the generator waits in a blocking read unless told
// not to, and the result says which it did.
func TestGenBlockingReadFlag(t *testing.T) {
	listen, _ := serve(t, "")
	for _, tc := range []struct {
		flag     string
		blocking bool
	}{{"--gen-blocking-read=true", true}, {"--gen-blocking-read=false", false}} {
		out, stderr, code := muxbench(t, "load", "--target="+listen, "--conns=1", "--duration=500ms",
			"--warmup=100ms", "--gen-cpus=none", tc.flag, "--json=-")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", tc.flag, code, stderr)
		}
		res, err := result.Decode(strings.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS != "linux" {
			tc.blocking = false // a raw blocking read is Linux's only
		}
		off := strings.HasSuffix(tc.flag, "=false")
		if res.Generator.BlockingRead != tc.blocking || (res.Params.Extra["gen_blocking_read"] == "false") != off {
			t.Errorf("%s: blocking_read %v, params %v", tc.flag, res.Generator.BlockingRead, res.Params.Extra)
		}
	}
}
