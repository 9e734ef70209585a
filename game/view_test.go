package game

import (
	"strconv"
	"testing"
)

func chatEvent(n int) Event {
	return Event{Kind: EvChat, Room: MainRoom, Line: &ChatLine{N: uint64(n), From: "p" + strconv.Itoa(n%7), Text: "line " + strconv.Itoa(n)}}
}

// wantChat checks that v holds lines first..last, in order.
func wantChat(t *testing.T, v *RoomView, first, last int) {
	t.Helper()
	if len(v.Chat) != last-first+1 {
		t.Fatalf("%d lines, want %d..%d", len(v.Chat), first, last)
	}
	for i, ln := range v.Chat {
		if n := first + i; ln.N != uint64(n) || ln.Text != "line "+strconv.Itoa(n) {
			t.Fatalf("line %d is %+v, want %d", i, ln, n)
		}
	}
}

// A view with a full history takes chat lines without allocating, keeps
// the newest in order, and a copy of it with a chat of its own (as an app
// clones the room) is not written over by the view it came from.
func TestViewChatKeepsHistoryWithoutAllocating(t *testing.T) {
	for _, limit := range []int{1, 2, 3, 200} {
		t.Run(strconv.Itoa(limit), func(t *testing.T) {
			v := &RoomView{Name: MainRoom, ChatHistory: limit}
			n := 0
			for range 3*limit + 5 {
				n++
				v.ApplyEvent(chatEvent(n))
				wantChat(t, v, max(1, n-limit+1), n)
			}
			clone := *v
			clone.Chat = append([]ChatLine(nil), v.Chat...)
			cloneLast := n
			// Two calls (AllocsPerRun warms up with one) of 4*limit lines.
			evs := make([]Event, 8*limit)
			for i := range evs {
				evs[i] = chatEvent(n + 1 + i)
			}
			allocs := testing.AllocsPerRun(1, func() {
				for _, ev := range evs[:4*limit] {
					v.ApplyEvent(ev)
				}
				evs = evs[4*limit:]
				n += 4 * limit
			})
			wantChat(t, v, n-limit+1, n)
			if limit > 1 && allocs != 0 {
				t.Fatalf("%.0f allocations over %d lines with a full history", allocs, 4*limit)
			}
			for i := range 3*limit + 1 {
				clone.ApplyEvent(chatEvent(cloneLast + 1 + i))
				v.ApplyEvent(chatEvent(n + 1 + i))
			}
			wantChat(t, &clone, cloneLast+3*limit+2-limit, cloneLast+3*limit+1)
			wantChat(t, v, n+3*limit+2-limit, n+3*limit+1)
		})
	}
}
