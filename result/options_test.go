package result

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// Files written before the options were typed still read, as numbers.
func TestServerOptionsLegacyStrings(t *testing.T) {
	const file = `{"schema":"muxbench/result/v1","params":{"backend":"epoll"},"window_sec":1,
	"server":{"backend":"epoll","options":{"cpus":"0","edge_triggered":"true","gomaxprocs":"2","read_buf":"65536",
	"rcvbuf":"4096","spin_sleep":"100µs","inject_short_writes":"0.5","seed":"7"}}}`
	res, err := Decode(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	want := ServerOptions{CPUs: "0", EdgeTriggered: true, GOMAXPROCS: 2, ReadBuf: 65536, RcvBuf: 4096,
		SpinSleepNs: int64(100 * time.Microsecond), InjectShortWrites: 0.5, FaultSeed: 7}
	if got := res.Server.Options; !reflect.DeepEqual(got, want) {
		t.Errorf("options %+v, want %+v", got, want)
	}
	for _, bad := range []string{`{"read_buf":"lots"}`, `{"colour":"blue"}`, `{"sndbuf_bytes":"8192","x":1}`} {
		var o ServerOptions
		if err := o.UnmarshalJSON([]byte(bad)); err == nil {
			t.Errorf("%s accepted as %+v", bad, o)
		}
	}
	var o ServerOptions
	if err := o.UnmarshalJSON([]byte(`{"sndbuf_bytes":8192,"rcvbuf_bytes":4608}`)); err != nil || o.SndBuf != 8192 || o.RcvBuf != 4608 {
		t.Errorf("typed options: %+v, %v", o, err)
	}
}
