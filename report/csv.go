package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/muxbench/muxbench/result"
)

// Run is one result as a reporter of several reads it: the file it came
// from, and why it failed ("" for a data point).
type Run struct {
	File, Failed string
	*result.Result
}

// csvPoint are the columns before the metrics: which run, of which point.
var csvPoint = []struct {
	name string
	get  func(Run) string
}{
	{"file", func(r Run) string { return text(r.File) }},
	{"backend", func(r Run) string { return text(Label(r.Params)) }},
	{"sweep", func(r Run) string { return text(r.Params.Sweep) }},
	{"repeat", func(r Run) string { return itoa(r.Params.Repeat) }},
	{"conns", func(r Run) string { return itoa(r.Params.Conns) }},
	{"idle", func(r Run) string { return itoa(r.Params.Idle) }},
	{"msg_size_bytes", func(r Run) string { return itoa(r.Params.MsgSize) }},
	{"sndbuf_bytes", func(r Run) string { return itoa(r.Params.SndBuf) }},
	{"rate_per_sec", func(r Run) string { return num(r.OfferedRate()) }},
	{"server_loops", func(r Run) string { return itoa(r.ServerLoops()) }},
	{"hostname", func(r Run) string { return text(r.Env.Hostname) }},
	{"window_start", func(r Run) string { return r.WindowStart.UTC().Format("2006-01-02T15:04:05.000Z") }},
	{"partial", func(r Run) string { return strconv.FormatBool(r.Partial) }},
	{"noisy", func(r Run) string { return strconv.FormatBool(Noisy(r.Result)) }},
	{"failed", func(r Run) string { return text(r.Failed) }},
}

// CSV writes one row per run: which run and point it is, then a column
// per metric, named with its unit as the result file's fields are
// ("p99_ns"), each figure as measured, unformatted; empty where the run
// lacks it.
func CSV(w io.Writer, runs []Run) error {
	cw := csv.NewWriter(w)
	var head []string
	for _, c := range csvPoint {
		head = append(head, c.name)
	}
	for _, m := range Metrics {
		head = append(head, m.Column())
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, r := range runs {
		var row []string
		for _, c := range csvPoint {
			row = append(row, c.get(r))
		}
		for _, m := range Metrics {
			v, ok := m.Get(r.Result)
			cell := ""
			if ok {
				cell = num(v)
			}
			row = append(row, cell)
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("writing CSV: %w", err)
	}
	return nil
}

// text keeps a string from a result file from reading as a formula in a
// spreadsheet.
func text(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func itoa(n int) string { return strconv.Itoa(n) }

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
