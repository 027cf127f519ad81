package suggest

import "testing"

func TestNearest(t *testing.T) {
	backends := []string{"busywait", "busywait-sleep", "epoll", "epoll-et", "iouring", "iouring-et", "poll", "select", "stdlib", "uring"}
	for _, tc := range []struct {
		name string
		want string
	}{
		{"epol", "epoll"},
		{"EPOLL", "epoll"},
		{"epoll-tt", "epoll-et"},
		{"slect", "select"},
		{"sleect", "select"},   // swapped neighbours
		{"iourign", "iouring"}, // swapped, longer name
		{"stdlb", "stdlib"},
		{"busywiat", "busywait"},
		{"pol", "poll"},
		{"kqueue", ""}, // nothing like it
		{"xyz", ""},    // short and far from everything
		{"epollxx", "epoll"},
		{"epxxxx", ""}, // too many changes
		{"", ""},
		{"busy", "busywait"}, // begins it and busywait-sleep
		{"stdl", "stdlib"},   // begins it alone
		{"iour", "iouring"},  // begins it and iouring-et
		{"se", ""},           // too short to begin one
		{"i", ""},
	} {
		if got := Nearest(tc.name, backends); got != tc.want {
			t.Errorf("Nearest(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
	flags := []string{"conns", "connect-timeout", "duration", "idle"}
	for _, tc := range []struct{ name, want string }{{"conn", "conns"}, {"con", ""}, {"dur", "duration"}, {"connect", "connect-timeout"}, {"co", ""}} {
		if got := Nearest(tc.name, flags); got != tc.want {
			t.Errorf("Nearest(%q) among flags = %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := Nearest("lib", []string{"libev-epoll", "libevent-epoll", "libev-poll"}); got != "" {
		t.Errorf("lib suggests %q, but begins three names", got)
	}
	if got := Nearest("epoll", []string{"epoll"}); got != "" {
		t.Errorf("a known name suggests %q", got)
	}
}

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		d    int
	}{
		{"", "", 0}, {"", "abc", 3}, {"abc", "", 3}, {"kitten", "sitting", 3},
		{"ab", "ba", 1}, {"ca", "abc", 3}, {"µs", "ms", 1}, {"same", "same", 0},
	} {
		if d := distance(tc.a, tc.b); d != tc.d {
			t.Errorf("distance(%q, %q) = %d, want %d", tc.a, tc.b, d, tc.d)
		}
	}
}
