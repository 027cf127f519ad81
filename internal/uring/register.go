//go:build linux

package uring

import (
	"fmt"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

func (r *Ring) register(op uint32, arg unsafe.Pointer, n uint32) error {
	_, _, e := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(r.fd), uintptr(op), uintptr(arg), uintptr(n), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// BufRing is a provided-buffer ring (IORING_REGISTER_PBUF_RING, 5.19):
// count buffers of size bytes each, in memory of our own that the kernel
// picks from for operations submitted with SQEBufferSelect and the ring's
// group id, and that we hand back with Recycle once their data is used.
type BufRing struct {
	r     *Ring
	group uint16
	size  int
	mask  uint16
	ring  []byte // the io_uring_buf entries; the tail overlays entry 0's resv
	data  []byte // count*size bytes, buffer i at i*size
	local uint16 // our tail, published by Publish
}

// NewBufRing registers count buffers (a power of two, at most 32768) of
// size bytes as group, all of them given to the kernel.
func (r *Ring) NewBufRing(group uint16, count, size int) (*BufRing, error) {
	if count <= 0 || count > 1<<15 || count&(count-1) != 0 {
		return nil, fmt.Errorf("uring: buffer ring of %d entries: not a power of two up to 32768", count)
	}
	ring, err := unix.Mmap(-1, 0, count*16, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANONYMOUS|unix.MAP_PRIVATE|unix.MAP_POPULATE)
	if err != nil {
		return nil, fmt.Errorf("uring: buffer ring memory: %w", err)
	}
	data, err := unix.Mmap(-1, 0, count*size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANONYMOUS|unix.MAP_PRIVATE)
	if err != nil {
		unix.Munmap(ring)
		return nil, fmt.Errorf("uring: buffer memory: %w", err)
	}
	reg := bufReg{ringAddr: uint64(uintptr(unsafe.Pointer(&ring[0]))), ringEntries: uint32(count), bgid: group}
	if err := r.register(registerPbufRing, unsafe.Pointer(&reg), 1); err != nil {
		unix.Munmap(ring)
		unix.Munmap(data)
		return nil, fmt.Errorf("IORING_REGISTER_PBUF_RING: %w", err)
	}
	b := &BufRing{r: r, group: group, size: size, mask: uint16(count - 1), ring: ring, data: data}
	for i := 0; i < count; i++ {
		b.Recycle(uint16(i))
	}
	b.Publish()
	return b, nil
}

// Group is the buffer group id for SQE.BufIndex.
func (b *BufRing) Group() uint16 { return b.group }

// Size is each buffer's size.
func (b *BufRing) Size() int { return b.size }

// Buf is buffer id's memory.
func (b *BufRing) Buf(id uint16) []byte {
	off := int(id) * b.size
	return b.data[off : off+b.size : off+b.size]
}

// Drop gives buffer id's pages back to the kernel, which fills them
// again with zeros when next used: memory the ring no longer holds at
// its peak. Only while the buffer is ours, before Recycle.
func (b *BufRing) Drop(id uint16) error {
	return unix.Madvise(b.Buf(id), unix.MADV_DONTNEED)
}

// Recycle queues buffer id for the kernel again; Publish makes it visible.
func (b *BufRing) Recycle(id uint16) {
	e := b.ring[int(b.local&b.mask)*16:]
	*(*uint64)(unsafe.Pointer(&e[0])) = uint64(uintptr(unsafe.Pointer(&b.data[int(id)*b.size])))
	*(*uint32)(unsafe.Pointer(&e[8])) = uint32(b.size)
	*(*uint16)(unsafe.Pointer(&e[12])) = id
	b.local++
}

// Publish hands the recycled buffers to the kernel (release).
func (b *BufRing) Publish() {
	// The tail is the upper half of entry 0's bid word (little-endian):
	// store the whole word, its lower half unchanged, which only we write.
	p := (*uint32)(unsafe.Pointer(&b.ring[12]))
	atomic.StoreUint32(p, *p&0xffff|uint32(b.local)<<16)
}

// Close unregisters the buffers and frees their memory.
func (b *BufRing) Close() error {
	reg := bufReg{bgid: b.group}
	err := b.r.register(unregisterPbufRing, unsafe.Pointer(&reg), 1)
	unix.Munmap(b.ring)
	unix.Munmap(b.data)
	return err
}
