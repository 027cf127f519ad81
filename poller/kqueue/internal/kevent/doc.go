// Package kevent is the part of kqueue(2) the backend uses, one API over
// two providers: golang.org/x/sys/unix on darwin and the BSDs, and on
// Linux, under the build tag libkqueue, the libkqueue library through
// cgo (found with pkg-config), which implements kqueue over epoll in
// user space. libkqueue's struct kevent has the layout of darwin/amd64's
// (32 bytes), which Check verifies before the first call.
package kevent
