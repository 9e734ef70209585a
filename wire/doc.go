// Package wire defines every message gridlock sends, how messages are framed
// on a stream, the limits on every frame and field, and the HMAC
// authentication of beacons and peer links.
//
// Messages are encoded by a hand-written binary codec (a type byte, then
// uvarints, fixed-size integers and length-prefixed strings, see encode.go)
// because it measured fastest on one core: an encode and decode of a move
// takes about 0.13 µs against 4 µs for encoding/json and 1.9 µs for
// encoding/gob, and of a 9×9 room with 200 chat lines about 75 µs against
// 780 µs and 130 µs (BenchmarkMove, BenchmarkRoomSnapshot).
//
// It owns the vocabulary the processes share: client messages (HELLO,
// commands and their answers, events, room states, cluster views), peer
// messages (beacons, the Bully election, the view change, APPEND and its
// acknowledgement, snapshots), log entries and notices. Every decoder
// checks every field against its limit and answers bad input with a
// DecodeError that says which field; every encoder refuses what the
// decoder would refuse. It does no I/O beyond reading and writing frames
// on a stream it is given. A process with many clients of one room can have
// their Readers share each push's decoding (PushCache).
package wire
