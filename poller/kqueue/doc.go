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
package kqueue
