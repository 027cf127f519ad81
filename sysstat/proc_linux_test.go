package sysstat

import "testing"

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
