package sysstat

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// peakEnv makes the test binary print its own peak RSS and exit.
const peakEnv = "SYSSTAT_TEST_PRINT_PEAK"

func TestMain(m *testing.M) {
	if os.Getenv(peakEnv) == "1" {
		p, err := Process()
		if err != nil {
			os.Exit(1)
		}
		os.Stdout.WriteString(strconv.FormatInt(p.MaxRSS, 10))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// A child's peak is its own, not its parent's: getrusage's ru_maxrss
// starts from the parent's RSS at fork and survives execve.
func TestChildPeakIsItsOwn(t *testing.T) {
	const big = 128 << 20
	ballast := make([]byte, big)
	for i := range ballast {
		ballast[i] = 1
	}
	rss, err := RSS()
	if errors.Is(err, ErrUnavailable) {
		t.Skip(err)
	}
	if err != nil || rss < big {
		t.Fatalf("RSS %d, %v, after touching %d bytes", rss, err, big)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), peakEnv+"=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	peak, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil {
		t.Fatalf("child printed %q", out)
	}
	if peak <= 0 || peak > rss/2 {
		t.Errorf("child's peak RSS %d bytes, parent's RSS %d: the parent's counted as the child's", peak, rss)
	}
	ballast[0] = ballast[len(ballast)-1] // keep it alive past the child
}

func TestParseStat(t *testing.T) {
	line := "4242 (a) b) (c) S 1 2 3 4 5 6 7 8 9 10 250 31 0 0 20 0 1 0 100 1000 10 18446744073709551615\n"
	u, s, err := parseStat([]byte(line))
	if err != nil || u != 250 || s != 31 {
		t.Errorf("parseStat = %d, %d, %v; want 250, 31", u, s, err)
	}
	for _, bad := range []string{"", "1 (x S 1 2", "1 (x) S 1 2 3", "1 (x) S 1 2 3 4 5 6 7 8 9 10 u s 0"} {
		if _, _, err := parseStat([]byte(bad)); err == nil {
			t.Errorf("parseStat(%q) accepted", bad)
		}
	}
}

func TestClockTicks(t *testing.T) {
	if hz := clockTicks(); hz <= 0 || hz > 10000 {
		t.Errorf("USER_HZ = %d", hz)
	}
}
