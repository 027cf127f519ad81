//go:build unix

package rawio

// Waiter makes an event loop's blocking waits (epoll_pwait, ppoll,
// pselect6, io_uring_enter) system calls the Go runtime does not see
// while the loop is busy, and ordinary ones once it idles.
//
// A raw wait keeps the loop's P: no entersyscall and exitsyscall, and no
// sysmon handing the P off during a wait over 20 µs, which together cost
// a busy loop about a tenth of its CPU. But to the runtime the goroutine
// then runs without end, so sysmon asks to preempt it (SIGURG) once it has
// run 10 ms on one time slice (runtime/proc.go, retake), and each signal
// ends the wait with EINTR: an idle loop wakes 30 to 50 times a second,
// and poll and select scan every descriptor each time. So a wait that
// follows an interrupted one is ordinary: the runtime sees the goroutine
// in a system call, sends it no preemption and stops the world without
// it. The first wait that ends otherwise makes the next one raw again.
// Syscall6, Linux only, makes the waits.
type Waiter struct {
	// Raw asks for raw waits; without it every wait is ordinary.
	Raw         bool
	interrupted bool
}
