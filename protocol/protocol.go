// Package protocol holds the suite's protocols: the echo server every
// benchmark talks to and the ping-pong client of the seed scenario.
package protocol
