package main

import (
	"path/filepath"
	"testing"
)

func TestJSONPath(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		file    string
		several bool
		want    string
	}{
		{"out.json", false, "out.json"},
		{"out.json", true, "out-epoll.json"},
		{"res/out", true, "res/out-epoll"},
		{dir, false, filepath.Join(dir, "epoll.json")},
		{dir + "/new/", true, filepath.Join(dir, "new", "epoll.json")},
	} {
		if got := jsonPath(tc.file, "epoll", tc.several); got != tc.want {
			t.Errorf("jsonPath(%q, several=%v) = %q, want %q", tc.file, tc.several, got, tc.want)
		}
	}
}
