// Package kqueue is the kqueue(2) backend of darwin and the BSDs: like
// epoll, the kernel keeps the interest list, so a wait costs in proportion
// to the ready descriptors, not the registered ones.
//
// kqueue watches filters, not descriptors: one for reading, one for
// writing. A descriptor that is readable and writable comes back as two
// kernel events; Wait merges them into one poller.Event per descriptor.
//
// A descriptor registered with no interest has no filter, so unlike epoll
// it reports nothing, not even a hang-up: kqueue has no filter for that
// alone.
//
// Where kqueue's own semantics differ from epoll's, the backend reports
// what poller's contract says (see flags and change):
//   - a pipe whose reader has gone may refuse a write filter (EPIPE on
//     FreeBSD, DragonFly and older darwin, EBADF on NetBSD); Add succeeds
//     and Wait reports the writer Writable|Error in the filter's place;
//   - the read filter's end-of-file does not make a descriptor Writable;
//   - the write filter's end-of-file, which FreeBSD and darwin also set
//     after our own SHUT_WR, is HangUp only with a socket error.
//
// # Linux, through libkqueue
//
// Built with the tag libkqueue on Linux, the backend runs on libkqueue,
// which implements kqueue over epoll in user space (package
// internal/kevent, cgo; pkg-config must find libkqueue). Its figures are
// epoll's plus a translation layer, so poller.Info.Emulation names it and
// the comparison leaves it out: it is for running this package's code,
// not for measuring kqueue. libkqueue differs from the BSDs' kqueue in
// these ways, none of which the conformance suite fails on:
//   - a write filter on a widowed pipe is added, not refused with EPIPE,
//     and reports end-of-file at once (Writable, as here on the BSDs);
//   - a pipe's write end-of-file carries EIO in fflags (HangUp|Error);
//   - our own SHUT_WR sets no end-of-file on the write filter;
//   - a socket's error comes from SO_ERROR, which libkqueue reads and so
//     clears (a read then returns end of stream, not the error), and is
//     a Linux errno;
//   - a descriptor closed without its filters deleted leaves libkqueue's
//     state for that number behind (epoll drops it with the file), so
//     Remove before close matters more than on the BSDs;
//   - a timeout finer than a millisecond is waited in a separate
//     high-resolution call before epoll_wait (older versions rounded it
//     down to the millisecond).
package kqueue
