// Package protocol holds the suite's protocols: the echo server every
// benchmark talks to, the ping-pong client of the seed scenario, and the
// pattern of the messages sent to the echo, by which every byte that
// comes back is checked.
package protocol
