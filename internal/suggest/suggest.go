// Package suggest finds, for a name nobody knows, the known name it was
// most likely meant to be: the "did you mean" of a mistyped backend,
// command or flag.
package suggest

import "strings"

// Nearest is the name among known closest to name, or "" when none is
// close enough to be a slip of the keyboard: a letter or two wrong,
// missing, extra or swapped (one for a name of up to five letters).
// Case does not count; of names equally close the first is taken. Failing
// that, of three letters or more, name may begin the name meant (--dur
// for --duration): the names it begins must all begin with the shortest
// of them (busy: busywait, not busywait-sleep), which is taken.
func Nearest(name string, known []string) string {
	if n := nearest(name, known); n != "" {
		return n
	}
	if len([]rune(name)) < 3 {
		return ""
	}
	shortest := ""
	var starts []string
	for _, k := range known {
		if k != name && strings.HasPrefix(strings.ToLower(k), strings.ToLower(name)) {
			starts = append(starts, k)
			if shortest == "" || len(k) < len(shortest) {
				shortest = k
			}
		}
	}
	for _, k := range starts {
		if !strings.HasPrefix(k, shortest) {
			return ""
		}
	}
	return shortest
}

func nearest(name string, known []string) string {
	limit := 1
	if len([]rune(name)) > 5 {
		limit = 2
	}
	best, bestD := "", limit+1
	for _, k := range known {
		if k == name {
			continue
		}
		if d := distance(strings.ToLower(name), strings.ToLower(k)); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// distance is the optimal string alignment distance between a and b:
// the edits (insertion, deletion, substitution, or a swap of two
// neighbours) that turn one into the other.
func distance(a, b string) int {
	s, t := []rune(a), []rune(b)
	// Three rows of the table: two back for a swap.
	prev2 := make([]int, len(t)+1)
	prev := make([]int, len(t)+1)
	cur := make([]int, len(t)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(s); i++ {
		cur[0] = i
		for j := 1; j <= len(t); j++ {
			cost := 1
			if s[i-1] == t[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && s[i-1] == t[j-2] && s[i-2] == t[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(t)]
}
