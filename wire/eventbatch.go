package wire

import (
	"encoding/binary"

	"github.com/gridlock-game/gridlock/game"
)

// EventBatch builds an Events frame from events encoded one at a time, so
// that a node encodes a room's event once and frames it for every member:
// the frame of the whole batch, or of the events from the k-th on, is the
// same bytes an Events message with those events encodes to.
//
// A frame may leave out players' chat lines, the oldest first, to keep at
// most maxChat of them (maxChat < 0: all), but never those of the player
// named keep ("": none kept for their speaker). System lines and all other
// events always go.
type EventBatch struct {
	buf  []byte   // the events' encodings, back to back
	offs []int    // where each event starts in buf
	from []string // who said each player's chat line; "" for any other event
}

// Add encodes ev at the end of the batch. It fails, and adds nothing, for an
// event that an Events message could not carry (a malformed puzzle).
func (b *EventBatch) Add(ev *game.Event) error {
	if ev.Puzzle != nil {
		if err := checkPuzzle(TEvents, ev.Puzzle); err != nil {
			return err
		}
	}
	from := ""
	if ev.Kind == game.EvChat && ev.Line != nil {
		from = ev.Line.From
	}
	b.offs = append(b.offs, len(b.buf))
	b.from = append(b.from, from)
	b.buf = appendEvent(b.buf, ev)
	return nil
}

// AddFrom adds the events of o from its k-th on, as AppendFrame would frame
// them with maxChat and keep.
func (b *EventBatch) AddFrom(o *EventBatch, k, maxChat int, keep string) {
	if k < len(o.offs) && o.skip(k, maxChat, keep) == 0 {
		base := len(b.buf) - o.offs[k]
		for _, off := range o.offs[k:] {
			b.offs = append(b.offs, off+base)
		}
		b.from = append(b.from, o.from[k:]...)
		b.buf = append(b.buf, o.buf[o.offs[k]:]...)
		return
	}
	o.each(k, maxChat, keep, func(i, start, end int) {
		b.offs = append(b.offs, len(b.buf))
		b.from = append(b.from, o.from[i])
		b.buf = append(b.buf, o.buf[start:end]...)
	})
}

// Len is the number of events in the batch.
func (b *EventBatch) Len() int { return len(b.offs) }

// Bytes is the size of the events' encodings.
func (b *EventBatch) Bytes() int { return len(b.buf) }

// Cap is the memory the batch holds for events, in bytes.
func (b *EventBatch) Cap() int { return cap(b.buf) }

// Reset empties the batch and keeps its memory.
func (b *EventBatch) Reset() {
	clear(b.from)
	b.buf, b.offs, b.from = b.buf[:0], b.offs[:0], b.from[:0]
}

// AppendFrame appends an Events frame with index and the batch's events
// from the k-th on, with at most maxChat players' chat lines but keep's.
func (b *EventBatch) AppendFrame(dst []byte, index uint64, k, maxChat int, keep string) []byte {
	k = min(k, len(b.offs))
	count := 0
	skip := b.skip(k, maxChat, keep)
	if skip == 0 {
		count = len(b.offs) - k
	} else {
		b.each(k, maxChat, keep, func(int, int, int) { count++ })
	}
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0, byte(TEvents))
	dst = binary.AppendUvarint(dst, index)
	dst = binary.AppendUvarint(dst, uint64(count))
	switch {
	case k == len(b.offs):
	case skip == 0:
		dst = append(dst, b.buf[b.offs[k]:]...)
	default:
		b.each(k, maxChat, keep, func(_, s, e int) { dst = append(dst, b.buf[s:e]...) })
	}
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-4))
	return dst
}

// LeftOut calls f with the speaker of each line a frame from the k-th event
// on with maxChat (and no one kept) leaves out.
func (b *EventBatch) LeftOut(k, maxChat int, f func(from string)) {
	skip := b.skip(k, maxChat, "")
	for i := k; i < len(b.offs) && skip > 0; i++ {
		if b.from[i] != "" {
			f(b.from[i])
			skip--
		}
	}
}

// skip is how many chat lines from the k-th event on are left out.
func (b *EventBatch) skip(k, maxChat int, keep string) int {
	if maxChat < 0 {
		return 0
	}
	n := 0
	for _, f := range b.from[k:] {
		if f != "" && f != keep {
			n++
		}
	}
	return max(0, n-maxChat)
}

// each calls f with the index and the encoding's bounds of every event from
// the k-th on that a frame with maxChat and keep carries, in order.
func (b *EventBatch) each(k, maxChat int, keep string, f func(i, start, end int)) {
	if k >= len(b.offs) {
		return
	}
	skip := b.skip(k, maxChat, keep)
	if skip == 0 {
		for i := k; i < len(b.offs); i++ {
			f(i, b.offs[i], b.end(i))
		}
		return
	}
	for i := k; i < len(b.offs); i++ {
		if skip > 0 && b.from[i] != "" && b.from[i] != keep {
			skip--
			continue
		}
		f(i, b.offs[i], b.end(i))
	}
}

func (b *EventBatch) end(i int) int {
	if i+1 < len(b.offs) {
		return b.offs[i+1]
	}
	return len(b.buf)
}
