package wire

import (
	"bytes"
	"reflect"
	"sync"
	"testing"

	"github.com/gridlock-game/gridlock/game"
)

func pushFrame(t *testing.T, index uint64) []byte {
	t.Helper()
	b, err := AppendFrame(nil, &Events{Index: index, Events: []game.Event{
		{Kind: game.EvPlaced, Room: "main", Name: "alice", Row: 1, Col: 2, Digit: 3, Points: 10},
		{Kind: game.EvChat, Room: "main", Line: &game.ChatLine{N: 4, From: "bob", Text: "hi"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Readers that share a cache get one decoding of the same bytes, equal to
// what each would have decoded alone; other frames decode as before.
func TestPushCacheSharesOneDecoding(t *testing.T) {
	cache := NewPushCache(ServerLimits)
	ping, _ := AppendFrame(nil, &Ping{Nonce: 1})
	stream := append(append(pushFrame(t, 7), ping...), pushFrame(t, 8)...)
	var got [2][]Message
	for i := range got {
		r := NewReader(bytes.NewReader(stream), ServerLimits.MaxFrame)
		r.SharePushes(cache)
		for range 3 {
			m, err := r.ReadMessage(ServerLimits)
			if err != nil {
				t.Fatal(err)
			}
			got[i] = append(got[i], m)
		}
	}
	alone, err := NewReader(bytes.NewReader(stream), ServerLimits.MaxFrame).ReadMessage(ServerLimits)
	if err != nil {
		t.Fatal(err)
	}
	if got[0][0] != got[1][0] || got[0][2] != got[1][2] {
		t.Fatal("the same push was decoded twice")
	}
	if got[0][1] == got[1][1] {
		t.Fatal("a ping went through the cache")
	}
	if !reflect.DeepEqual(got[0][0], alone) {
		t.Fatalf("shared %+v, alone %+v", got[0][0], alone)
	}
	if got[0][0].(*Events).Index != 7 || got[0][2].(*Events).Index != 8 {
		t.Fatalf("frames mixed up: %+v %+v", got[0][0], got[0][2])
	}
	// Read with other limits, a reader decodes for itself.
	r := NewReader(bytes.NewReader(stream), ServerLimits.MaxFrame)
	r.SharePushes(cache)
	m, err := r.ReadMessage(ClientLimits)
	if err != nil {
		t.Fatal(err)
	}
	if m == got[0][0] {
		t.Fatal("a reader with other limits got the cache's message")
	}
}

// A malformed push is an error for every reader, never a cached message.
func TestPushCacheKeepsNoErrors(t *testing.T) {
	cache := NewPushCache(ServerLimits)
	bad := pushFrame(t, 7)
	bad = bad[:len(bad)-1] // cut the last byte
	bad[3]--               // and say so in the length
	for range 2 {
		r := NewReader(bytes.NewReader(bad), ServerLimits.MaxFrame)
		r.SharePushes(cache)
		if m, err := r.ReadMessage(ServerLimits); err == nil || CodeOf(err) != ErrMalformed {
			t.Fatalf("got %v, %v; want a malformed-frame error", m, err)
		}
	}
	if len(cache.m) != 0 {
		t.Fatalf("cache holds %d frames after errors", len(cache.m))
	}
}

// The cache holds at most pushCacheFrames frames, the newest.
func TestPushCacheBounded(t *testing.T) {
	cache := NewPushCache(ServerLimits)
	var stream []byte
	for i := range 3 * pushCacheFrames {
		stream = append(stream, pushFrame(t, uint64(i+1))...)
	}
	r := NewReader(bytes.NewReader(stream), ServerLimits.MaxFrame)
	r.SharePushes(cache)
	for i := range 3 * pushCacheFrames {
		m, err := r.ReadMessage(ServerLimits)
		if err != nil {
			t.Fatal(err)
		}
		if ix := m.(*Events).Index; ix != uint64(i+1) {
			t.Fatalf("frame %d decoded as index %d", i+1, ix)
		}
	}
	if len(cache.m) != pushCacheFrames || len(cache.ring) != pushCacheFrames {
		t.Fatalf("cache holds %d frames (ring %d), want %d", len(cache.m), len(cache.ring), pushCacheFrames)
	}
	for _, k := range cache.ring {
		if cache.m[k].Index <= 2*pushCacheFrames {
			t.Fatalf("an old frame (index %d) was kept", cache.m[k].Index)
		}
	}
}

// Readers on many goroutines share one cache safely (run with -race).
func TestPushCacheConcurrentReaders(t *testing.T) {
	cache := NewPushCache(ServerLimits)
	var stream []byte
	for i := range 100 {
		stream = append(stream, pushFrame(t, uint64(i%10+1))...)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := NewReader(bytes.NewReader(stream), ServerLimits.MaxFrame)
			r.SharePushes(cache)
			for i := range 100 {
				m, err := r.ReadMessage(ServerLimits)
				if err != nil {
					t.Error(err)
					return
				}
				if ix := m.(*Events).Index; ix != uint64(i%10+1) {
					t.Errorf("frame %d decoded as index %d", i, ix)
					return
				}
			}
		}()
	}
	wg.Wait()
}
